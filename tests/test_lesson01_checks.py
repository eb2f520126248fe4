"""Lesson 01's checks fail on realistic mistakes and pass correct variants."""

import numpy as np
import pytest
from helpers import failure_of, hidden_score

from autograder import lesson01 as check
from autograder.feedback import CheckFailure


def hidden(name, func):
    """Hidden points of `func` for exercise `name`, scored by the judge."""
    return hidden_score(check, name, func)

LESSON = "01_dense_translation"






# ----------------------------------------------------------- mean_image ---

def mean_loop(images, labels, digit):
    total, count = np.zeros(images.shape[1:]), 0
    for image, label in zip(images, labels):
        if label == digit:
            total += image
            count += 1
    if count == 0:
        raise ValueError("no such digit")
    return total / count


def mean_uint8_running_sum(images, labels, digit):
    total, count = np.zeros(images.shape[1:], dtype=np.uint8), 0
    for image, label in zip(images, labels):
        if label == digit:
            total += image
            count += 1
    if count == 0:
        raise ValueError("no such digit")
    return total / count


def mean_of_all_digits(images, labels, digit):
    if digit not in labels:
        raise ValueError("no such digit")
    return images.mean(axis=0)


def mean_without_value_error(images, labels, digit):
    return images[labels == digit].mean(axis=0)


def mean_as_integers(images, labels, digit):
    if digit not in labels:
        raise ValueError("no such digit")
    return images[labels == digit].mean(axis=0).astype(np.uint8)


def test_mean_image_passes_reference_and_loop(ref, capsys):
    check.mean_image(ref.mean_image)
    check.mean_image(mean_loop)
    assert "\u2714 mean_image" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (mean_uint8_running_sum, "uint8 overflow"),
    (mean_of_all_digits, "mean over all digits"),
    (mean_without_value_error, "raise ValueError"),
    (mean_as_integers, "dtype uint8, expected a float dtype"),
])
def test_mean_image_names_the_mistake(student, clue):
    assert clue in failure_of(check.mean_image, student)


def test_hidden_mean_image_scores(ref):
    assert hidden("mean_image", ref.mean_image) == 2.0
    assert hidden("mean_image", mean_loop) == 2.0
    assert hidden("mean_image", mean_uint8_running_sum) < 2.0
    assert hidden("mean_image", mean_of_all_digits) < 1.0


# ---------------------------------------------------------- shift_image ---

def shift_loops(image, dx, dy=0):
    height, width = image.shape
    shifted = np.zeros_like(image)
    for row in range(height):
        for col in range(width):
            if 0 <= row - dy < height and 0 <= col - dx < width:
                shifted[row, col] = image[row - dy, col - dx]
    return shifted


def shift_with_pad(image, dx, dy=0):
    height, width = image.shape
    pad = max(height, width, abs(dx), abs(dy))
    padded = np.pad(image, pad)
    top, left = pad - dy, pad - dx
    return padded[top:top + height, left:left + width].copy()


def shift_roll(image, dx, dy=0):
    return np.roll(image, (dy, dx), axis=(0, 1))


def shift_reversed(image, dx, dy=0):
    return shift_loops(image, -dx, -dy)


def shift_swapped(image, dx, dy=0):
    return shift_loops(image, dy, dx)


def shift_in_place(image, dx, dy=0):
    image[:] = shift_loops(image.copy(), dx, dy)
    return image


def shift_to_float(image, dx, dy=0):
    return shift_loops(image, dx, dy).astype(np.float64)


def shift_crashes_on_big_shifts(image, dx, dy=0):
    height, width = image.shape
    if abs(dx) >= width or abs(dy) >= height:
        raise IndexError("shift too large")
    return shift_loops(image, dx, dy)


def test_shift_image_passes_correct_variants(ref, capsys):
    for student in (ref.shift_image, shift_loops, shift_with_pad):
        check.shift_image(student)
    assert "\u2714 shift_image" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (shift_roll, "np.roll"),
    (shift_reversed, "wrong way"),
    (shift_swapped, "Rows and columns swapped"),
    (shift_in_place, "modified its input"),
    (shift_to_float, "dtype float64, expected uint8"),
    (shift_crashes_on_big_shifts, "raised IndexError"),
])
def test_shift_image_names_the_mistake(student, clue):
    assert clue in failure_of(check.shift_image, student)


def test_shift_image_message_shows_first_differing_value():
    message = failure_of(check.shift_image, shift_roll)
    assert message.startswith("shift_image(image, dx=2, dy=0): ")
    assert "first at index [0, 0]: got 5, expected 0" in message


def test_hidden_shift_image_scores(ref):
    assert hidden("shift_image", ref.shift_image) == 3.0
    assert hidden("shift_image", shift_with_pad) == 3.0
    assert hidden("shift_image", shift_roll) < 1.0
    assert hidden("shift_image", shift_reversed) < 1.0


def test_hard_coding_the_visible_cases_fails_hidden_tests(ref):
    visible = {}
    cases = check.visible_inputs()["shift_image"]
    for dx, dy in cases["shifts"]:
        visible[(dx, dy)] = ref.shift_image(cases["image"], dx, dy)

    def memorised(image, dx, dy=0):
        if image.dtype == np.uint8 and (dx, dy) in visible:
            return visible[(dx, dy)]
        if image.dtype != np.uint8 and (dx, dy) == (2, -1):
            return ref.shift_image(image, dx, dy)
        return image.copy()

    check.shift_image(memorised)  # fools the visible check, not hidden
    assert hidden("shift_image", memorised) < 1.0


def test_objects_that_equal_anything_get_nothing():
    class EqualsAnything(np.ndarray):
        def __eq__(self, other):
            return True

        def __ne__(self, other):
            return False

    def cheat(image, dx, dy=0):
        return np.zeros((1, 1), dtype=image.dtype).view(EqualsAnything)

    class NotAnArray:
        shape = (5, 6)

        def __eq__(self, other):
            return True

    assert "shape (1, 1), expected (5, 6)" in failure_of(check.shift_image,
                                                        cheat)
    assert "returned NotAnArray" in failure_of(
        check.shift_image, lambda image, dx, dy=0: NotAnArray())


def test_not_implemented_gives_a_short_message():
    def stub(image, dx, dy=0):
        raise NotImplementedError()

    message = failure_of(check.shift_image, stub)
    assert message.startswith("shift_image is not implemented yet.")
    assert len(message.splitlines()) == 2


def test_failure_renders_without_traceback():
    failure = CheckFailure("first line\nsecond line")
    assert failure._render_traceback_() == ["\u2718 first line",
                                            "  second line"]


# ---------------------------------------------------- build_dense_model ---

def keras2_style(keras):
    def build(num_pixels=784, num_classes=10):
        model = keras.Sequential([
            keras.layers.Dense(1024, input_dim=num_pixels,
                               activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(),
                      loss=keras.losses.CategoricalCrossentropy(),
                      metrics=[keras.metrics.CategoricalAccuracy()])
        return model
    return build


def variant(keras, units=1024, output_activation="softmax",
            optimizer="adam", loss="categorical_crossentropy",
            extra_layer=False, compiled=True, with_input=True):
    def build(num_pixels=784, num_classes=10):
        layers = [keras.Input(shape=(num_pixels,))] if with_input else []
        layers.append(keras.layers.Dense(units, activation="relu"))
        if extra_layer:
            layers.append(keras.layers.Dense(128, activation="relu"))
        layers.append(keras.layers.Dense(num_classes,
                                         activation=output_activation))
        model = keras.Sequential(layers)
        if compiled:
            model.compile(optimizer=optimizer, loss=loss,
                          metrics=["accuracy"])
        return model
    return build


def test_build_dense_model_passes_correct_variants(ref, keras, capsys):
    check.build_dense_model(ref.build_dense_model)
    check.build_dense_model(keras2_style(keras))
    check.build_dense_model(variant(
        keras, optimizer=keras.optimizers.Adam(),
        loss=keras.losses.categorical_crossentropy))
    assert "\u2714 build_dense_model" in capsys.readouterr().out


@pytest.mark.parametrize("changes, clue", [
    ({"units": 512}, "layer 0 is Dense(512, relu), expected Dense(1024"),
    ({"output_activation": "sigmoid"}, "expected Dense(10, softmax)"),
    ({"optimizer": "sgd"}, "optimizer is SGD, expected Adam"),
    ({"loss": "sparse_categorical_crossentropy"}, "one-hot"),
    ({"extra_layer": True}, "3 layers"),
    ({"compiled": False}, "not compiled"),
    ({"with_input": False}, "no input shape"),
])
def test_build_dense_model_names_the_mistake(keras, changes, clue):
    assert clue in failure_of(check.build_dense_model,
                              variant(keras, **changes))


def test_hidden_build_dense_model_scores(ref, keras):
    assert hidden("build_dense_model", ref.build_dense_model) == 2.0
    assert hidden("build_dense_model", keras2_style(keras)) == 2.0
    assert hidden("build_dense_model", variant(keras, units=64)) < 1.0


def test_visible_expectations_are_fresh():
    from trusted_grader import expected_files as expected

    assert expected.stale_lessons() == []
