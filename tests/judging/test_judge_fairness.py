"""The judge is fair to honest work and catches near misses, every run.

Hidden inputs are random per grading run (seeded, reproducible). Over many
seeds: correct alternatives keep every point (tolerances hold for float32
and float64 inputs), the known mistakes always lose points (every run
holds the cases that expose them), degenerate answers earn nothing, and
near misses (a floored mean, float16 arithmetic, a changed input, the
wrong exception) are caught.
"""

import numpy as np
import pytest
from helpers import hidden_score
from test_lesson01_checks import mean_loop, shift_in_place, shift_with_pad
from test_lesson02_checks import (
    conv_ignores_stride,
    conv_loops,
    conv_pads_one_side,
    conv_sliding_windows,
    pool_float32,
    pool_loops,
    pool_mixes_channels,
    pool_stride_one,
    size_ignores_stride,
    size_padding_once,
    size_with_checks,
)
from test_lesson03_checks import (
    relu_loop,
    sigmoid_one_division,
    sigmoid_tanh,
    softmax_loop,
)
from test_lesson03_kernel_checks import (
    gradient_einsum,
    gradient_flipped,
    gradient_per_image,
    gradient_sign,
    gradient_summed,
    learn_least_squares,
    learn_reference_style,
)

from autograder import lesson01, lesson02, lesson03

SEEDS = range(8)


@pytest.mark.parametrize("seed", SEEDS)
def test_correct_alternatives_keep_every_point(seed):
    for check, name, func, points in (
            (lesson01, "mean_image", mean_loop, 2),
            (lesson01, "shift_image", shift_with_pad, 3),
            (lesson02, "conv_output_size", size_with_checks, 1),
            (lesson02, "conv2d", conv_loops, 3),
            (lesson02, "conv2d", conv_sliding_windows, 3),
            (lesson03, "relu", relu_loop, 1),
            # Stable activations never overflow, float32 inputs included.
            (lesson03, "sigmoid", sigmoid_tanh, 1),
            (lesson03, "sigmoid", sigmoid_one_division, 1),
            (lesson03, "softmax", softmax_loop, 2),
            (lesson02, "avg_pool2d", pool_loops, 2),
            (lesson02, "avg_pool2d", pool_float32, 2),
            (lesson03, "kernel_gradient", gradient_einsum, 2),
            (lesson03, "kernel_gradient", gradient_per_image, 2),
            (lesson03, "learn_kernel", learn_reference_style, 2),
            (lesson03, "learn_kernel", learn_least_squares, 2)):
        assert hidden_score(check, name, func, seed) == points, \
            (name, func.__name__, seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_known_mistakes_always_lose_points(seed):
    # Before hidden inputs were seeded per run with fixed strides and
    # paddings, these reached full marks and >= 2 points now and then.
    assert hidden_score(lesson02, "conv2d", conv_ignores_stride, seed) < 3
    assert hidden_score(lesson02, "conv2d", conv_pads_one_side, seed) < 2
    assert hidden_score(lesson02, "conv_output_size", size_ignores_stride,
                        seed) < 1
    assert hidden_score(lesson02, "conv_output_size", size_padding_once,
                        seed) < 1
    for name, mistake in (("avg_pool2d", pool_stride_one),
                          ("avg_pool2d", pool_mixes_channels)):
        assert hidden_score(lesson02, name, mistake, seed) < 2
    for mistake in (gradient_sign, gradient_summed, gradient_flipped):
        assert hidden_score(lesson03, "kernel_gradient", mistake, seed) < 2


def zeros_like_input(image, *args, **kwargs):
    return np.zeros_like(image, dtype=float)


def same_as_input(x, *args, **kwargs):
    return x


def constant(x, *args, **kwargs):
    return np.full(np.shape(x), 0.5)


@pytest.mark.parametrize("check, name", [
    (lesson01, "shift_image"), (lesson02, "conv2d"),
    (lesson02, "avg_pool2d"), (lesson03, "relu"),
    (lesson03, "sigmoid"), (lesson03, "softmax"), (lesson03, "flatten")])
@pytest.mark.parametrize("degenerate", [zeros_like_input, same_as_input,
                                        constant])
def test_degenerate_answers_earn_nothing(check, name, degenerate):
    assert hidden_score(check, name, degenerate) == 0.0


def mean_floored(images, labels, digit):
    return np.floor(mean_loop(images, labels, digit))


def conv_in_float16(image, kernel, stride=1, padding=0):
    result = conv_loops(image.astype(np.float16), kernel.astype(np.float16),
                        stride, padding)
    return result.astype(np.float16).astype(np.float64)


def relu_in_place(x):
    np.maximum(x, 0, out=x)
    return x.copy()


def size_raises_type_error(n, k, stride=1, padding=0):
    size = (n + 2 * padding - k) // stride + 1
    if size < 1:
        raise TypeError("the kernel does not fit")
    return size


def test_near_misses_lose_points():
    assert hidden_score(lesson01, "mean_image", mean_floored) < 2
    assert hidden_score(lesson02, "conv2d", conv_in_float16) < 3
    assert hidden_score(lesson01, "shift_image", shift_in_place) < 3
    assert hidden_score(lesson03, "relu", relu_in_place) < 1
    assert hidden_score(lesson02, "conv_output_size",
                        size_raises_type_error) < 1
