"""Lesson 03's kernel_gradient and learn_kernel checks: correct versions
pass, the usual mistakes are named, the judge scores the same way."""

import numpy as np
import pytest
from helpers import failure_of, hidden_points

from autograder import lesson03 as check
from trusted_grader.judging import reference

LESSON = check.LESSON
# The learner's functions call the notebook's feature_maps, a global of
# their notebook; here, of this module.
feature_maps = reference.load(LESSON).feature_maps


hidden = hidden_points(check)


# ------------------------------------------------------ kernel_gradient ---

def gradient_einsum(images, targets, kernel):
    error = feature_maps(images, kernel) - targets
    windows = np.lib.stride_tricks.sliding_window_view(
        images, error.shape[1:], axis=(1, 2))
    return np.einsum("nijrc,nrc->ij", windows, error) / len(images)


def gradient_per_image(images, targets, kernel):
    total = np.zeros(kernel.shape)
    for image, target in zip(images, targets):
        error = feature_maps(image[None], kernel)[0] - target
        rows, cols = error.shape
        for i in range(kernel.shape[0]):
            for j in range(kernel.shape[1]):
                total[i, j] += np.sum(image[i:i + rows, j:j + cols] * error)
    return total / len(images)


def gradient_sign(images, targets, kernel):
    return -gradient_einsum(images, targets, kernel)


def gradient_summed(images, targets, kernel):
    return gradient_einsum(images, targets, kernel) * len(images)


def gradient_flipped(images, targets, kernel):
    return gradient_einsum(images, targets, kernel)[::-1, ::-1]


def gradient_positions(images, targets, kernel):
    return gradient_einsum(images, targets, kernel) / targets[0].size


def gradient_twice(images, targets, kernel):
    return 2 * gradient_einsum(images, targets, kernel)


def gradient_error_map(images, targets, kernel):
    return (feature_maps(images, kernel) - targets).mean(axis=0)


def gradient_half(images, targets, kernel):
    """Keeps the loss's 1/2: divides the sum by 2N."""
    return gradient_einsum(images, targets, kernel) / 2


def gradient_transposed(images, targets, kernel):
    return gradient_einsum(images, targets, kernel).T


def gradient_targets(images, targets, kernel):
    """The targets where the error belongs."""
    windows = np.lib.stride_tricks.sliding_window_view(
        images, targets.shape[1:], axis=(1, 2))
    return np.einsum("nijrc,nrc->ij", windows, targets) / len(images)


def gradient_prediction(images, targets, kernel):
    """The prediction where the error belongs (targets not subtracted)."""
    return gradient_einsum(images, np.zeros_like(targets), kernel)


def test_kernel_gradient_passes_correct_variants(ref, capsys):
    for student in (ref.kernel_gradient, gradient_einsum,
                    gradient_per_image):
        check.kernel_gradient(student)
    assert "\u2714 kernel_gradient" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (gradient_sign, "minus the gradient"),
    (gradient_summed, "3 times the gradient"),
    (gradient_flipped, "flipped"),
    (gradient_positions, "number of output positions"),
    (gradient_twice, "factor 1/2"),
    (gradient_error_map, "shape of the error maps"),
    (gradient_half, "Half the gradient"),
    (gradient_transposed, "The gradient is transposed"),
    (gradient_targets, "the targets in place of the error"),
    (gradient_prediction, "the prediction in place of the error"),
])
def test_kernel_gradient_names_the_mistake(student, clue):
    assert clue in failure_of(check.kernel_gradient, student)


def test_a_transposed_gradient_is_named_for_a_non_square_kernel():
    """Visible case 2 has a 2x3 kernel: the transposed gradient is 3x2."""
    case = check.kernel_gradient.cases()["cases"][1]
    message = check.gradient_problem(
        gradient_transposed, case["images"], case["targets"],
        case["kernel"], case["expected"], case["variants"])
    assert "shape (3, 2), expected (2, 3)" in message
    assert "The gradient is transposed" in message


def test_hidden_kernel_gradient_scores(ref):
    assert hidden("kernel_gradient", ref.kernel_gradient) == 2.0
    assert hidden("kernel_gradient", gradient_einsum) == 2.0
    assert hidden("kernel_gradient", gradient_per_image) == 2.0
    for mistake in (gradient_sign, gradient_summed, gradient_flipped,
                    gradient_half, gradient_transposed, gradient_targets,
                    gradient_prediction):
        assert hidden("kernel_gradient", mistake) < 2.0, mistake.__name__


def test_hidden_kernel_gradient_names_the_new_mistakes():
    from helpers import judged

    for mistake, clue in ((gradient_half, "Half the gradient"),
                          (gradient_transposed, "is transposed"),
                          (gradient_targets, "the targets in place")):
        output = judged(check, "kernel_gradient", mistake)[
            "hidden_kernel_gradient"]["output"]
        assert clue in output, (mistake.__name__, output)


# --------------------------------------------------------- learn_kernel ---

def learn_reference_style(images, targets, kernel_size=3,
                          learning_rate=0.003, steps=500):
    kernel = np.zeros((kernel_size, kernel_size))
    for _ in range(steps):
        kernel -= learning_rate * gradient_einsum(images, targets, kernel)
    return kernel


def learn_least_squares(images, targets, kernel_size=3,
                        learning_rate=0.003, steps=500):
    # A correct alternative: solve for the kernel directly.
    rows, cols = targets.shape[1:]
    columns = [images[:, i:i + rows, j:j + cols].ravel()
               for i in range(kernel_size) for j in range(kernel_size)]
    solution = np.linalg.lstsq(np.stack(columns, axis=1), targets.ravel(),
                               rcond=None)[0]
    return solution.reshape(kernel_size, kernel_size)


def learn_uphill(images, targets, kernel_size=3, learning_rate=0.003,
                 steps=500):
    kernel = np.zeros((kernel_size, kernel_size))
    for _ in range(steps):
        kernel += learning_rate * gradient_einsum(images, targets, kernel)
    return kernel


def learn_never_updates(images, targets, kernel_size=3,
                        learning_rate=0.003, steps=500):
    kernel = np.zeros((kernel_size, kernel_size))
    for _ in range(steps):
        kernel - learning_rate * gradient_einsum(images, targets, kernel)
    return kernel


def learn_flipped(images, targets, kernel_size=3, learning_rate=0.003,
                  steps=500):
    return learn_reference_style(images, targets, kernel_size,
                                 learning_rate, steps)[::-1, ::-1]


def learn_one_step_short(images, targets, kernel_size=3,
                         learning_rate=0.003, steps=500):
    return learn_reference_style(images, targets, kernel_size,
                                 learning_rate, steps - 5)


def learn_fixed_size(images, targets, kernel_size=3, learning_rate=0.003,
                     steps=500):
    """Ignores kernel_size: always a 3x3 kernel."""
    kernel = np.zeros((3, 3))
    for _ in range(steps):
        kernel -= learning_rate * gradient_einsum(images, targets, kernel)
    return kernel


def learn_fixed_size_sliced(images, targets, kernel_size=3,
                            learning_rate=0.003, steps=500):
    """Ignores kernel_size, and crops the targets to make it fit."""
    rows, cols = images.shape[1] - 2, images.shape[2] - 2
    return learn_reference_style(images, targets[:, :rows, :cols], 3,
                                 learning_rate, steps)


def test_learn_kernel_passes_correct_variants(ref, capsys):
    for student in (ref.learn_kernel, learn_reference_style,
                    learn_least_squares):
        check.learn_kernel(student)
    assert "\u2714 learn_kernel" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (learn_uphill, "grew without bound"),
    (learn_never_updates, "still all zeros"),
    (learn_flipped, "flipped by 180 degrees"),
    (learn_one_step_short, "exactly `steps` steps"),
    (learn_fixed_size, "kernel_size is 2 here"),
    (learn_fixed_size_sliced, "kernel_size is 2 here"),
])
def test_learn_kernel_names_the_mistake(student, clue):
    assert clue in failure_of(check.learn_kernel, student)


def test_hidden_learn_kernel_scores(ref):
    assert hidden("learn_kernel", ref.learn_kernel) == 2.0
    assert hidden("learn_kernel", learn_least_squares) == 2.0
    for mistake in (learn_uphill, learn_never_updates, learn_flipped):
        assert hidden("learn_kernel", mistake) == 0.0
    assert hidden("learn_kernel", learn_fixed_size) < 2.0
