"""Lesson 01's checks fail on realistic mistakes and pass correct variants."""

import numpy as np
import pytest
from helpers import failure_of, hidden_points, judged

from autograder import lesson01 as check
from autograder.feedback import CheckFailure

hidden = hidden_points(check)

LESSON = check.LESSON






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


def shift_minus_zero(image, dx, dy=0):
    """The common slicing answer: out[dy:, dx:] = image[:-dy, :-dx] and
    its mirror for negative shifts; image[:-0] is empty."""
    shifted = np.zeros_like(image)
    rows_to = slice(dy, None) if dy >= 0 else slice(None, dy)
    rows_from = slice(None, -dy) if dy >= 0 else slice(-dy, None)
    cols_to = slice(dx, None) if dx >= 0 else slice(None, dx)
    cols_from = slice(None, -dx) if dx >= 0 else slice(-dx, None)
    shifted[rows_to, cols_to] = image[rows_from, cols_from]
    return shifted


def shift_by_size(image, dx, dy=0):
    """Slices up to the size: right for 0, wrong for shifts past the
    image (width + dx < 0 counts from the end)."""
    height, width = image.shape
    shifted = np.zeros_like(image)
    rows_to, rows_from = (slice(dy, height), slice(0, height - dy)) \
        if dy >= 0 else (slice(0, height + dy), slice(-dy, height))
    cols_to, cols_from = (slice(dx, width), slice(0, width - dx)) \
        if dx >= 0 else (slice(0, width + dx), slice(-dx, width))
    shifted[rows_to, cols_to] = image[rows_from, cols_from]
    return shifted


def shift_clamped(image, dx, dy=0):
    """Clamps the shift to avoid errors: one column stays behind."""
    height, width = image.shape
    dx = max(-width + 1, min(dx, width - 1))
    dy = max(-height + 1, min(dy, height - 1))
    return shift_by_size(image, dx, dy)


ZERO_SHIFT_HINT = ("dy is 0 here, and a slice such as image[:-dy] is then "
                   "image[:-0], which is empty because -0 is 0. Slice up to "
                   "the size instead (image[:height - dy]) or handle a "
                   "shift of 0 separately.")
TOO_FAR_HINT = "A shift as large as the image"


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
    (shift_crashes_on_big_shifts, TOO_FAR_HINT),
    (shift_minus_zero, ZERO_SHIFT_HINT),
    (shift_by_size, TOO_FAR_HINT),
    (shift_clamped, TOO_FAR_HINT),
])
def test_shift_image_names_the_mistake(student, clue):
    assert clue in failure_of(check.shift_image, student)


def test_shift_by_minus_zero_gets_a_hint_not_only_numpys_error():
    message = failure_of(check.shift_image, shift_minus_zero)
    assert message == (
        "shift_image(<uint8 array (5, 6)>, dx=2, dy=0) raised ValueError: "
        "could not broadcast input array from shape (0,4) into shape (5,4)"
        f"\n{ZERO_SHIFT_HINT}")


def test_shift_too_far_hint_names_the_case():
    message = failure_of(check.shift_image, shift_by_size)
    assert message.startswith(
        "shift_image(<uint8 array (5, 6)>, dx=-10, dy=4) raised ValueError")
    assert message.endswith(
        "A shift as large as the image (here dx=-10, dy=4 on 5 rows x 6 "
        "columns) moves all content out: the result must be all zeros. "
        "Check abs(dx) >= width or abs(dy) >= height first and return "
        "np.zeros_like(image).")


def test_hidden_shift_image_names_the_slicing_mistakes():
    for student, hint in ((shift_minus_zero, ZERO_SHIFT_HINT),
                          (shift_by_size, TOO_FAR_HINT)):
        results = judged(check, "shift_image", student)
        assert results["hidden_shift_image"]["score"] < 3.0
        assert hint in results["hidden_shift_image"]["output"]
        assert hint in results["test_shift_image"]["output"]
        assert results["test_shift_image"]["score"] == 0.0


def test_shift_image_message_shows_first_differing_value():
    message = failure_of(check.shift_image, shift_roll)
    assert message.startswith(
        "shift_image(<uint8 array (5, 6)>, dx=2, dy=0): ")
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


def test_calls_are_rendered_one_way():
    from autograder.feedback import render_call

    image = np.zeros((5, 6), dtype=np.uint8)
    assert render_call("shift_image", (image, 2, 0)) == \
        "shift_image(<uint8 array (5, 6)>, dx=2, dy=0)"
    assert render_call("build_dense_model", (),
                       {"num_pixels": 20, "num_classes": 3}) == \
        "build_dense_model(num_pixels=20, num_classes=3)"
    assert render_call("mean_image", (image[None], np.arange(1),
                                      np.int64(3))) == (
        "mean_image(<uint8 array (1, 5, 6)>, labels=<int64 array (1,)>, "
        "digit=3)")
    # An exception in the learner's code shows the call the same way.
    message = failure_of(check.shift_image,
                         lambda image, dx, dy=0: image.reshape(7, -1))
    assert message.startswith(
        "shift_image(<uint8 array (5, 6)>, dx=2, dy=0) raised ValueError")


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
    import expected_values as expected

    assert expected.stale_lessons() == []
