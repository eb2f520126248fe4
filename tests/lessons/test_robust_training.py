"""benchmarks.robust_training measures the lesson's design, as asked."""

import pytest

from benchmarks import robust_training
from benchmarks.common import Row


@pytest.fixture(scope="module")
def keras():
    from cnn_course import import_tensorflow

    return import_tensorflow()[1]


def schedule_of(model):
    rate = model.optimizer._learning_rate
    return rate.get_config()


def conv_filters(model):
    return [layer.filters for layer in model.layers
            if hasattr(layer, "filters")]


def test_unchanged_design_is_the_lessons(keras):
    from trusted_grader.judging import reference

    lesson = reference.load("04_keras_cnn").build_robust_cnn()
    measured = robust_training.lesson_design()()
    assert conv_filters(measured) == conv_filters(lesson)
    assert schedule_of(measured) == schedule_of(lesson)
    assert measured.count_params() == lesson.count_params()
    assert ([type(layer).__name__ for layer in measured.layers]
            == [type(layer).__name__ for layer in lesson.layers])


def test_filters_and_epochs_change_only_those(keras):
    model = robust_training.lesson_design([16, 32, 64, 128], epochs=4)()
    assert conv_filters(model) == [16, 32, 64, 128]
    schedule = schedule_of(model)
    # The warm-up is kept; the decay ends with the 4th epoch's last batch.
    assert schedule["warmup_steps"] + schedule["decay_steps"] == 4 * 469
    assert model.output_shape == (None, 10)


def test_wrong_number_of_filters_is_refused(keras):
    with pytest.raises(SystemExit, match="gives 3 counts.*4 Conv2D"):
        robust_training.lesson_design([8, 16, 32])()


@pytest.mark.parametrize("text", ["16,32,x", "0,8,8,8", ""])
def test_bad_filters_text_is_refused(text):
    with pytest.raises(Exception, match="--filters"):
        robust_training.parse_filters(text)


def test_small_run_reports_figures_without_bars(capsys):
    assert robust_training.main(
        ["--epochs", "1", "--train-size", "256", "--test-size", "100",
         "--filters", "4,8,8,8"]) == 0
    table = capsys.readouterr().out
    assert "epoch 1: wall / CPU" in table
    assert "cores used" in table
    # Bars are only judged on the lesson's full data.
    assert " NO" not in table and " yes" not in table


def test_full_size_rows_carry_the_lessons_bars():
    figures = {"epochs": [(30.0, 55.0)], "wall": 200.0, "cpu": 340.0,
               "test": 0.9953, "worst": 0.9936, "worst_shift": 4,
               "load": 0.1, "full_size": True, "filters": [24, 48, 96, 192]}
    verdicts = {row.key: row.met for row in robust_training.rows(figures)}
    assert verdicts["train_seconds"] is False
    assert verdicts["ideal_seconds"] is True
    assert verdicts["test_accuracy"] is True
    assert verdicts["worst_shift_accuracy"] is True
    assert all(isinstance(row, Row)
               for row in robust_training.rows(figures))
