"""Hidden tests of lesson 02, run by the judge on recorded answers.

Each `hidden_<exercise>` adds its cases (`scoring.hidden_test`): inputs
from `rng` (seeded per grading run and exercise), `func` a replay of the
kernel's answers, `ref` the reference solutions.
"""

import numpy as np

from autograder import lesson02 as checks
from autograder.messages import t
from trusted_grader.scoring import hidden_test

hidden = hidden_test(checks.LESSON)


@hidden
def hidden_conv_output_size(conv_output_size, score, ref, rng):
    """Hidden tests: random sizes against the reference."""
    # Every run has a case with padding and stride 1 (padding ignored or
    # one-sided shows) and cases with strides > 1 (stride ignored shows).
    for stride, padding in ((1, 1), (2, 0), (3, 2), (2, 1), (4, 3)):
        n = int(rng.integers(8, 60))
        k = int(rng.integers(1, min(n, 8) + 1))
        want = ref.conv_output_size(n, k, stride, padding)
        score.case(f"n={n}, k={k}, stride={stride}, padding={padding}",
                   lambda s=(n, k, stride, padding), w=want:
                   checks._size_problem(conv_output_size, *s, w))
    n = int(rng.integers(2, 20))
    score.case(t("a {k}-pixel kernel on {n} pixels: ValueError", k=n + 2,
                 n=n),
               lambda: checks._size_error_problem(conv_output_size, n,
                                                  n + 2, 1, 0))
    score.case("(2 - 3) // 2 + 1 = 0: ValueError",
               lambda: checks._size_error_problem(conv_output_size, 2, 3,
                                                  2, 0))


def _random_conv_case(rng, floats, stride, padding):
    height, width = (int(n) for n in rng.integers(6, 13, size=2))
    if floats:
        image = rng.uniform(-2, 2, (height, width)).astype(np.float32)
    else:
        image = rng.integers(0, 256, (height, width)).astype(np.uint8)
    kh, kw = (int(n) for n in rng.integers(2, 5, size=2))
    kernel = rng.uniform(-2, 2, (kh, kw)).round(2)
    return image, kernel


@hidden
def hidden_conv2d(conv2d, score, ref, rng):
    """Hidden tests: random images, kernels, strides and paddings."""
    run = checks._Scratch(conv2d, "conv2d")

    def add_case(image, kernel, stride, padding, label):
        variants = checks.conv_variants(ref.conv2d, image, kernel, stride,
                                        padding)
        score.case(
            f"{label}, stride={stride}, padding={padding}",
            lambda: checks._conv_problem(run, image, kernel, stride,
                                         padding, label, variants))

    # Fixed strides and paddings: every run exposes a flipped kernel,
    # ignored or one-sided padding and an ignored stride.
    for floats, stride, padding in ((False, 1, 1), (False, 3, 0),
                                    (True, 1, 2), (True, 2, 1)):
        image, kernel = _random_conv_case(rng, floats, stride, padding)
        label = t("{dtype} image {height}x{width}, kernel {kh}x{kw}",
                  dtype=image.dtype, height=image.shape[0],
                  width=image.shape[1], kh=kernel.shape[0],
                  kw=kernel.shape[1])
        add_case(image, kernel, stride, padding, label)
    add_case(checks.A, checks.B, 1, 0, "A, B")
    digit = rng.integers(0, 256, (28, 28)).astype(np.uint8)
    edges = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    add_case(digit, edges, 1, 1, t("28x28 image, edge kernel"))
    add_case(rng.uniform(0, 1, (3, 4)), rng.uniform(-1, 1, (5, 5)), 1, 1,
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
                   (p for p in (checks._conv_error_problem(run, case)
                                for case in errors) if p), None))
    if run.problem:
        score.veto(run.problem)


@hidden
def hidden_avg_pool2d(avg_pool2d, score, ref, rng):
    """Hidden tests: random inputs against the reference."""
    run = checks._Scratch(avg_pool2d, "avg_pool2d")

    def add_case(x, size, stride):
        variants = checks.pool_variants(ref.avg_pool2d, x, size, stride)
        score.case(f"{x.dtype} {x.shape}, size={size}, stride={stride}",
                   lambda: checks._pool_problem(run, x, size, stride,
                                                variants))

    # Fixed kinds, random sizes: every run exposes a wrong default stride,
    # kept partial windows, mixed channels and integer division.
    for size, stride, channels, kind in ((2, None, 0, "float"),
                                         (2, None, 4, "float"),
                                         (3, None, 2, "int"),
                                         (3, 2, 3, "float"),
                                         (2, 1, 0, "uint8")):
        height, width = (int(n) for n in rng.integers(size + 1, 14, 2))
        shape = (height, width, channels) if channels else (height, width)
        if kind == "float":
            x = rng.normal(size=shape)
        elif kind == "int":
            x = rng.integers(-20, 20, size=shape)
        else:
            x = rng.integers(100, 256, size=shape, dtype=np.uint8)
        if channels:
            x = x + 10 * np.arange(channels)
        add_case(x, size, stride)
    add_case(rng.normal(size=(26, 26, 8)).astype(np.float32), 2, None)
    add_case(rng.normal(size=(2, 2)), 2, None)
    if run.problem:
        score.veto(run.problem)


@hidden
def hidden_conv2d_fast(conv2d_fast, score, ref, rng):
    """Hidden tests: random batches against the reference, and speed."""
    run = checks._Scratch(conv2d_fast, "conv2d_fast")
    for uint8 in (False, False, True):
        count, filters = (int(n) for n in rng.integers(1, 6, size=2))
        height, width = (int(n) for n in rng.integers(5, 13, size=2))
        kh, kw = (int(n) for n in rng.integers(1, 5, size=2))
        if uint8:
            images = rng.integers(0, 256, (count, height, width),
                                  dtype=np.uint8)
            kernels = rng.normal(0, 1, (kh, kw, filters)).astype(np.float32)
        else:
            images = rng.normal(0, 1, (count, height, width))
            kernels = rng.normal(0, 1, (kh, kw, filters))
        variants = checks.fast_variants(ref.conv2d_fast, images, kernels)
        score.case(t("{count} {dtype} images {height}x{width}, "
                     "{filters} kernels {kh}x{kw}", count=count,
                     dtype=images.dtype, height=height, width=width,
                     filters=filters, kh=kh, kw=kw),
                   lambda i=images, k=kernels, v=variants:
                   checks._fast_problem(run, i, k, v))
    score.case(t("kernels larger than the images: ValueError"),
               lambda: checks._value_error_problem(
                   run, (np.zeros((3, 5, 6)), np.ones((6, 2, 2))), {},
                   "conv2d_fast(<images (3, 5, 6)>, <kernels (6, 2, 2)>)",
                   t("6x2 kernels do not fit in 5x6 images")))
    speed = checks.SPEED_CASE
    score.case(t("{images} 28x28 images x {filters} filters in {limit} s",
                 images=speed["images"], filters=speed["filters"],
                 limit=checks.SPEED_LIMIT),
               lambda: checks._speed_problem(run))
    if run.problem:
        score.veto(run.problem)
