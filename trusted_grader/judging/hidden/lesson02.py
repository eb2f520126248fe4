"""Hidden tests of lesson 02, run by the judge on recorded answers.

Each `hidden_<exercise>` adds the cases of the exercise declared in
`autograder.lesson02` (`scoring.hidden_test`), compared by the
declaration's `problem`: `func` a replay of the kernel's answers, `ref`
the reference solutions, `rng` seeded per grading run and exercise.

Same code, same score, whatever the seed: every case's structure (sizes,
strides, paddings, kernel shapes, dtypes, counts) is a constant, and only
values come from `rng`, drawn so that each known mistake shows whatever
they are: pixels are never 0 (a padding of anything but zeros shows),
kernels are never symmetric and always have a fraction (a flipped,
transposed or truncated kernel shows), uint8 windows always sum past 255,
and every mean the tests divide has a fraction somewhere (integer division
shows).

Points need real work: cases on inputs the kernel knows before grading
(the lesson's A and B, which the visible cases use) and error-only cases
are `fresh=False`; they count, but earn nothing without a fresh case.
"""

import numpy as np

from autograder import lesson02 as checks
from cnn_course.messages import t
from trusted_grader.judging.scoring import hidden_test

# n, k, stride, padding, each chosen so that a mistake shows in a known
# set of cases: padding ignored or counted once (the first two), the
# stride ignored (every stride > 1), ceil instead of floor division
# (where n + 2*padding - k is no multiple of the stride). None of them is
# a visible case.
OUTPUT_SIZES = ((23, 4, 1, 1), (31, 5, 3, 2), (17, 4, 2, 0), (14, 3, 2, 1),
                (40, 7, 4, 3))


@hidden_test(checks.conv_output_size)
def hidden_conv_output_size(conv_output_size, score, ref, rng):
    """Hidden tests: fixed sizes, strides and paddings (no value is
    random: the sizes are the structure)."""
    del rng
    for n, k, stride, padding in OUTPUT_SIZES:
        want = ref.conv_output_size(n, k, stride, padding)
        score.case(f"n={n}, k={k}, stride={stride}, padding={padding}",
                   lambda s=(n, k, stride, padding), w=want:
                   checks.conv_output_size.problem(conv_output_size, *s, w))
    n = 9
    score.case(t("a {k}-pixel kernel on {n} pixels: ValueError", k=n + 2,
                 n=n),
               lambda: checks.size_error_problem(conv_output_size, n,
                                                  n + 2, 1, 0),
               fresh=False)
    score.case("(2 - 3) // 2 + 1 = 0: ValueError",
               lambda: checks.size_error_problem(conv_output_size, 2, 3,
                                                  2, 0),
               fresh=False)


def _image(rng, shape, dtype):
    """Random pixels, never 0: a border of anything but zeros shows."""
    if dtype == np.uint8:
        return rng.integers(1, 256, shape).astype(np.uint8)
    magnitude = rng.uniform(0.1, 2.0, shape)
    return (magnitude * rng.choice([-1.0, 1.0], shape)).astype(dtype)


def _kernel(rng, shape):
    """Random weights in [-2, 2], never symmetric, with fractions.

    kernel[0, 0] is a quarter more than a whole number and differs from
    kernel[-1, -1], so a flipped or truncated kernel shows; kernel[0, 1]
    differs from kernel[1, 0], so a transposed square kernel shows.
    """
    kernel = rng.uniform(-2, 2, shape).round(2)
    kernel[0, 0] = np.floor(kernel[-1, -1]) + rng.choice([1.25, 1.5, 1.75])
    if min(shape) > 1:
        kernel[0, 1] = kernel[1, 0] + rng.choice([-0.75, 0.5, 0.25])
    return kernel


# dtype, image shape, kernel shape, stride, padding: every run exposes a
# flipped or transposed kernel, padding ignored or on one side (padding
# with stride 1), the stride ignored (strides 2 and 3), an integer output
# (uint8 images) and truncated float inputs.
CONV_CASES = ((np.uint8, (11, 9), (3, 2), 1, 1),
              (np.uint8, (10, 12), (4, 3), 3, 0),
              (np.float32, (8, 11), (2, 4), 1, 2),
              (np.float32, (12, 9), (3, 3), 2, 1))


@hidden_test(checks.conv2d)
def hidden_conv2d(conv2d, score, ref, rng):
    """Hidden tests: fixed shapes, strides and paddings, random values."""
    run = checks.Scratch(conv2d, "conv2d")

    def add_case(image, kernel, stride, padding, label, fresh=True):
        variants = checks.conv_variants(ref.conv2d, image, kernel, stride,
                                        padding)
        score.case(
            f"{label}, stride={stride}, padding={padding}",
            lambda: checks.conv2d.problem(run, image, kernel, stride,
                                         padding, label, variants),
            fresh=fresh)

    for dtype, shape, kernel_shape, stride, padding in CONV_CASES:
        image = _image(rng, shape, dtype)
        kernel = _kernel(rng, kernel_shape)
        label = t("{dtype} image {height}x{width}, kernel {kh}x{kw}",
                  dtype=image.dtype, height=shape[0], width=shape[1],
                  kh=kernel_shape[0], kw=kernel_shape[1])
        add_case(image, kernel, stride, padding, label)
    # The lesson's own matrices: the visible cases know their answers.
    add_case(checks.A, checks.B, 1, 0, "A, B", fresh=False)
    digit = _image(rng, (28, 28), np.uint8)
    edges = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    add_case(digit, edges, 1, 1, t("28x28 image, edge kernel"))
    add_case(_image(rng, (3, 4), np.float64), _kernel(rng, (5, 5)), 1, 1,
             t("kernel 5x5 on a 3x4 image"))
    a, b = checks.A, checks.B
    errors = [{"image": a, "kernel": b, "stride": 0, "padding": 1,
               "label": "A, B", "reason": t("stride < 1")},
              {"image": a, "kernel": b, "stride": 2, "padding": -2,
               "label": "A, B", "reason": t("negative padding")},
              {"image": checks.A, "kernel": np.ones((4, 8)), "stride": 1,
               "padding": 1, "label": "A, kernel 4x8",
               "reason": t("a 4x8 kernel does not fit in the padded 7x7 "
                           "image")}]
    score.case(t("ValueError for stride 0, negative padding, a kernel too "
                 "large"), lambda: next(
                   (p for p in (checks.conv_error_problem(run, case)
                                for case in errors) if p), None),
               fresh=False)
    if run.problem:
        score.veto(run.problem)


def _with_fraction(x, size):
    """Integer `x` with its first window's sum (channel 0) no multiple
    of size * size, so that integer division of that mean shows."""
    corner = (0, 0) + (0,) * (x.ndim - 2)
    window = x[:size, :size, 0] if x.ndim == 3 else x[:size, :size]
    if int(window.sum()) % (size * size) == 0:
        # Step toward the middle of the range, so a uint8 stays in it.
        x[corner] = int(x[corner]) + (-1 if x[corner] > 128 else 1)
    return x


# size, stride, shape, kind: every run exposes a wrong default stride,
# kept partial windows (the first four do not fit exactly), mixed
# channels, an ignored stride, integer division or an integer output
# (int and uint8 inputs) and a uint8 window sum (it always wraps: four
# pixels of 100 or more).
POOL_CASES = ((2, None, (7, 6), "float"),
              (2, None, (6, 9, 4), "float"),
              (3, None, (8, 7, 2), "int"),
              (3, 2, (10, 9, 3), "float"),
              (2, 1, (5, 11), "uint8"),
              (2, None, (26, 26, 8), "float32"),
              (2, None, (2, 2), "float"))


@hidden_test(checks.avg_pool2d)
def hidden_avg_pool2d(avg_pool2d, score, ref, rng):
    """Hidden tests: fixed shapes, sizes and strides, random values."""
    run = checks.Scratch(avg_pool2d, "avg_pool2d")

    def add_case(x, size, stride):
        variants = checks.pool_variants(ref.avg_pool2d, x, size, stride)
        score.case(f"{x.dtype} {x.shape}, size={size}, stride={stride}",
                   lambda: checks.avg_pool2d.problem(run, x, size, stride,
                                                variants))

    for size, stride, shape, kind in POOL_CASES:
        if kind == "int":
            x = rng.integers(-20, 20, size=shape)
        elif kind == "uint8":
            x = rng.integers(100, 256, size=shape, dtype=np.uint8)
        else:
            x = rng.normal(size=shape).astype(
                np.float32 if kind == "float32" else np.float64)
        if len(shape) == 3:
            # Channel c near 10c: a mean over channels is far from all.
            x = x + (10 * np.arange(shape[2])).astype(x.dtype)
        if kind in ("int", "uint8"):
            x = _with_fraction(x, size)
        add_case(x, size, stride)
    if run.problem:
        score.veto(run.problem)


# count, height, width, filters, kernel height, kernel width, dtype: the
# channels-first shape never equals the right one, and every kernel is
# larger than 1x1, so a flipped kernel shows.
FAST_CASES = ((3, 7, 9, 4, 3, 2, np.float64),
              (2, 10, 6, 3, 2, 4, np.float64),
              (4, 8, 8, 5, 3, 3, np.uint8))


@hidden_test(checks.conv2d_fast)
def hidden_conv2d_fast(conv2d_fast, score, ref, rng):
    """Hidden tests: fixed shapes, random values, and speed on fresh
    inputs whose every value is compared."""
    run = checks.Scratch(conv2d_fast, "conv2d_fast")
    for count, height, width, filters, kh, kw, dtype in FAST_CASES:
        if dtype == np.uint8:
            images = _image(rng, (count, height, width), np.uint8)
        else:
            images = rng.normal(0, 1, (count, height, width))
        kernels = np.stack([_kernel(rng, (kh, kw)) for _ in range(filters)],
                           axis=-1)
        if dtype == np.uint8:
            kernels = kernels.astype(np.float32)
        variants = checks.fast_variants(ref.conv2d_fast, images, kernels)
        score.case(t("{count} {dtype} images {height}x{width}, "
                     "{filters} kernels {kh}x{kw}", count=count,
                     dtype=images.dtype, height=height, width=width,
                     filters=filters, kh=kh, kw=kw),
                   lambda i=images, k=kernels, v=variants:
                   checks.conv2d_fast.problem(run, i, k, v))
    score.case(t("kernels larger than the images: ValueError"),
               lambda: checks.value_error_problem(
                   run, (np.zeros((3, 5, 6)), np.ones((6, 2, 2))), {},
                   "conv2d_fast(<images (3, 5, 6)>, <kernels (6, 2, 2)>)",
                   t("6x2 kernels do not fit in 5x6 images")),
               fresh=False)
    images, kernels = checks.speed_inputs(rng)
    variants = checks.fast_variants(ref.conv2d_fast, images, kernels)
    score.case(t("{windows:,} windows of one {size}x{size} image in "
                 "{limit} s", windows=checks.speed_windows(),
                 size=checks.SPEED_CASE["size"], limit=checks.SPEED_LIMIT),
               lambda: checks.speed_problem(
                   run, images, kernels,
                   lambda got, what: checks.fast_values_problem(
                       got, variants, what)))
    if run.problem:
        score.veto(run.problem)
