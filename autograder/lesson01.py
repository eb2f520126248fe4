"""Checks for lesson 01: mean_image, shift_image, build_dense_model."""

import re

import numpy as np

from autograder import models
from autograder.exercise import Lesson
from autograder.feedback import (
    CheckFailure,
    call,
    close_array,
    compare_arrays,
    raised,
    render_call,
    require_array,
    same_array,
)
from cnn_course.messages import t

lesson = Lesson("01_dense_translation", seed=101)
# Each exercise is declared once, in its own section below
# (`autograder.exercise`); EXERCISES, FROM_SCRATCH, hidden_<exercise>, ...
# come from the declarations (`Lesson.attribute`).
__getattr__ = lesson.attribute
# NumPy's error for a slice assignment whose shapes do not fit.
_BROADCAST_SHAPES = re.compile(
    r"could not broadcast input array from shape \(([\d, ]*)\) into "
    r"shape \(([\d, ]*)\)")


# ----------------------------------------------------------- mean_image ---

def mean_inputs(rng):
    """Bright pixels, several images per digit: a uint8 running sum
    wraps."""
    images = rng.integers(180, 256, size=(9, 4, 5), dtype=np.uint8)
    labels = np.array([1, 3, 1, 2, 1, 3, 0, 1, 2], dtype=np.uint8)
    return {"images": images, "labels": labels, "digits": [1, 3, 0],
            "absent_digit": 7}


def mean_expected(ref, case):
    case["expected"] = [
        ref.mean_image(case["images"], case["labels"], digit)
        for digit in case["digits"]
    ]


def mean_problem(mean_image, images, labels, digit, want):
    """Message for what mean_image got wrong on one case, or None."""
    images_before = images.copy()
    got = call(mean_image, "mean_image", images, labels, digit)
    what = render_call("mean_image", (images, labels, digit))
    got = require_array(got, what)
    if not same_array(images, images_before):
        return t("{what} modified `images`; work on a copy.", what=what)
    problem = compare_arrays(got, want, what, atol=1e-4, rtol=1e-5,
                             dtype="float")
    if problem is None:
        return None
    hint = _mean_hint(got, images, labels, digit)
    return f"{problem}\n{hint}" if hint else problem


def _mean_hint(got, images, labels, digit):
    """Name the likely mistake by recognising its result."""
    if got.shape != images.shape[1:]:
        if got.shape == (1, *images.shape[1:]):
            return t("Drop the extra axis: average over axis 0 only.")
        return t("The result must have one image's shape (H, W): average "
                 "over axis 0, the image axis.")
    all_mean = images.astype(np.float64).mean(axis=0)
    if close_array(got, all_mean):
        return t("That is the mean over all digits: keep only the images "
                 "whose label equals `digit`.")
    selected = images[labels == digit]
    wrapped = np.zeros(images.shape[1:], dtype=np.uint8)
    for image in selected:
        wrapped += image  # the learner's likely uint8 running sum
    if len(selected) and close_array(got, wrapped / len(selected)):
        return t("uint8 overflow: the running sum wrapped around at 256. "
                 "Convert to float before adding (or use np.mean).")
    if got.dtype.kind != "f":
        return t("Return floats: the mean of integers is rarely an integer.")
    return None


def expect_value_error(mean_image, images, labels, digit):
    """Raise CheckFailure unless mean_image raises ValueError for a
    digit no image shows."""
    try:
        call(mean_image, "mean_image", images, labels, digit)
    except CheckFailure as failure:
        # Its exact type, not a subclass: the judge replays the name.
        if type(raised(failure)).__name__ == "ValueError":
            return
        raise
    raise CheckFailure(t(
        "{what} returned a value, but no image has label {digit}: raise "
        "ValueError with a clear message (np.mean of nothing is nan, with "
        "only a warning).",
        what=render_call("mean_image", (images, labels, digit)),
        digit=digit))


@lesson.exercise(parameters=("images", "labels", "digit"),
                 inputs=mean_inputs, expected=mean_expected,
                 problem=mean_problem)
def mean_image(mean_image, case):
    """Visible check of mean_image on fixed cases."""
    for digit, want in zip(case["digits"], case["expected"]):
        yield mean_problem(mean_image, case["images"], case["labels"],
                           digit, want)
    expect_value_error(mean_image, case["images"], case["labels"],
                       case["absent_digit"])
    return t("mean_image: right means, float dtype, ValueError for a "
             "digit with no images.")


# ---------------------------------------------------------- shift_image ---

def shift_inputs(rng):
    """A 5x6 image with values 1..30 (none 0, so anything left behind or
    wrapped around shows) and shifts both ways on both axes, of 0 and
    past the edge."""
    del rng  # no random values
    image = np.arange(1, 31, dtype=np.uint8).reshape(5, 6)
    shifts = [(2, 0), (-3, 0), (0, 1), (0, -2), (1, 1), (-2, 3), (0, 0),
              (6, 0), (0, -5), (-10, 4)]
    return {"image": image, "float_image": image / 10.0, "shifts": shifts}


def shift_expected(ref, case):
    """The shifted image, and what the usual mistakes give: the shift
    reversed, dx and dy swapped."""
    image = case["image"]
    case["expected"] = [
        {"moved": ref.shift_image(image, dx, dy),
         "reversed": ref.shift_image(image, -dx, -dy),
         "swapped": ref.shift_image(image, dy, dx)}
        for dx, dy in case["shifts"]
    ]
    case["float_expected"] = ref.shift_image(case["float_image"], 2, -1)


def _shift_too_far(image, dx, dy):
    return abs(dx) >= image.shape[1] or abs(dy) >= image.shape[0]


def _zero_shift_hint(name):
    """The negative-end slice that a shift of 0 (`name`) empties."""
    slice_text, fix = (("image[:-dy]", "image[:height - dy]")
                       if name == "dy" else
                       ("image[:, :-dx]", "image[:, :width - dx]"))
    return t("{name} is 0 here, and a slice such as {slice_text} is then "
             "{emptied}, which is empty because -0 is 0. Slice up to the "
             "size instead ({fix}) or handle a shift of 0 separately.",
             name=name, slice_text=slice_text,
             emptied=slice_text.replace(name, "0"), fix=fix)


def _too_far_hint(image, dx, dy):
    height, width = image.shape[:2]
    return t("A shift as large as the image (here dx={dx}, dy={dy} on "
             "{height} rows x {width} columns) moves all content out: the "
             "result must be all zeros. Check abs(dx) >= width or "
             "abs(dy) >= height first and return np.zeros_like(image).",
             dx=dx, dy=dy, height=height, width=width)


def _emptied_by_zero_shift(message, dx, dy):
    """The zero shift ("dy" or "dx") along whose axis NumPy's broadcast
    error shows an empty slice, or None. E.g. "could not broadcast input
    array from shape (0,4) into shape (5,4)" for dy=0: image[:-0]."""
    found = _BROADCAST_SHAPES.search(message)
    if not found:
        return None
    shapes = [tuple(int(n) for n in re.findall(r"\d+", group))
              for group in found.groups()]
    for name, shift, axis in (("dy", dy, 0), ("dx", dx, 1)):
        if shift == 0 and any(len(shape) == 2 and shape[axis] == 0
                              for shape in shapes):
            return name
    return None


def _shift_error_hints(message, image, dx, dy):
    """Hints for a shift_image that raised: a slice emptied by a shift
    of 0 (x[:-0]), or a shift as large as the image."""
    hints = []
    zero_shift = _emptied_by_zero_shift(message, dx, dy)
    if zero_shift:
        hints.append(_zero_shift_hint(zero_shift))
    if _shift_too_far(image, dx, dy):
        hints.append(_too_far_hint(image, dx, dy))
    return hints


def shift_problem(shift_image, image, dx, dy, want, reversed_, swapped):
    """Message for what shift_image got wrong on one case, or None."""
    before = image.copy()
    what = render_call("shift_image", (image, dx, dy))
    try:
        got = call(shift_image, "shift_image", image, dx, dy)
    except CheckFailure as failure:
        hints = _shift_error_hints(failure.message, image, dx, dy)
        if raised(failure) is not None and hints:
            return "\n".join([failure.message, *hints])
        raise
    got = require_array(got, what)
    if not same_array(image, before) or image.dtype != before.dtype:
        return t("{what} modified its input image; build a new array "
                 "(e.g. np.zeros_like(image)) instead.", what=what)
    problem = compare_arrays(got, want, what)
    if problem is None:
        return None
    if got.shape == want.shape and got.dtype == want.dtype:
        rolled = np.roll(image, (dy, dx), axis=(0, 1))
        if same_array(got, rolled) and (dx or dy):
            return problem + "\n" + t(
                "Looks like np.roll: content wrapped around to the other "
                "side. Vacated pixels must be 0.")
        if same_array(got, reversed_):
            return problem + "\n" + t(
                "Moved the wrong way: positive dx moves content right, "
                "positive dy moves it down.")
        if same_array(got, swapped):
            return problem + "\n" + t(
                "Rows and columns swapped: dx moves columns (axis 1), dy "
                "moves rows (axis 0).")
        if _shift_too_far(image, dx, dy):
            return f"{problem}\n{_too_far_hint(image, dx, dy)}"
        if not (got[want == 0] == 0).all():
            return problem + "\n" + t(
                "Vacated pixels must be 0; nothing may wrap around or stay "
                "behind.")
    elif got.shape != want.shape:
        return problem + "\n" + t(
            "Keep the input's shape: pad with zeros where content leaves, "
            "do not crop or grow.")
    else:
        return problem + "\n" + t(
            "Return the same dtype as the input (np.zeros_like(image) "
            "keeps it).")
    return problem


@lesson.exercise(parameters=("image", "dx", "dy"), inputs=shift_inputs,
                 expected=shift_expected, problem=shift_problem)
def shift_image(shift_image, case):
    """Visible check of shift_image on a 5x6 image with values 1..30."""
    image = case["image"]
    for (dx, dy), want in zip(case["shifts"], case["expected"]):
        yield shift_problem(shift_image, image, dx, dy, want["moved"],
                            want["reversed"], want["swapped"])
    yield shift_problem(shift_image, case["float_image"], 2, -1,
                        case["float_expected"], None, None)
    return t("shift_image: right direction, zeros fill, no wrap-around, "
             "shape and dtype kept, input untouched.")


# ---------------------------------------------------- build_dense_model ---

def dense_inputs(rng):
    del rng  # no random values
    return {"sizes": [[784, 10], [20, 3]]}


def dense_expected(ref, case):
    case["expected"] = [
        models.describe(ref.build_dense_model(num_pixels, num_classes))
        for num_pixels, num_classes in case["sizes"]
    ]


def dense_problem(build_dense_model, num_pixels, num_classes, want):
    """Message for what the built model gets wrong, or None."""
    what = render_call("build_dense_model", (),
                       {"num_pixels": num_pixels, "num_classes": num_classes})
    model = call(build_dense_model, "build_dense_model",
                 num_pixels=num_pixels, num_classes=num_classes)
    return models.architecture_problem(
        what, model, want, input_hint="keras.Input(shape=(num_pixels,))")


@lesson.exercise(parameters=("num_pixels", "num_classes"),
                 inputs=dense_inputs, expected=dense_expected,
                 problem=dense_problem)
def build_dense_model(build_dense_model, case):
    """Visible check of the dense model's layers and compile settings."""
    for (num_pixels, num_classes), want in zip(case["sizes"],
                                               case["expected"]):
        yield dense_problem(build_dense_model, num_pixels, num_classes,
                            want)
    return t("build_dense_model: Dense(1024, relu) -> Dense(num_classes, "
             "softmax), adam, categorical cross-entropy, accuracy.")
