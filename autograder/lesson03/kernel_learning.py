"""Lesson 03, part 5, learning a kernel: kernel_gradient, learn_kernel."""

import numpy as np

from autograder.feedback import (
    CheckFailure,
    close_array,
    compare_arrays,
    quiet,
    raised,
    require_array,
    same_array,
    scratch_call,
)
from autograder.lesson03.common import call_text, lesson
from cnn_course.messages import t

# Captured at import, before any learner code runs.
_isfinite = np.isfinite


def kernel_inputs(rng):
    """Inputs of the visible kernel_gradient and learn_kernel cases.

    Kernels are not symmetric (a flipped gradient shows) and batches have
    more than one image (a gradient not averaged over them shows). Pixels
    are centred on 0, so that gradient descent converges in few steps.
    """
    def problem(count, height, width, kernel_shape):
        images = rng.uniform(-1, 1, (count, height, width)).round(3)
        true_kernel = rng.uniform(-1, 1, kernel_shape).round(2)
        return images, true_kernel

    gradient_cases = []
    for count, height, width, kernel_shape in ((3, 7, 6, (3, 3)),
                                               (2, 5, 8, (2, 3)),
                                               (4, 6, 6, (3, 3))):
        images, true_kernel = problem(count, height, width, kernel_shape)
        gradient_cases.append({
            "images": images, "true_kernel": true_kernel,
            "kernel": rng.uniform(-1, 1, kernel_shape).round(2)})
    learn_cases = []
    for count, size, kernel_size, learning_rate, steps in (
            (4, 8, 3, 0.05, 100), (3, 7, 2, 0.05, 20)):
        images, true_kernel = problem(count, size, size,
                                      (kernel_size, kernel_size))
        learn_cases.append({"images": images, "true_kernel": true_kernel,
                            "kernel_size": kernel_size,
                            "learning_rate": learning_rate,
                            "steps": steps})
    return {"kernel_gradient": {"cases": gradient_cases},
            "learn_kernel": {"cases": learn_cases}}


def _with_targets(ref, case):
    """A case with the feature maps its true kernel makes (the targets)."""
    case["targets"] = ref.feature_maps(case["images"], case["true_kernel"])
    return case


def _gradient_mistake(name, count):
    """The hint for a likely kernel_gradient mistake, `count` images."""
    return {
        "sign": t("That is minus the gradient: the error is prediction - "
                  "target, feature_maps(images, kernel) - targets. With "
                  "target - prediction every step of gradient descent goes "
                  "uphill."),
        "batch_sum": t("That is {count} times the gradient: the loss "
                       "averages over the N = {count} images, so divide the "
                       "sum by len(images).", count=count),
        "positions": t("Divided by the number of output positions too: the "
                       "loss sums over positions and averages over the "
                       "images only."),
        "flipped": t("The gradient is flipped (turned by 180 degrees): "
                     "gradient[i, j] pairs error[n, r, c] with images[n, r "
                     "+ i, c + j], the pixel that kernel[i, j] multiplied."),
        "twice": t("Twice the gradient: the loss has a factor 1/2 that "
                   "cancels the 2 from differentiating the square."),
        "half": t("Half the gradient: dividing by 2N keeps the loss's 1/2, "
                  "but differentiating the square gives a 2 that cancels "
                  "it. Divide the sum by N = len(images)."),
        "transposed": t("The gradient is transposed: gradient[i, j] "
                        "belongs to kernel[i, j], which multiplies "
                        "images[n, r + i, c + j] (i rows down, j columns "
                        "across)."),
        "targets_as_error": t("That is the gradient with the targets in "
                              "place of the error: the error is "
                              "feature_maps(images, kernel) - targets, the "
                              "prediction minus the target."),
        "prediction_as_error": t("That is the gradient with the prediction "
                                 "in place of the error: subtract the "
                                 "targets, error = feature_maps(images, "
                                 "kernel) - targets."),
    }[name]


def gradient_variants(ref, images, targets, kernel):
    """What kernel_gradient gives with the targets, or the prediction, in
    place of the error, from the reference `ref`."""
    return {
        "targets_as_error": -ref.kernel_gradient(
            images, targets, np.zeros(kernel.shape, dtype=kernel.dtype)),
        "prediction_as_error": ref.kernel_gradient(
            images, np.zeros_like(targets), kernel),
    }


def _gradient_hint(got, want, count, positions, variants=None):
    """Name the mistake whose result `got` is, or None. `variants` as
    `gradient_variants` gives them, where they are known."""
    candidates = {"sign": -want, "batch_sum": count * want,
                  "positions": want / positions, "flipped": want[::-1, ::-1],
                  "twice": 2 * want, "half": want / 2, "transposed": want.T,
                  **(variants or {})}
    for name, variant in candidates.items():
        variant = np.asarray(variant, dtype=np.float64)
        if variant.shape != got.shape:
            continue
        scale = max(1.0, float(np.abs(want).max()),
                    float(np.abs(variant).max()))
        atol, rtol = 1e-6 * scale, 1e-6
        if variant.shape == want.shape and close_array(variant, want, atol,
                                                       rtol):
            continue  # this mistake gives the right answer here
        if close_array(got, variant, atol, rtol):
            return _gradient_mistake(name, count)
    return None


@quiet
def gradient_problem(kernel_gradient, images, targets, kernel, want,
                      variants=None):
    """Message for what kernel_gradient got wrong on one case, or None;
    `variants` as `gradient_variants` gives them (for hints)."""
    what = call_text("kernel_gradient", images, targets, kernel)
    before = [images.copy(), targets.copy(), kernel.copy()]
    got = require_array(scratch_call(kernel_gradient, "kernel_gradient",
                                     images, targets, kernel), what)
    if not all(same_array(now, old) for now, old in
               zip((images, targets, kernel), before)):
        return t("{what} modified its input; return a new array instead.",
                 what=what)
    if got.shape != want.shape and got.shape in (targets.shape,
                                                 targets.shape[1:]):
        return t("{what}: shape {got}, expected {want}.\nThat is the shape "
                 "of the error maps; the gradient has one number per kernel "
                 "weight: sum each weight's products over the images and "
                 "positions.", what=what, got=got.shape, want=want.shape)
    problem = compare_arrays(got, want, what, dtype="float",
                             atol=1e-6 * max(1.0, float(np.abs(want).max())),
                             rtol=1e-6)
    if problem is None:
        return None
    hint = None
    if got.ndim == 2 and got.dtype.kind == "f":
        hint = _gradient_hint(got, want, len(images),
                              targets.shape[1] * targets.shape[2],
                              variants)
    return f"{problem}\n{hint}" if hint else problem


def gradient_expected(ref, data):
    for case in data["cases"]:
        _with_targets(ref, case)
        case["expected"] = ref.kernel_gradient(case["images"],
                                               case["targets"],
                                               case["kernel"])
        case["variants"] = gradient_variants(ref, case["images"],
                                             case["targets"], case["kernel"])


@lesson.exercise(parameters=("images", "targets", "kernel"),
                 expected=gradient_expected, problem=gradient_problem,
                 from_scratch=True)
def kernel_gradient(kernel_gradient, data):
    """Visible check of kernel_gradient against the reference."""
    for case in data["cases"]:
        yield gradient_problem(kernel_gradient, case["images"],
                               case["targets"], case["kernel"],
                               case["expected"], case["variants"])
    return t("kernel_gradient: the error is prediction - target, each "
             "weight paired with the pixels it multiplied, averaged over the "
             "images.")


@quiet
def learn_problem(learn_kernel, case, want):
    """Message for what learn_kernel got wrong on one case, or None."""
    images, targets = case["images"], case["targets"]
    settings = {"kernel_size": case["kernel_size"],
                "learning_rate": case["learning_rate"],
                "steps": case["steps"]}
    what = call_text("learn_kernel", images, targets, **settings)
    before = [images.copy(), targets.copy()]
    size = case["kernel_size"]
    try:
        got = require_array(scratch_call(learn_kernel, "learn_kernel",
                                         images, targets, **settings), what)
    except CheckFailure as failure:
        if raised(failure) is None or size == 3:
            raise
        return f"{failure.message}\n{_kernel_size_hint(size)}"
    if not all(same_array(now, old) for now, old in
               zip((images, targets), before)):
        return t("{what} modified its input; return a new array instead.",
                 what=what)
    true_kernel = case["true_kernel"]
    if got.shape == want.shape and got.dtype.kind == "f" and bool(
            _isfinite(got).all()):
        # A correct alternative (another solver, another start) may differ
        # from the reference's descent, but it is no further from the truth.
        reference_error = float(np.abs(want - true_kernel).max())
        if float(np.abs(got - true_kernel).max()) <= max(
                1.5 * reference_error, 1e-6):
            return None
    problem = compare_arrays(got, want, what, dtype="float",
                             atol=1e-6, rtol=1e-5)
    if problem is None:
        return None
    hint = None
    if got.shape == (3, 3) and want.shape != (3, 3):
        hint = _kernel_size_hint(size)
    elif got.shape == want.shape and got.dtype.kind == "f":
        largest = float(np.abs(got).max()) if got.size else 0.0
        if not bool(_isfinite(got).all()) or largest > 1e3 * max(
                1.0, float(np.abs(want).max())):
            hint = t("The kernel grew without bound ({largest}): gradient "
                     "descent went uphill. Subtract the gradient (kernel -= "
                     "learning_rate * gradient), and check that "
                     "kernel_gradient passes its check: a wrong sign, or a "
                     "gradient N times too large, makes the steps "
                     "overshoot.", largest=t("largest |weight| {value:.3g}",
                                             value=largest))
        elif not got.any():
            hint = t("The kernel is still all zeros: update it at every step "
                     "with kernel = kernel - learning_rate * "
                     "kernel_gradient(images, targets, kernel).")
        elif close_array(got[::-1, ::-1], want, 1e-4, 1e-4):
            hint = t("That is the learned kernel flipped by 180 degrees: "
                     "gradient descent learns the kernel that "
                     "feature_maps(images, kernel) uses, with no flip.")
        else:
            hint = t("Start from np.zeros((kernel_size, kernel_size)) and "
                     "take exactly `steps` steps of kernel -= learning_rate "
                     "* kernel_gradient(images, targets, kernel).")
    return f"{problem}\n{hint}" if hint else problem


def _kernel_size_hint(size):
    return t("kernel_size is {size} here: start from "
             "np.zeros((kernel_size, kernel_size)), not from a 3x3 kernel; "
             "a {size}x{size} kernel makes feature maps of (N, H - {size} "
             "+ 1, W - {size} + 1), the targets' shape.", size=size)


def learn_expected(ref, data):
    for case in data["cases"]:
        _with_targets(ref, case)
        case["expected"] = ref.learn_kernel(
            case["images"], case["targets"], case["kernel_size"],
            case["learning_rate"], case["steps"])


@lesson.exercise(parameters=("images", "targets", "kernel_size",
                             "learning_rate", "steps"),
                 expected=learn_expected, problem=learn_problem,
                 from_scratch=True)
def learn_kernel(learn_kernel, data):
    """Visible check of learn_kernel: the kernel gradient descent finds."""
    for case in data["cases"]:
        yield learn_problem(learn_kernel, case, case["expected"])
    return t("learn_kernel: gradient descent from zeros recovers the "
             "kernel that made the feature maps.")
