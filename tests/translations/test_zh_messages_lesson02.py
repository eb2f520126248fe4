"""Lesson 02's checks answer in Chinese in a Chinese notebook and in
English otherwise: the same mistakes, both languages."""

import numpy as np
from helpers import LESSON02, chinese
from helpers import failures_in_both_languages as both
from test_lesson02_checks import (
    conv_scipy_import,
    conv_sliding_windows,
    conv_true_convolution,
    pool_mixes_channels,
    size_true_division,
)

from autograder import lesson02 as check
from cnn_course import messages

LESSON = LESSON02


def conv_clamps_bad_arguments(image, kernel, stride=1, padding=0):
    """Quietly uses stride 1 and padding 0 where it should refuse."""
    return conv_sliding_windows(image, kernel, max(stride, 1),
                                max(padding, 0))


def test_conv_output_size_float_in_both_languages():
    zh, en = both(check.conv_output_size, size_true_division)
    assert "returned float 3.0, expected the int 3" in en
    assert "floor division" in en and not chinese(en)
    assert chinese(zh) and "应为 int 3" in zh and "`//`" in zh
    assert "floor division" not in zh


def test_flipped_kernel_hint_in_both_languages():
    zh, en = both(check.conv2d, conv_true_convolution)
    assert "the kernel is flipped" in en and not chinese(en)
    assert "卷积核被翻转" in zh and "tf.nn.conv2d" in zh
    assert "the kernel is flipped" not in zh


def test_missing_value_error_in_both_languages():
    zh, en = both(check.conv2d, conv_clamps_bad_arguments)
    assert "raise ValueError" in en and not chinese(en)
    assert "ValueError" in zh and "步幅小于 1" in zh
    assert "stride < 1" not in zh


def test_library_refusal_in_both_languages():
    zh, en = both(check.conv2d, conv_scipy_import)
    assert "import scipy.signal (SciPy)" in en
    assert "computes the convolution from scratch" in en
    assert "import scipy.signal (SciPy)" in zh
    assert "从零实现卷积" in zh and "from scratch" not in zh


def test_pooling_hint_in_both_languages():
    zh, en = both(check.avg_pool2d, pool_mixes_channels)
    assert "Pooling mixes channels" in en and not chinese(en)
    assert "池化混合了通道" in zh


def test_correct_answers_pass_in_chinese(ref, capsys):
    """A ValueError raised on purpose is recognised in Chinese too."""
    with messages.use_language("zh-CN"):
        check.conv_output_size(ref.conv_output_size)
        check.conv2d(conv_sliding_windows)
    out = capsys.readouterr().out
    assert "\u2714 conv_output_size：" in out and "\u2714 conv2d：" in out
    check.conv2d(conv_sliding_windows)
    assert "\u2714 conv2d: cross-correlation" in capsys.readouterr().out


def test_hidden_case_lines_in_both_languages(capsys):
    from trusted_grader.judging.hidden import lesson02 as hidden

    def without_value_error(n, k, stride=1, padding=0):
        return (n + 2 * padding - k) // stride + 1

    with messages.use_language("zh-CN"):
        points = hidden.hidden_conv_output_size(
            without_value_error, 1.0, np.random.default_rng(0))
    zh = capsys.readouterr().out
    assert points < 1.0
    assert "像素的卷积核作用于" in zh and "卷积核放不进填充后的输入" in zh
    assert "pixel" not in zh and "does not fit" not in zh
    hidden.hidden_conv_output_size(without_value_error, 1.0,
                                   np.random.default_rng(0))
    en = capsys.readouterr().out
    assert "-pixel kernel on" in en and not chinese(en)
    assert "but the kernel does not fit in the padded input" in en
