"""Lessons 01 and 04 (and the judge's robustness criterion) answer in the
notebook's language: Chinese in a Chinese notebook, English otherwise."""

import numpy as np
from helpers import LESSON01, chinese
from helpers import failures_in_both_languages as failures
from helpers import in_both_languages as in_both
from test_lesson01_checks import (
    mean_uint8_running_sum,
    mean_without_value_error,
    shift_minus_zero,
    shift_roll,
)

from autograder import lesson01, lesson04
from cnn_course import messages
from trusted_grader.judging import robustness
from trusted_grader.judging.hidden import lesson01 as hidden01

LESSON = LESSON01


# ------------------------------------------------------------ lesson 01 ---

def test_mean_image_hint_is_chinese_in_a_chinese_notebook():
    zh, en = failures(lesson01.mean_image, mean_uint8_running_sum)
    assert "uint8 上溢" in zh and "np.mean" in zh
    assert "uint8 overflow" not in zh
    assert "uint8 overflow: the running sum wrapped around at 256." in en
    assert not chinese(en)


def test_missing_value_error_is_named_in_both_languages():
    zh, en = failures(lesson01.mean_image, mean_without_value_error)
    assert chinese(zh) and "ValueError" in zh
    assert "mean_image(<uint8 array (9, 4, 5)>" in zh  # the call, as code
    assert "returned a value, but no image has label 7" in en
    assert not chinese(en)


def test_a_value_error_is_recognised_and_the_pass_line_translated(ref,
                                                                  capsys):
    with messages.use_language("zh-CN"):
        lesson01.mean_image(ref.mean_image)
    zh = capsys.readouterr().out
    with messages.use_language("en"):
        lesson01.mean_image(ref.mean_image)
    en = capsys.readouterr().out
    assert zh.startswith("\u2714 mean_image：") and chinese(zh)
    assert en.startswith("\u2714 mean_image: right means")


def test_zero_shift_hint_follows_a_chinese_error_message():
    zh, en = failures(lesson01.shift_image, shift_minus_zero)
    first, *hints = zh.splitlines()
    assert "ValueError" in first  # NumPy's error, after the call
    assert hints and "-0 就是 0" in hints[-1]
    assert "image[:-dy]" in hints[-1] and "image[:-0]" in hints[-1]
    assert en.endswith("shift of 0 separately.")
    assert "which is empty because -0 is 0" in en


def test_roll_hint_is_chinese():
    zh, en = failures(lesson01.shift_image, shift_roll)
    assert "看起来像 np.roll" in zh
    assert "Looks like np.roll: content wrapped around" in en


def test_hidden_case_descriptions_are_chinese(capsys):
    rng_seed = 3
    with messages.use_language("zh-CN"):
        hidden01.hidden_shift_image(shift_roll, 3.0,
                                    np.random.default_rng(rng_seed))
    zh = capsys.readouterr().out
    with messages.use_language("en"):
        hidden01.hidden_shift_image(shift_roll, 3.0,
                                    np.random.default_rng(rng_seed))
    en = capsys.readouterr().out
    assert "平移整个宽度得到全 0" in zh and "float32 图像" in zh
    assert "看起来像 np.roll" in zh
    assert "shift by the full width gives zeros" in en
    assert "float32 image" in en and "Looks like np.roll" in en


# ------------------------------------------- the robustness criterion ---

def result(accuracies):
    return {"accuracies": dict(zip(robustness.SHIFTS, accuracies)),
            "seconds": 1.0}


def test_robustness_messages_are_chinese():
    cases = [
        ((0.3, 0.3, 0.4, 0.3, 0.3), "0.40", "hardly learned"),
        ((0.2, 0.9, 0.95, 0.9, 0.8), "-2 px", "did not learn to read"),
        ((0.55, 0.6, 0.65, 0.6, 0.6), "-2 px", "(needs >= 0.60)."),
    ]
    for accuracies, shown, english in cases:
        zh, en = in_both(
            lambda a=accuracies: robustness.robustness_problem(result(a)))
        assert chinese(zh) and shown in zh, zh
        assert zh.startswith("经评分程序的短时训练后")
        assert en.startswith("after the grader's short training it scored")
        assert english in en and shown in en
    zh, _ = in_both(lambda: robustness.robustness_problem(
        result((0.2, 0.9, 0.95, 0.9, 0.8))))
    assert "70%" in zh
    assert robustness.robustness_problem(
        result((0.9, 0.9, 0.9, 0.9, 0.9))) is None


# ------------------------------------------------------------ lesson 04 ---

def test_shifted_accuracy_messages_are_chinese(keras):
    def as_list(model, images, labels, shifts):
        return [0.5] * len(shifts)

    zh, en = failures(lesson04.shifted_accuracy, as_list)
    assert "返回了 list；应返回 dict" in zh
    assert "returned list; expected a dict." in en


def test_an_uncompiled_model_is_named_in_chinese_to_the_judge(keras):
    model = keras.Sequential([keras.Input(shape=robustness.INPUT_SHAPE),
                              keras.layers.Flatten(),
                              keras.layers.Dense(10)])

    def rebuild_error():
        try:
            robustness.rebuild(model, 0)
        except ValueError as error:
            return str(error)
        raise AssertionError("rebuild accepted an uncompiled model")

    zh, en = in_both(rebuild_error)
    assert zh == "模型尚未编译"
    assert en == "the model is not compiled"
