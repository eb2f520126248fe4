"""Hidden tests of lesson 04, run by the judge on recorded answers.

Each `hidden_<exercise>` adds its cases (`scoring.hidden_test`): inputs
from `rng` (seeded per grading run and exercise), `func` a replay of the
kernel's answers, `ref` the reference solutions.
"""

import hashlib
import json

import numpy as np

from autograder import lesson04 as checks
from autograder.messages import t
from trusted_grader import replay, robustness, training_log
from trusted_grader.scoring import hidden_test

hidden = hidden_test(checks.LESSON)


@hidden
def hidden_build_cnn(build_cnn, score, ref, rng):
    """Hidden tests: the architecture for other input shapes and classes."""
    sizes = [((28, 28, 1), 10)] + [
        ((int(side), int(side), int(channels)), int(classes))
        for side, channels, classes in zip(rng.integers(8, 33, 2),
                                           rng.integers(1, 4, 2),
                                           rng.integers(2, 12, 2))
    ]
    for shape, num_classes in sizes:
        want = checks.models.describe(ref.build_cnn(shape, num_classes))
        score.case(t("input {shape}, {num_classes} classes", shape=shape,
                     num_classes=num_classes),
                   lambda s=shape, c=num_classes, w=want:
                   checks._cnn_problem(build_cnn, s, c, w))


@hidden
def hidden_shifted_accuracy(shifted_accuracy, score, ref, rng):
    """Hidden tests: fresh probe images and shifts against the reference."""
    for kind in ("dense", "cnn"):
        images, labels = checks.probe_images(rng, int(rng.integers(20, 60)))
        shifts = sorted({int(s) for s in rng.integers(-9, 10, 4)} | {0})

        def run(k=kind, i=images, la=labels, s=shifts):
            want = ref.shifted_accuracy(checks.probe_model(k), i, la, s)
            unscaled = ref.shifted_accuracy(checks.probe_model(k, 255.0),
                                            i, la, s)
            return checks._accuracy_problem(
                shifted_accuracy, k, i, la, s, [want[x] for x in s],
                [unscaled[x] for x in s])

        score.case(t("{kind} probe, {count} images, shifts {shifts}",
                     kind=kind, count=len(images), shifts=shifts), run)


def _translation_is_active(build_robust_cnn):
    """In training the augmentation moves digits; at inference it does not."""
    model = checks.call(build_robust_cnn, "build_robust_cnn")
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


def architecture_key(model):
    """A canonical form of the model's layers and compile settings.

    Layer names (dense_3, dense_7, ...) depend on what else was built and
    are dropped, so two learners' identical designs share a key.
    """
    def strip(value):
        if isinstance(value, dict):
            return {key: strip(item) for key, item in sorted(value.items())
                    if key != "name"}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    config = {"model": strip(model.get_config()),
              "compile": strip(model.get_compile_config() or {})}
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


_robustness_results = {}  # architecture key -> train_and_measure result


def _holds_under_shifts(build_robust_cnn):
    """The judge trains the learner's architecture itself and measures it.

    Trained once per architecture and grading run (identical designs share
    the result); the criterion is `trusted_grader.robustness`'s.
    """
    model = checks.call(build_robust_cnn, "build_robust_cnn",
                        input_shape=robustness.INPUT_SHAPE, num_classes=10)
    if replay.collecting():
        return None
    keras = checks._keras()
    if not isinstance(model, keras.Model):
        return checks.not_a_model("build_robust_cnn", model)
    key = architecture_key(model)
    cached = key in _robustness_results
    if not cached:
        _robustness_results[key] = robustness.train_and_measure(model, 0)
    result = _robustness_results[key]
    training_log.note(key, result["seconds"], cached)
    return robustness.robustness_problem(result)


@hidden
def hidden_build_robust_cnn(build_robust_cnn, score, ref, rng):
    """Hidden tests: other sizes, live augmentation, robust when trained."""
    for shape, num_classes in (((32, 32, 1), 5),):
        score.case(t("input {shape}, {num_classes} classes", shape=shape,
                     num_classes=num_classes),
                   lambda s=shape, c=num_classes:
                   checks._robust_problem(build_robust_cnn, s, c))
    score.case(t("RandomTranslation moves digits in training only"),
               lambda: _translation_is_active(build_robust_cnn))
    score.case(t("holds up on shifted digits after the grader's training"),
               lambda: _holds_under_shifts(build_robust_cnn))
