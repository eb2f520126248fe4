"""Hidden tests of lesson 04, run by the judge on recorded answers.

Each `hidden_<exercise>` adds the cases of the exercise declared in
`autograder.lesson04` (`scoring.hidden_test`), compared by the
declaration's `problem`: inputs from `rng` (seeded per grading run and
exercise), `func` a replay of the kernel's answers, `ref` the reference
solutions.
"""

import numpy as np

from autograder import lesson04 as checks
from autograder import models
from autograder.feedback import call
from cnn_course.messages import t
from trusted_grader.judging import replay, robustness, training_log
from trusted_grader.judging.scoring import hidden_test

# input shape, classes: the lesson's (a visible case), then two no visible
# case has: 3 and 2 channels, an odd side (pooling floors 13 to 6), other
# class counts (28x28x1 or 10 written into the model shows).
CNN_SIZES = (((28, 28, 1), 10), ((20, 20, 3), 5), ((15, 15, 2), 7))


@hidden_test(checks.build_cnn)
def hidden_build_cnn(build_cnn, score, ref, rng):
    """Hidden tests: the architecture for other input shapes and classes
    (fixed: the sizes are the structure)."""
    del rng
    for shape, num_classes in CNN_SIZES:
        want = models.describe(ref.build_cnn(shape, num_classes))
        score.case(t("input {shape}, {num_classes} classes", shape=shape,
                     num_classes=num_classes),
                   lambda s=shape, c=num_classes, w=want:
                   checks.build_cnn.problem(build_cnn, s, c, w),
                   fresh=(shape, num_classes) != CNN_SIZES[0])


# probe kind, faint lines, bright lines, shifts. Each list holds 0 (the
# faint lines show unscaled pixels), -2 and +2 (a shift the wrong way, or
# along rows, shows) and -8, the full width (np.roll, which then changes
# nothing, shows, even where positive shifts were mended).
PROBE_CASES = (("dense", 12, 28, (-8, -3, -2, 0, 2, 8)),
               ("cnn", 10, 26, (-8, -2, -1, 0, 2, 5)))


def _probe_images(rng, faint, bright):
    """Probe images (see `checks.probe_model`): `faint` faint lines and
    `bright` bright ones, in random columns, brightness and order.

    A bright line's label is its column plus 0, 1 or 2 (never less), so
    whatever is drawn: at shift -2 only the faint lines are read right,
    at +2 at least one bright line more (the second below: label = column
    + 2), and with no shift at least one bright line more than with the
    line gone (the first below: label = column). So the accuracies at +2
    and -2 differ, a line kept at the full width shows, and the faint
    lines show unscaled pixels (they read as their column).
    """
    count = faint + bright
    columns = rng.integers(0, checks.PROBE_SIZE, count)
    columns[1] = rng.integers(0, checks.PROBE_SIZE - 2)
    offsets = rng.integers(0, 3, count)
    offsets[:2] = (0, 2)
    is_bright = np.arange(count) < bright
    labels = np.where(is_bright,
                      np.minimum(columns + offsets, checks.PROBE_SIZE - 1),
                      checks.FAINT_CLASS)
    values = np.where(is_bright, rng.integers(200, 256, count),
                      rng.integers(40, 110, count))
    images = np.zeros((count, checks.PROBE_SIZE, checks.PROBE_SIZE),
                      dtype=np.uint8)
    images[np.arange(count), :, columns] = values[:, None]
    order = rng.permutation(count)
    return images[order], labels[order].astype(np.int64)


# (reference, kind, weight scale, images, labels, shifts) -> the
# reference's accuracies. Made from the judge's own inputs and reference
# only, so no answer reaches it; every submission in a run has the run's
# probe images, and this spares the judge 24 predictions for each.
_reference_accuracies = {}


def _accuracies(ref, kind, scale, images, labels, shifts):
    """The reference's accuracies of the probe model at `shifts`."""
    key = (id(ref), kind, scale, images.tobytes(), labels.tobytes(),
           tuple(shifts))
    if key not in _reference_accuracies:
        if len(_reference_accuracies) >= 64:
            _reference_accuracies.clear()
        found = ref.shifted_accuracy(checks.probe_model(kind, scale),
                                     images, labels, list(shifts))
        _reference_accuracies[key] = tuple(found[x] for x in shifts)
    return list(_reference_accuracies[key])


@hidden_test(checks.shifted_accuracy)
def hidden_shifted_accuracy(shifted_accuracy, score, ref, rng):
    """Hidden tests: fresh probe images, fixed counts and shifts."""
    for kind, faint, bright, shifts in PROBE_CASES:
        images, labels = _probe_images(rng, faint, bright)
        shifts = list(shifts)

        def run(k=kind, i=images, la=labels, s=shifts):
            return checks.shifted_accuracy.problem(
                shifted_accuracy, k, i, la, s,
                _accuracies(ref, k, 1.0, i, la, s),
                _accuracies(ref, k, 255.0, i, la, s))

        if kind == "dense":
            label = t("dense probe, {count} images, shifts {shifts}",
                      count=len(images), shifts=shifts)
        else:
            label = t("cnn probe, {count} images, shifts {shifts}",
                      count=len(images), shifts=shifts)
        score.case(label, run)


def _translation_is_active(build_robust_cnn):
    """In training the augmentation moves digits; at inference it does not."""
    model = call(build_robust_cnn, "build_robust_cnn")
    layer = checks.translation_layers(model)[0]
    image = np.zeros((8, 28, 28, 1), dtype="float32")
    image[:, 8:20, 12:16] = 1.0
    trained = np.asarray(layer(image, training=True))
    inferred = np.asarray(layer(image, training=False))
    if not (inferred == image).all():
        return t("RandomTranslation changes images at inference time.")
    if (trained == image).all():
        return t("RandomTranslation left every image unchanged in "
                 "training: its factors are 0?")
    return None


_robustness_results = {}  # architecture key -> train_and_measure result


def _holds_under_shifts(build_robust_cnn):
    """The judge trains the learner's architecture itself and measures it.

    It trains the model built for the 14x14 probe, which must be the same
    design as the one built for the lesson's 28x28 digits
    (`robustness.design_problem`) and within the trial's compute limits
    (`robustness.training_problem`), both checked before any training.
    Trained once per architecture and grading run: models share a result
    only if their whole saved configs agree (`robustness.architecture_key`);
    the criterion is `trusted_grader.judging.robustness`'s.
    """
    model = call(build_robust_cnn, "build_robust_cnn",
                        input_shape=robustness.INPUT_SHAPE, num_classes=10)
    lesson_model = call(build_robust_cnn, "build_robust_cnn",
                               input_shape=robustness.LESSON_SHAPE,
                               num_classes=10)
    if replay.collecting():
        return None
    keras = checks.keras_module()
    for built in (model, lesson_model):
        if not isinstance(built, keras.Model):
            return checks.not_a_model("build_robust_cnn", built)
    problem = robustness.design_problem(model, lesson_model) or \
        robustness.training_problem(model)
    if problem:
        return problem
    key = robustness.architecture_key(model)
    cached = key in _robustness_results
    if not cached:
        _robustness_results[key] = robustness.train_and_measure(model, 0)
    result = _robustness_results[key]
    training_log.note(key, result["seconds"], cached)
    return robustness.robustness_problem(result)


@hidden_test(checks.build_robust_cnn)
def hidden_build_robust_cnn(build_robust_cnn, score, ref, rng):
    """Hidden tests: other sizes, live augmentation, robust when trained."""
    for shape, num_classes in (((32, 32, 1), 5),):
        score.case(t("input {shape}, {num_classes} classes", shape=shape,
                     num_classes=num_classes),
                   lambda s=shape, c=num_classes:
                   checks.build_robust_cnn.problem(build_robust_cnn, s,
                                                   c))
    score.case(t("RandomTranslation moves digits in training only"),
               lambda: _translation_is_active(build_robust_cnn))
    score.case(t("holds up on shifted digits after the grader's training"),
               lambda: _holds_under_shifts(build_robust_cnn))
