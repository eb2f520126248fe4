"""Checks for lesson 02: conv_output_size, conv2d, avg_pool2d, conv2d_fast.

Every exercise is "from scratch" (graded in a kernel without TensorFlow,
Keras, SciPy, PyTorch or JAX). A conv2d, avg_pool2d or conv2d_fast that
calls a library's convolution or pooling (TensorFlow/Keras, SciPy's signal
or ndimage, PyTorch, ...) fails the visible check with the reason and gets
0 hidden points; conv_output_size is arithmetic, and a library call there
fails when graded like any error. `Scratch`
combines the two detectors of `autograder.feedback`: the function's bytecode
is scanned for library names before it runs (`library_references`), and every
call runs under a profiler that records any call into such a library
(`LibraryWatch`).

The likely mistakes are recognised by comparing the learner's output with
what the reference gives for the mistaken computation (a flipped kernel,
stride 1, padding on one side, inputs truncated to integers, ...), computed
when the expected values are generated, or at grading time for hidden tests.
"""

import time

import numpy as np

from autograder.exercise import Lesson
from autograder.feedback import (
    CheckFailure,
    LibraryWatch,
    call,
    call_seconds,
    close_array,
    compare_arrays,
    format_number,
    library_references,
    name_array,
    pool_arguments,
    recorded_library_use,
    render_call,
    require_array,
    same_array,
)
from cnn_course.messages import t

lesson = Lesson("02_convolution_by_hand", seed=202)
# Each exercise is declared once, in its own section below
# (`autograder.exercise`); EXERCISES, FROM_SCRATCH, hidden_<exercise>, ...
# come from the declarations (`Lesson.attribute`).
__getattr__ = lesson.attribute

# The seed's matrices. The seed gives A's first three rows; the last two are
# the lesson's choice (the notebook says so).
A = np.array([[1, 2, 0, 2, 3],
              [1, 1, 1, 2, 0],
              [3, 3, 2, 1, 2],
              [2, 0, 1, 3, 1],
              [0, 1, 3, 2, 2]])
B = np.array([[3, 1, 1],
              [2, 3, 1],
              [2, 2, 3]])
# Messages show them by the names the lesson gives them: conv2d(A, ...).
name_array("A", A)
name_array("B", B)

# conv2d_fast must be vectorized: one large image, a million windows, in
# SPEED_LIMIT seconds (the grader times the whole test cell, the visible
# check the call). Measured on the course's shared 2-core machine, with the
# checks' library watch on: vectorised NumPy (sliding_window_view with @,
# np.einsum, np.tensordot or a broadcast product and sum; a loop over the 9
# kernel offsets) takes 6 to 120 ms with the machine lightly loaded, up to
# 0.45 s with 6 to 8 busy processes on its 2 cores; under that load the
# reference's test cells took 0.12 to 0.16 s in the grader, and 0.17 to 0.61
# s with two notebooks graded at once. A Python loop over the windows, or
# over the window positions, takes about 2.5 us a window, lightly loaded (2.5
# s here), and 6 to 18 us under that load. One image: with more, a loop over
# window positions that handles every image at once would have fewer steps
# than windows. One kernel: more would slow the honest solutions down, not
# the loops.
SPEED_CASE = {"images": 1, "size": 1002, "filters": 1, "kernel": 3}
SPEED_LIMIT = 1.0
SPEED_TRIES = 3  # another try only after a time within 4 limits
SPEED_SAMPLE = 64  # values of the visible speed case checked
POOL_SIZE = 2  # avg_pool2d's default, as Keras' AveragePooling2D


def _padded_feature_map():
    """conv2d(A, B, padding=1): the lesson's 5x5 feature map."""
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(A, 1), (3, 3))
    return np.einsum("ijuv,uv->ij", windows, B).astype(np.float64)


def _pool_inputs(rng):
    """avg_pool2d's visible cases: each one exposes a likely mistake."""
    # Channel c holds values in [10c, 10c + 1): a value averaged with
    # another channel's is easy to recognise.
    channels = rng.random((6, 6, 3)).round(3) + 10.0 * np.arange(3)
    return [
        # The lesson's padded 29/28/25 feature map: the last row and
        # column do not fit a 2x2 window and are dropped.
        {"x": _padded_feature_map(), "size": 2, "stride": None},
        {"x": rng.integers(0, 10, (6, 6)), "size": 2, "stride": None},
        {"x": channels, "size": 2, "stride": None},
        {"x": rng.permutation(42).reshape(7, 6).astype(np.float64),
         "size": 3, "stride": 2},
        {"x": rng.integers(150, 256, (4, 6), dtype=np.uint8), "size": 2,
         "stride": None},
        {"x": rng.permutation(36).reshape(6, 6).astype(np.float64),
         "size": 3, "stride": None},
    ]


def _or_none(conv2d, *args):
    """conv2d's result, or None where the computation does not exist."""
    try:
        return conv2d(*args)
    except ValueError:
        return None


def conv_variants(conv2d, image, kernel, stride, padding):
    """The reference's result and what the usual mistakes give instead."""
    pad = padding
    variants = {
        "expected": conv2d(image, kernel, stride, padding),
        "flipped": conv2d(image, kernel[::-1, ::-1], stride, padding),
        "transposed": _or_none(conv2d, image, kernel.T, stride, padding),
        "stride_one": conv2d(image, kernel, 1, padding),
        "unpadded": _or_none(conv2d, image, kernel, stride, 0),
        "top_left": _or_none(conv2d, np.pad(image, ((pad, 0), (pad, 0))),
                             kernel, stride, 0),
        "bottom_right": _or_none(conv2d,
                                 np.pad(image, ((0, pad), (0, pad))),
                                 kernel, stride, 0),
        "truncated_inputs": conv2d(np.trunc(image), np.trunc(kernel),
                                   stride, padding),
    }
    # A mistake that gives the right answer here cannot be recognised.
    return {key: None if key != "expected" and value is not None
            and same_array(value, variants["expected"]) else value
            for key, value in variants.items()}


def pool_variants(avg_pool2d, x, size, stride):
    """The reference's result, and stride 1 where the default is tested."""
    return {"expected": avg_pool2d(x, size, stride),
            "stride_one": (avg_pool2d(x, size, 1) if stride is None
                           else None)}


def fast_variants(conv2d_fast, images, kernels):
    return {"expected": conv2d_fast(images, kernels),
            "flipped": conv2d_fast(images, kernels[::-1, ::-1])}


def _speed_sample(want):
    """The speed case's expected values at SPEED_SAMPLE fixed positions:
    enough for the visible check to compare values without storing a
    million.
    Rounded to 1e-5 (the check allows 1e-4), so that the last bits of a
    float32 matrix product, which vary with the BLAS, never change it."""
    rng = np.random.default_rng(222)
    positions = np.stack([rng.integers(0, size, SPEED_SAMPLE)
                          for size in want.shape], axis=1)
    # In index order, so the first that differs is the first reported.
    positions = positions[np.lexsort(positions.T[::-1])]
    values = want[tuple(positions.T)].astype(np.float64)
    return {"positions": positions, "values": np.round(values, 5)}


# ------------------------------------------------ shared by the exercises ---

class Scratch:
    """Calls a from-scratch function, failing it if it uses a library."""

    def __init__(self, func, name):
        self.func, self.name = func, name
        self.problem = None
        found = recorded_library_use(func) or ", ".join(
            library_references(func))
        if found:
            self.problem = _library_message(name, found)

    def __call__(self, *args, **kwargs):
        if self.problem:
            raise CheckFailure(self.problem)
        watch = LibraryWatch()
        try:
            with watch:
                result = call(self.func, self.name, *args, **kwargs)
        except CheckFailure:
            if watch.found is None:
                raise
            result = None
        if watch.found is not None:
            self.problem = _library_message(self.name, watch.found)
            raise CheckFailure(self.problem)
        return result


def _library_message(name, found):
    what = t("pooling") if "pool" in name else t("convolution")
    return t("{name} uses {found}.\nThis exercise computes the {what} "
             "from scratch: use NumPy only (slicing, np.pad, np.sum, @). A "
             "library's {what} gets no points.",
             name=name, found=found, what=what)


def _raised_value_error(failure):
    """The learner's function raised ValueError: `call` says so in the
    message (in English) and raises while handling it (any language)."""
    return ("raised ValueError" in failure.message
            or type(failure.__context__).__name__ == "ValueError")


def value_error_problem(run, args, kwargs, what, reason):
    """None if run(*args, **kwargs) raises ValueError, else a message."""
    try:
        run(*args, **kwargs)
    except CheckFailure as failure:
        if getattr(run, "problem", None):
            raise
        if _raised_value_error(failure):
            return None
        hint = t("Raise ValueError for {reason}.", reason=reason)
        return f"{failure.message}\n{hint}"
    return t("{what} returned a value, but {reason}: raise ValueError with "
             "a clear message.", what=what, reason=reason)


# ----------------------------------------------------- conv_output_size ---

def size_inputs(rng):
    del rng  # no random values
    return {"sizes": [[5, 3, 1, 0], [5, 3, 2, 0], [5, 3, 1, 1],
                      [5, 3, 2, 1], [28, 3, 1, 0], [28, 5, 1, 2],
                      [28, 3, 2, 1], [7, 3, 3, 0], [10, 4, 3, 2],
                      [4, 4, 1, 0], [4, 6, 1, 1]],
            "errors": [[3, 5, 1, 0], [2, 3, 2, 0], [1, 4, 1, 1]]}


def size_expected(ref, case):
    case["expected"] = [ref.conv_output_size(*size)
                        for size in case["sizes"]]


def size_problem(conv_output_size, n, k, stride, padding, want):
    """Message for what conv_output_size got wrong on one case, or None."""
    what = render_call("conv_output_size", (n, k),
                       {"stride": stride, "padding": padding})
    got = call(conv_output_size, "conv_output_size", n, k, stride=stride,
               padding=padding)
    if isinstance(got, (float, np.floating)) and float(got).is_integer():
        return t("{what} returned {kind} {got}, expected the int {want}.\n"
                 "Use floor division `//`, which keeps ints.",
                 what=what, kind=type(got).__name__, got=got, want=want)
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        return t("{what} returned {kind} {got!r}; expected an int ({want}).",
                 what=what, kind=type(got).__name__, got=got, want=want)
    got = int(got)
    if got == want:
        return None
    message = t("{what} returned {got}, expected {want}.", what=what,
                got=got, want=want)
    hint = _size_hint(got, want, n, k, stride, padding)
    return f"{message}\n{hint}" if hint else message


def _size_hint(got, want, n, k, stride, padding):
    if stride > 1 and got == n + 2 * padding - k + 1:
        return t("Stride ignored: the window jumps `stride` pixels, so "
                 "divide by stride (with //) before adding 1.")
    if padding and got == (n + padding - k) // stride + 1:
        return t("Padding is added on both sides: the padded input has "
                 "n + 2*padding pixels.")
    if padding and got == (n - k) // stride + 1:
        return t("Padding ignored: the padded input has n + 2*padding "
                 "pixels.")
    if abs(got - want) == 1:
        return t("Off by one: (n + 2*padding - k) // stride counts the "
                 "steps; the number of positions is one more.")
    return None


def size_error_problem(conv_output_size, n, k, stride, padding):
    what = render_call("conv_output_size", (n, k),
                       {"stride": stride, "padding": padding})
    problem = value_error_problem(
        lambda: call(conv_output_size, "conv_output_size", n, k,
                     stride=stride, padding=padding), (), {}, what,
        t("the kernel does not fit in the padded input (a size < 1)"))
    numerator = n + 2 * padding - k
    if problem and numerator < 0 and numerator // stride != int(
            numerator / stride):
        problem += "\n" + t(
            "Note: {numerator} // {stride} is {floor}, but "
            "int({numerator} / {stride}) is {truncated}: use //.",
            numerator=numerator, stride=stride,
            floor=numerator // stride, truncated=int(numerator / stride))
    return problem


@lesson.exercise(parameters=("n", "k", "stride", "padding"),
                 inputs=size_inputs, expected=size_expected,
                 problem=size_problem, from_scratch=True)
def conv_output_size(conv_output_size, case):
    """Visible check of conv_output_size on fixed sizes."""
    for size, want in zip(case["sizes"], case["expected"]):
        yield size_problem(conv_output_size, *size, want)
    for size in case["errors"]:
        yield size_error_problem(conv_output_size, *size)
    return t("conv_output_size: right sizes with stride and padding, an "
             "int, ValueError when the kernel does not fit.")


# --------------------------------------------------------------- conv2d ---
#
# The hints name a likely mistake. Functions, not constants: a message is
# given in the language of the moment it is shown.

def _flipped():
    return t("Looks like a true convolution: the kernel is flipped. conv2d "
             "here is cross-correlation, as in tf.nn.conv2d and Keras' "
             "Conv2D: kernel[u, v] multiplies image[i + u, j + v], no flip.")


def _transposed():
    return t("Kernel rows and columns swapped (kernel.T?): kernel[u, v] "
             "multiplies image[i + u, j + v].")


def _stride_ignored():
    return t("Stride ignored: that is the stride-1 output. Move the "
             "window `stride` pixels at a time.")


def _stride_inside():
    return t("The size is right, but the windows are the stride-1 ones: "
             "window (i, j) starts at row i*stride, column j*stride.")


def _one_sided():
    return t("Padding on one side only: add `padding` zeros on every side, "
             "top, bottom, left and right (np.pad(image, padding)).")


def _padding_ignored():
    return t("Padding ignored: zero-pad the image by `padding` pixels "
             "on every side first (np.pad(image, padding)).")


def _off_by_one():
    return t("Off by one: the output has (H + 2*padding - kh) // stride + 1 "
             "rows and likewise columns (conv_output_size). Check the + 1 "
             "and your range(...) bounds.")


def _size():
    return t("The output has conv_output_size(H, kh, stride, padding) rows "
             "and conv_output_size(W, kw, stride, padding) columns.")


def _truncated_output():
    return t("Integer output: the fractions were cut off when the "
             "sums were stored. np.zeros_like(image) copies an "
             "integer image's dtype; start from np.zeros((rows, "
             "cols)), which is float.")


def _int_output():
    return t("Return floats, even for integer inputs: start from "
             "np.zeros((rows, cols)) (float64), not np.zeros_like(image) "
             "or dtype=int.")


def _truncated_inputs():
    return t("The inputs were truncated to integers (astype(int)?): "
             "compute with their float values.")


def _tolerances(want):
    scale = float(np.abs(want).max()) if want.size else 1.0
    return {"atol": 1e-5 * max(scale, 1.0), "rtol": 1e-5}


def _matches(got, other, want):
    """`got` equals the mistaken result `other` (and that differs)."""
    if other is None or close_array(other, want, atol=1e-9, rtol=1e-9):
        return False
    return close_array(got, other, **_tolerances(want))


def _conv_hint(got, variants, stride, padding):
    """Name the likely mistake by recognising its result, or None."""
    want = variants["expected"]
    if got.shape != want.shape:
        if stride > 1 and _matches(got, variants["stride_one"], want):
            return _stride_ignored()
        if padding and (_matches(got, variants["top_left"], want) or
                        _matches(got, variants["bottom_right"], want)):
            return _one_sided()
        if padding and _matches(got, variants["unpadded"], want):
            return _padding_ignored()
        if got.ndim == 2 and all(abs(a - b) <= 1 for a, b in
                                 zip(got.shape, want.shape)):
            return _off_by_one()
        return _size()
    if got.dtype.kind != "f":
        if _matches(got, np.trunc(want), want):
            return _truncated_output()
        return _int_output()
    if _matches(got, variants["flipped"], want):
        return _flipped()
    if _matches(got, variants["transposed"], want):
        return _transposed()
    if stride > 1:
        rows, cols = want.shape
        if _matches(got, variants["stride_one"][:rows, :cols], want):
            return _stride_inside()
    if _matches(got, variants["truncated_inputs"], want):
        return _truncated_inputs()
    if _matches(got, np.trunc(want), want):
        return t("The fractions were cut off (an int conversion?): keep "
                 "the sums as floats.")
    return None


def conv_problem(run, image, kernel, stride, padding, label, variants):
    """Message for what conv2d got wrong on one case, or None."""
    what = render_call("conv2d", (image, kernel),
                       {"stride": stride, "padding": padding})
    image_before, kernel_before = image.copy(), kernel.copy()
    got = require_array(run(image, kernel, stride=stride, padding=padding),
                        what)
    if not (same_array(image, image_before) and
            same_array(kernel, kernel_before)):
        return t("{what} modified its input; work on a padded copy.",
                 what=what)
    want = variants["expected"]
    problem = compare_arrays(got, want, what, dtype="float",
                             **_tolerances(want))
    if problem is None:
        return None
    hint = _conv_hint(got, variants, stride, padding)
    return f"{problem}\n{hint}" if hint else problem


def conv_error_problem(run, case):
    what = render_call("conv2d", (case["image"], case["kernel"]),
                       {"stride": case["stride"], "padding": case["padding"]})
    return value_error_problem(
        run, (case["image"], case["kernel"]),
        {"stride": case["stride"], "padding": case["padding"]}, what,
        _reason(case["reason"]))


def _reason(reason):
    """An error case's reason in the learner's language: the visible
    cases keep theirs in English (autograder/expected/*.json)."""
    known = {
        "stride < 1": t("stride < 1"),
        "negative padding": t("negative padding"),
        "a 6x6 kernel does not fit in the 5x5 image":
            t("a 6x6 kernel does not fit in the 5x5 image"),
    }
    return known.get(reason, reason)


def conv_inputs(rng):
    """The lesson's A and B with each stride and padding, other sizes and
    dtypes, a kernel larger than the image, and bad arguments."""
    float_image = np.round(rng.uniform(-3, 3, (6, 7)), 2)
    float_kernel = np.array([[0.5, -1.25, 0.75], [2.5, 0.25, -0.5]])
    int_image = rng.integers(0, 10, (7, 6))
    int_kernel = np.array([[1, 0], [2, -1], [0, 3]])
    small = np.array([[0.5, 1.0, 1.5], [2.0, 2.5, 3.0], [3.5, 4.0, 4.5]])
    conv_cases = [
        (A, B, 1, 0, "A, B"),
        (float_image, float_kernel, 1, 0, "image 6x7, kernel 2x3"),
        (A, B, 2, 0, "A, B"),
        (A, B, 1, 1, "A, B"),
        (A, B, 2, 1, "A, B"),
        (int_image, int_kernel, 2, 2, "image 7x6, kernel 3x2"),
        (small, np.arange(16.0).reshape(4, 4) / 4, 1, 1,
         "image 3x3, kernel 4x4"),
        (rng.uniform(-1, 1, (3, 5)).round(2),
         rng.uniform(-1, 1, (3, 5)).round(2), 1, 0, "image 3x5, kernel 3x5"),
    ]
    return {
        "cases": [{"image": image, "kernel": kernel, "stride": stride,
                   "padding": padding, "label": label}
                  for image, kernel, stride, padding, label in conv_cases],
        "errors": [
            {"image": A, "kernel": B, "stride": 0, "padding": 0,
             "label": "A, B", "reason": "stride < 1"},
            {"image": A, "kernel": B, "stride": 1, "padding": -1,
             "label": "A, B", "reason": "negative padding"},
            {"image": A, "kernel": np.ones((6, 6)), "stride": 1,
             "padding": 0, "label": "A, kernel 6x6",
             "reason": "a 6x6 kernel does not fit in the 5x5 image"},
        ],
    }


def conv_expected(ref, case):
    for each in case["cases"]:
        each.update(conv_variants(ref.conv2d, each["image"], each["kernel"],
                                  each["stride"], each["padding"]))


@lesson.exercise(parameters=("image", "kernel", "stride", "padding"),
                 inputs=conv_inputs, expected=conv_expected,
                 problem=conv_problem, from_scratch=True)
def conv2d(conv2d, data):
    """Visible check of conv2d: the lesson's A and B, then other cases."""
    run = Scratch(conv2d, "conv2d")
    for case in data["cases"]:
        yield conv_problem(run, case["image"], case["kernel"],
                           case["stride"], case["padding"], case["label"],
                           case)
    for case in data["errors"]:
        yield conv_error_problem(run, case)
    return t("conv2d: cross-correlation (no flip), stride, padding on "
             "every side, float output, ValueError for bad arguments.")


# ----------------------------------------------------------- avg_pool2d ---

def _pool_stride_one(size):
    return t("Looks like stride 1: when stride is None the default "
             "stride is size ({size}), as in Keras' AveragePooling2D, "
             "so windows do not overlap.", size=size)


def _pool_dropped():
    return t("Windows that do not fit are dropped (Keras' "
             "padding='valid'): the output has (n - size) // stride + 1 "
             "rows and columns, like conv_output_size(n, size, stride).")


def _pool_channels():
    return t("Keep the channels separate and last: (H, W, C) pools to "
             "(H', W', C), each channel averaged on its own.")


def _pool_mixed():
    return t("Pooling mixes channels: every output channel holds the same "
             "mean of all channels. Average each window over its rows and "
             "columns only (axis=(0, 1)), not over the channel axis.")


def _pool_floored():
    return t("The fractions were cut off: that is integer division "
             "(//) or an int result. The mean of 1 and 2 is 1.5: divide "
             "with / and return floats.")


def _pool_wrapped():
    return t("The window sums wrapped around: adding uint8 pixels "
             "with + stays uint8, so 200 + 100 gives 44. Convert to "
             "float first (x.astype(float)) or use np.mean, which "
             "accumulates in float.")


def _pool_short():
    return t("One window short: range(0, H - size, stride) stops before "
             "the last window that fits. The windows start at 0, stride, "
             "... up to H - size included: range(0, H - size + 1, "
             "stride), (H - size) // stride + 1 of them.")


def _pool_channels_first():
    return t("Channels first: the output is (C, H', W'). Keep the channel "
             "axis last, (H', W', C), as it was in x.")


def _pool_max():
    return t("Those are the windows' maxima, not their means: average "
             "pooling takes each window's mean (np.mean, or the sum "
             "divided by size * size).")


def _pool_axis():
    return t("It fails on (H, W, C) input. Without axis=, "
             "sliding_window_view needs one window length per axis of x; "
             "give it axis=(0, 1), so that the window slides over rows "
             "and columns and each channel stays apart.")


def _short_counts(x, size, step):
    """Windows per axis of a loop over range(0, n - size, step), which
    misses the last window that fits."""
    return tuple(len(range(0, n - size, step)) for n in x.shape[:2])


def _looks_like_max(got, x, want):
    """`got` holds window maxima: never below the means, each value one of
    x's (no mean of several different values is)."""
    values = np.asarray(x, dtype=np.float64)
    return (got.shape == want.shape and got.dtype.kind in "iuf"
            and bool(np.all(got >= want - 1e-9 * (1 + np.abs(want))))
            and not close_array(got, want)
            and bool(np.isin(got, values).all()))


def _pool_call(run, x, size, stride):
    """(what, result): the defaults left out where a case tests them."""
    kwargs = pool_arguments(size, stride, POOL_SIZE)
    what = render_call("avg_pool2d", (x,), kwargs)
    return what, run(x, **kwargs)


def _pool_hint(got, x, size, stride, variants):
    want = variants["expected"]
    step = size if stride is None else stride
    if variants["stride_one"] is not None and close_array(
            got, variants["stride_one"]):
        return _pool_stride_one(size)
    if x.ndim == 3 and got.shape == np.moveaxis(want, -1, 0).shape and \
            close_array(got, np.moveaxis(want, -1, 0)):
        return _pool_channels_first()
    short = _short_counts(x, size, step)
    if got.shape != want.shape:
        if stride is None and got.shape[:2] == (x.shape[0] - size + 1,
                                                x.shape[1] - size + 1):
            return _pool_stride_one(size)
        ceil = tuple(-(-(n - size) // step) + 1 for n in x.shape[:2])
        if got.shape[:2] == ceil:
            return _pool_dropped()
        if got.shape[:2] == short and got.shape[2:] == want.shape[2:]:
            return _pool_short()
        if x.ndim == 3:
            return _pool_channels()
        return None
    if short != want.shape[:2]:
        # Preallocated at the right size, the last row or column of
        # windows never filled.
        unfilled = np.array(want, dtype=np.float64)
        unfilled[short[0]:] = 0
        unfilled[:, short[1]:] = 0
        if close_array(got, unfilled):
            return _pool_short()
    if _looks_like_max(got, x, want):
        return _pool_max()
    if x.ndim == 3 and x.shape[2] > 1 and close_array(
            got, np.broadcast_to(want.mean(axis=2, keepdims=True),
                                 want.shape), 1e-6, 1e-6):
        return _pool_mixed()
    if x.dtype == np.uint8:
        sums = np.rint(want * size * size)
        if close_array(got, (sums % 256) / (size * size)):
            return _pool_wrapped()
    if close_array(got, np.floor(want)) or close_array(got, np.trunc(want)):
        return _pool_floored()
    return None


def pool_problem(run, x, size, stride, variants):
    """Message for what avg_pool2d got wrong on one case, or None."""
    before = x.copy()
    try:
        what, got = _pool_call(run, x, size, stride)
    except CheckFailure as failure:
        # sliding_window_view(x, (size, size)) without axis= raises this
        # for (H, W, C) input.
        error = failure.__context__
        if run.problem or x.ndim != 3 or not isinstance(error, ValueError) \
                or "window_shape" not in str(error):
            raise
        return f"{failure.message}\n{_pool_axis()}"
    got = require_array(got, what)
    if not same_array(x, before):
        return t("{what} modified its input; return a new array instead.",
                 what=what)
    want = variants["expected"]
    if got.shape == want.shape and got.dtype.kind in "iub":
        if _looks_like_max(got, x, want):
            hint = _pool_max()
        elif close_array(got, np.floor(want)) or close_array(
                got, np.trunc(want)):
            hint = _pool_floored()
        else:
            hint = t("Return floats: a mean is rarely a whole number.")
        return t("{what}: dtype {dtype}, expected a float dtype "
                 "(e.g. float64).\n{hint}", what=what, dtype=got.dtype,
                 hint=hint)
    problem = compare_arrays(got, want, what, dtype="float",
                             **_tolerances(want))
    if problem is None:
        return None
    hint = _pool_hint(got, x, size, stride, variants)
    return f"{problem}\n{hint}" if hint else problem


def pool_inputs(rng):
    del rng  # its own generator: cases added later keep conv2d_fast's
    return {"cases": _pool_inputs(np.random.default_rng(212))}


def pool_expected(ref, case):
    for each in case["cases"]:
        each.update(pool_variants(ref.avg_pool2d, each["x"], each["size"],
                                  each["stride"]))


@lesson.exercise(parameters=("x", "size", "stride"), inputs=pool_inputs,
                 expected=pool_expected, problem=pool_problem,
                 from_scratch=True)
def avg_pool2d(avg_pool2d, data):
    """Visible check of avg_pool2d: the lesson's feature map, then others."""
    run = Scratch(avg_pool2d, "avg_pool2d")
    for case in data["cases"]:
        yield pool_problem(run, case["x"], case["size"], case["stride"],
                           case)
    return t("avg_pool2d: window means, stride defaults to size, windows "
             "that do not fit dropped, channels apart, float output.")


# ---------------------------------------------------------- conv2d_fast ---

def fast_problem(run, images, kernels, variants):
    """Message for what conv2d_fast got wrong on one case, or None."""
    what = render_call("conv2d_fast", (images, kernels))
    images_before, kernels_before = images.copy(), kernels.copy()
    got = require_array(run(images, kernels), what)
    if not (same_array(images, images_before) and
            same_array(kernels, kernels_before)):
        return t("{what} modified its input.", what=what)
    return fast_values_problem(got, variants, what)


def fast_values_problem(got, variants, what):
    """Message for how conv2d_fast's result `got` differs from
    variants["expected"], with the likely mistake, or None."""
    want = variants["expected"]
    problem = compare_arrays(got, want, what, dtype="float",
                             **_fast_tolerances(want))
    if problem is None:
        return None
    count, out_h, out_w, filters = want.shape
    if got.shape == (count, filters, out_h, out_w):
        hint = t("Channels last: put the filter axis at the end, "
                 "(N, H - kh + 1, W - kw + 1, F), as tf.nn.conv2d does.")
    elif got.shape != want.shape:
        hint = t("The output is (N, H - kh + 1, W - kw + 1, F): valid "
                 "positions, stride 1, one channel per filter.")
    elif got.dtype.kind != "f":
        hint = t("Return floats, even for integer images.")
    elif _matches(got, variants["flipped"], want):
        hint = _flipped()
    else:
        hint = _fast_channel_hint()
    return f"{problem}\n{hint}"


def _fast_tolerances(want):
    scale = float(np.abs(want).max()) if want.size else 1.0
    return {"atol": 1e-4 * max(1.0, scale), "rtol": 1e-4}


def _fast_channel_hint():
    return t("Channel f of image n must equal conv2d(images[n], "
             "kernels[:, :, f]).")


def speed_inputs(rng):
    """The speed case's images and kernels (SPEED_CASE), drawn from
    `rng`: the visible check's fixed generator, or the grading run's in
    the hidden test."""
    size, kernel = SPEED_CASE["size"], SPEED_CASE["kernel"]
    images = rng.random((SPEED_CASE["images"], size, size),
                        dtype=np.float32)
    kernels = rng.normal(0, 1, (kernel, kernel, SPEED_CASE["filters"])
                         ).astype(np.float32)
    return images, kernels


def _sample_problem(got, sample, what):
    """Message if `got` differs from the expected values at the sampled
    positions of the visible speed case, or None."""
    positions, want = sample["positions"], sample["values"]
    values = got[tuple(positions.T)]
    if values.dtype.kind != "f":
        return t("{what}: dtype {got}, expected a float dtype "
                 "(e.g. float64).", what=what, got=got.dtype)
    tolerances = _fast_tolerances(want)
    close = np.isclose(values, want, **tolerances)
    if close.all():
        return None
    first = int(np.argmin(close))
    return t("{what}: {count} of {total} checked values differ; first at "
             "index {index}: got {got}, expected {want}.", what=what,
             count=int((~close).sum()), total=len(want),
             index=[int(i) for i in positions[first]],
             got=format_number(values[first]),
             want=format_number(want[first])) + "\n" + _fast_channel_hint()


def speed_problem(run, images, kernels, values_problem):
    """Message if conv2d_fast is wrong or too slow to be vectorized on
    the speed case, or None. `values_problem(got, what)` compares the
    result's values (the reference's in the hidden test)."""
    what = render_call("conv2d_fast", (images, kernels))
    seconds = []
    for _ in range(SPEED_TRIES):  # another try only if it was slow
        start = time.perf_counter()
        got = require_array(run(images, kernels), what)
        seconds.append(call_seconds(run.func,
                                    time.perf_counter() - start))
        if seconds[-1] <= SPEED_LIMIT or seconds[-1] > 4 * SPEED_LIMIT:
            break
    out = SPEED_CASE["size"] - SPEED_CASE["kernel"] + 1
    want_shape = (len(images), out, out, SPEED_CASE["filters"])
    if got.shape != want_shape:
        return t("{what}: shape {got}, expected {want}.", what=what,
                 got=got.shape, want=want_shape)
    problem = values_problem(got, what)
    if problem:
        return problem
    if min(seconds) > SPEED_LIMIT:
        return t("conv2d_fast took {seconds:.2f} s for one {size}x{size} "
                 "image and one {kernel}x{kernel} kernel, {windows:,} "
                 "windows (limit {limit} s): that is the time of a Python "
                 "loop over the windows or the pixels.\nBuild every window "
                 "at once (sliding_window_view) and multiply them with the "
                 "kernels in one matrix product (@, np.einsum or "
                 "np.tensordot).", seconds=min(seconds),
                 size=SPEED_CASE["size"], kernel=SPEED_CASE["kernel"],
                 windows=speed_windows(), limit=SPEED_LIMIT)
    return None


def speed_windows():
    """How many windows the speed case's images have."""
    out = SPEED_CASE["size"] - SPEED_CASE["kernel"] + 1
    return SPEED_CASE["images"] * out * out


def fast_inputs(rng):
    return {
        "cases": [
            {"images": np.round(rng.normal(0, 1, (3, 6, 7)), 2),
             "kernels": np.round(rng.normal(0, 1, (3, 2, 4)), 2)},
            {"images": rng.integers(0, 256, (2, 8, 8), dtype=np.uint8),
             "kernels": rng.normal(0, 1, (3, 3, 5)).astype(np.float32)},
            {"images": np.round(rng.uniform(0, 1, (1, 5, 5)), 2),
             "kernels": np.round(rng.uniform(-1, 1, (5, 5, 2)), 2)},
        ],
        "error": {"images": np.zeros((2, 4, 4)),
                  "kernels": np.ones((5, 5, 1))},
    }


def fast_expected(ref, case):
    for each in case["cases"]:
        each.update(fast_variants(ref.conv2d_fast, each["images"],
                                  each["kernels"]))
    case["speed"] = _speed_sample(
        ref.conv2d_fast(*speed_inputs(np.random.default_rng(0))))


@lesson.exercise(parameters=("images", "kernels"), inputs=fast_inputs,
                 expected=fast_expected, problem=fast_problem,
                 from_scratch=True)
def conv2d_fast(conv2d_fast, data):
    """Visible check of conv2d_fast: values, layout, ValueError, speed."""
    run = Scratch(conv2d_fast, "conv2d_fast")
    for case in data["cases"]:
        yield fast_problem(run, case["images"], case["kernels"], case)
    error = data["error"]
    yield value_error_problem(
        run, (error["images"], error["kernels"]), {},
        render_call("conv2d_fast", (error["images"], error["kernels"])),
        t("the 5x5 kernels do not fit in the 4x4 images"))
    # Fixed inputs: the learner can run this check before grading. The
    # hidden test times fresh inputs and compares every value.
    images, kernels = speed_inputs(np.random.default_rng(0))
    yield speed_problem(
        run, images, kernels,
        lambda got, what: _sample_problem(got, data["speed"], what))
    return t("conv2d_fast: equals conv2d for every image and filter, "
             "channels last, float output, vectorized.")
