"""Lesson 05's checks answer in Chinese in a Chinese notebook and in
English otherwise: the same mistakes, both languages, the same numbers."""

import numpy as np
from helpers import LESSON05, chinese, in_both_languages
from helpers import failures_in_both_languages as both
from test_lesson05_checks import (
    conv_bias_per_position,
    conv_no_flip,
    dense_averaged,
    dense_transposed,
    loss_not_averaged,
    loss_per_image,
    loss_unstable,
    pool_every_element,
    pool_every_maximum,
    relu_at_zero,
)

from autograder import lesson05 as check
from cnn_course import messages
from trusted_grader.judging.hidden import lesson05 as hidden

LESSON = LESSON05


def english(text):
    """English, and no Chinese character."""
    return not chinese(text)


def test_loss_not_averaged_in_both_languages():
    zh, en = both(check.softmax_cross_entropy, loss_not_averaged)
    assert "That is 4 times the gradient" in en and english(en)
    assert "这是梯度的 4 倍" in zh and "除以批次大小" in zh
    assert "'s dlogits" not in zh and " 的 dlogits：有 20 个值不同" in zh
    assert "got -0.890229, expected -0.222557" in en
    assert "得到 -0.890229，应为 -0.222557" in zh


def test_loss_shape_and_overflow_in_both_languages():
    zh, en = both(check.softmax_cross_entropy, loss_per_image)
    assert "the loss has shape (4,); expected one number" in en
    assert "损失的形状为 (4,)；应为一个数" in zh and english(en)

    zh, en = both(check.softmax_cross_entropy, loss_unstable)
    assert "not finite (nan or inf) for logits as large as 1000.0" in en
    assert "当 logits 大到 1000.0 时" in zh and "nan 或 inf" in zh
    # The formula is the same in both.
    formula = "log softmax(z)_k = (z_k - m) - log sum_j exp(z_j - m)"
    assert formula in en and formula in zh
    assert "Subtract each row's largest logit" not in zh


def test_dense_hints_in_both_languages():
    zh, en = both(check.dense_backward, dense_transposed)
    assert "'s dW: shape (2, 3), expected (3, 2)." in en and english(en)
    assert " 的 dW：形状为 (2, 3)，应为 (3, 2)。" in zh
    assert "x.T @ grad_out, not grad_out.T @ x" in en
    assert "应为 x.T @ grad_out，而不是 grad_out.T @ x" in zh

    zh, en = both(check.dense_backward, dense_averaged)
    assert en.endswith("so sum over the batch without dividing.")
    assert "多除了批次大小" in zh and "1/B" in zh
    assert "Divided by the batch size" not in zh


def test_relu_at_zero_in_both_languages():
    zh, en = both(check.relu_backward, relu_at_zero)
    assert "At x == 0 the gradient is 0" in en and english(en)
    assert "got 3, expected 0" in en
    assert "在 x == 0 处梯度为 0" in zh and "只在 x > 0 处传递 grad_out" in zh
    assert "得到 3，应为 0" in zh and "TensorFlow" in zh


def test_pooling_hints_in_both_languages():
    zh, en = both(check.max_pool2d_backward, pool_every_maximum)
    assert "Every tied maximum got the whole gradient" in en and english(en)
    assert "8 value(s) differ" in en
    assert "每个并列的最大值都得到了全部梯度" in zh and "np.argmax" in zh
    assert "有 8 个值不同" in zh and "size=2)：" in zh

    zh, en = both(check.max_pool2d_backward, pool_every_element)
    assert "Every element of each window got the gradient" in en
    assert "每个窗口的每个元素都得到了梯度" in zh and "有 72 个值不同" in zh


def test_convolution_hints_in_both_languages():
    zh, en = both(check.conv2d_layer_backward, conv_no_flip)
    assert "The kernel flip is missing" in en and english(en)
    assert "缺少卷积核的翻转" in zh and "180 度" in zh
    assert "kernels[::-1, ::-1]" in zh and "第 02 课" in zh
    assert "有 180 个值不同" in zh and "180 value(s) differ" in en

    zh, en = both(check.conv2d_layer_backward, conv_bias_per_position)
    assert "'s dbias: shape (3, 5, 2), expected (2,)." in en
    assert " 的 dbias：形状为 (3, 5, 2)，应为 (2,)。" in zh
    assert "对轴 (0, 1, 2) 求和" in zh and english(en)


def test_passed_lines_in_both_languages(ref, capsys):
    with messages.use_language("zh-CN"):
        check.relu_backward(ref.relu_backward)
        check.dense_backward(ref.dense_backward)
    out = capsys.readouterr().out
    assert "\u2714 relu_backward：x > 0 处为 grad_out，x <= 0 处为 0" in out
    assert "\u2714 dense_backward：dx = grad_out @ W.T" in out
    check.relu_backward(ref.relu_backward)
    assert "\u2714 relu_backward: grad_out where x > 0, 0 where x <= 0." in \
        capsys.readouterr().out


def test_weights_layout_in_both_languages():
    """train_cnn's layout check, without training."""
    weights = [np.zeros(shape, np.float32) for shape in check.WEIGHT_SHAPES]
    weights[4] = weights[4].T
    zh, en = in_both_languages(
        lambda: check.weights_problem(weights, "train_cnn(...)"))
    assert en == ("train_cnn(...): W has shape (10, 400), expected "
                  "(400, 10) (Keras' layout).")
    assert zh == ("train_cnn(...)：W 的形状为 (10, 400)，应为 (400, 10)"
                  "（Keras 的布局）。")

    zh, en = in_both_languages(
        lambda: check.weights_problem(weights[:4], "train_cnn(...)"))
    assert "returned a list of 4; expected a list of the 6 weight" in en
    assert "返回了 一个含 4 项的 list；应返回由 6 个权重数组组成的列表" in zh


def test_hidden_accuracy_in_both_languages(ref):
    """The judge's accuracy verdict keeps its formatted numbers: an
    all-zero network predicts 0 everywhere, right on 5 of 20 digits."""
    def untrained(images, labels, epochs, batch_size, learning_rate, seed):
        return [np.zeros(shape, np.float32)
                for shape in check.WEIGHT_SHAPES]

    images = np.zeros((4, 28, 28), np.uint8)
    test_labels = np.array([0] * 5 + [1] * 15)
    settings = {"epochs": 1, "batch_size": 2, "learning_rate": 0.1,
                "seed": 0}
    zh, en = in_both_languages(lambda: hidden.train_problem(
        untrained, ref, images, np.zeros(4, np.int64), settings,
        np.zeros((20, 28, 28), np.uint8), test_labels))
    bar = f"{hidden.HIDDEN_ACCURACY:.0%}"
    assert ("reads 25.0% of 20 test digits it was not trained on; at "
            f"least {bar} expected.") in en and english(en)
    assert "在 20 张没有参与训练的测试数字图像上" in zh
    assert f"只认对了 25.0%；应至少达到 {bar}。" in zh
    assert "training digits" not in zh

    zh, en = in_both_languages(lambda: messages.t(
        "{count} training digits, {epochs} epochs", count=3000, epochs=2))
    assert (zh, en) == ("3000 张训练数字图像，2 轮",
                        "3000 training digits, 2 epochs")


def test_hidden_case_lines_in_both_languages(capsys):
    with messages.use_language("zh-CN"):
        hidden.hidden_relu_backward(relu_at_zero, 1.0,
                                    np.random.default_rng(0))
    in_chinese = capsys.readouterr().out
    assert "在 x == 0 处梯度为 0" in in_chinese
    assert "通过 0/3 个隐藏测试用例" in in_chinese
    assert "hidden cases passed" not in in_chinese
    hidden.hidden_relu_backward(relu_at_zero, 1.0, np.random.default_rng(0))
    in_english = capsys.readouterr().out
    assert "At x == 0 the gradient is 0" in in_english
    assert "0/3 hidden cases passed" in in_english
    assert not chinese(in_english)
