"""Lesson 03's checks answer in Chinese in a Chinese notebook and in
English otherwise: the same mistakes, both languages."""

import numpy as np
from helpers import LESSON03, chinese
from helpers import failures_in_both_languages as both
from test_lesson03_checks import (
    dense_always_transposed,
    relu_abs,
    scipy_relu,
    sigmoid_textbook,
)

from autograder import lesson03 as check
from cnn_course import messages
from trusted_grader.judging.hidden import lesson03 as hidden

LESSON = LESSON03


def softmax_rows_only(z):
    if z.ndim == 1:
        raise IndexError("tuple index out of range")
    exponentials = np.exp(z - z.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def conv_raises(x, kernels, bias):
    raise ValueError("operands could not be broadcast together")


def gradient_sign(images, targets, kernel):
    from trusted_grader.judging import reference

    ref = reference.load(LESSON)
    return -ref.kernel_gradient(images, targets, kernel)


def learn_nothing(images, targets, kernel_size, learning_rate, steps):
    return np.zeros((kernel_size, kernel_size))


def test_relu_hint_in_both_languages():
    in_chinese, in_english = both(check.relu, relu_abs)
    assert "负值必须变为 0" in in_chinese
    assert "not positive" not in in_chinese
    assert in_english.endswith("Negative values must become 0, not "
                               "positive.")
    assert not chinese(in_english)


def test_passed_line_in_both_languages(ref, capsys):
    with messages.use_language("zh-CN"):
        check.relu(ref.relu)
    assert "\u2714 relu：负值变为 0" in capsys.readouterr().out
    check.relu(ref.relu)
    assert "\u2714 relu: negatives become 0" in capsys.readouterr().out


def test_hidden_overflow_in_both_languages():
    in_chinese, in_english = both(check.sigmoid, sigmoid_textbook)
    assert "上溢为 inf" in in_chinese and "np.exp(-np.abs(x))" in in_chinese
    assert "right values, but np.exp overflowed to inf" in in_english
    assert not chinese(in_english)


def test_hints_after_an_exception_in_both_languages():
    # The checks recognise that the learner's function raised from the
    # exception, not from the (translated) message.
    in_chinese, in_english = both(check.softmax, softmax_rows_only)
    assert "IndexError" in in_chinese and "请沿最后一个轴计算" in in_chinese
    assert "work along the last axis (axis=-1)" in in_english

    in_chinese, in_english = both(check.conv2d_layer, conv_raises)
    assert "注意各个形状" in in_chinese
    assert "Remember the shapes: x is (H, W, C_in)" in in_english

    in_chinese, in_english = both(check.dense, dense_always_transposed)
    assert "ValueError" in in_chinese and "不要转置" in in_chinese
    assert "compute x @ W + b, with no transpose" in in_english


def test_cnn_forward_weights_hint_in_both_languages():
    weights = [np.zeros((3, 3, 1, 2)), np.zeros(2), np.zeros((50, 4)),
               np.zeros(4)]
    image, want = np.zeros((12, 12, 1)), np.full(4, 0.25)

    def problem():
        return check.forward_problem(conv_raises_forward, None, weights,
                                      image, want)

    with messages.use_language("zh-CN"):
        in_chinese = problem()
    in_english = problem()
    assert "必须为 dense 给出 50 个数" in in_chinese
    assert "must give 50 numbers for dense" in in_english


def conv_raises_forward(image, weights):
    raise ValueError("matmul: size mismatch")


def test_library_use_in_both_languages():
    in_chinese, in_english = both(check.relu, scipy_relu)
    assert in_chinese.startswith("relu 使用了 import scipy.signal (SciPy)")
    assert "只使用 NumPy" in in_chinese
    assert in_english.startswith("relu uses import scipy.signal (SciPy). "
                                 "This lesson builds every step in NumPy")


def test_kernel_hints_in_both_languages():
    in_chinese, in_english = both(check.kernel_gradient, gradient_sign)
    assert "这是负梯度" in in_chinese
    assert "That is minus the gradient" in in_english

    in_chinese, in_english = both(check.learn_kernel, learn_nothing)
    assert "卷积核仍然全为零" in in_chinese
    assert "The kernel is still all zeros" in in_english


def test_hidden_case_lines_in_both_languages(capsys):
    with messages.use_language("zh-CN"):
        hidden.hidden_relu(relu_abs, 1.0, np.random.default_rng(0))
    in_chinese = capsys.readouterr().out
    assert "形状为 (" in in_chinese and "的 float64 数组" in in_chinese
    assert "负值必须变为 0" in in_chinese
    hidden.hidden_relu(relu_abs, 1.0, np.random.default_rng(0))
    in_english = capsys.readouterr().out
    assert "float64 array of shape (" in in_english
    assert "Negative values must become 0, not positive." in in_english
