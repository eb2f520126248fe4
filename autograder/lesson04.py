"""Checks for lesson 04: build_cnn, shifted_accuracy, build_robust_cnn."""

import numpy as np

from autograder import models
from autograder.exercise import Lesson
from autograder.feedback import call, render_call
from cnn_course.messages import t

lesson = Lesson("04_keras_cnn", seed=404)
# Each exercise is declared once, in its own section below
# (`autograder.exercise`); EXERCISES, FROM_SCRATCH, hidden_<exercise>, ...
# come from the declarations (`Lesson.attribute`).
__getattr__ = lesson.attribute
PROBE_SIZE = 8
FAINT_CLASS = PROBE_SIZE  # the probe's answer for faint or empty images
FAINT_THRESHOLD = 4.0
# The lesson trains on 60,000 digits in batches of 128.
STEPS_PER_EPOCH = 469


def keras_module():
    from cnn_course import import_tensorflow

    return import_tensorflow()[1]


# --------------------------------------------------------- probe models ---

def probe_model(kind, weight_scale=1.0):
    """A fixed model whose answers depend on exact shifts and on scaling.

    Class k (k < 8) scores the ink in column k of an 8x8 image; class 8
    scores a constant 4. A full-height line at column k scores 8 when
    pixels are scaled to 0..1, so bright lines read as their column and
    faint or vanished lines as class 8. `kind` is "dense" (input (64,)) or
    "cnn" (input (8, 8, 1)). weight_scale=255 makes the model behave as if
    its inputs were not divided by 255.
    """
    keras = keras_module()
    pixels = PROBE_SIZE * PROBE_SIZE
    shape = (pixels,) if kind == "dense" else (PROBE_SIZE, PROBE_SIZE, 1)
    layers = [keras.Input(shape=shape)]
    if kind != "dense":
        layers.append(keras.layers.Flatten())
    output = keras.layers.Dense(PROBE_SIZE + 1, activation="softmax")
    model = keras.Sequential([*layers, output])
    weights = np.zeros((pixels, PROBE_SIZE + 1), dtype="float32")
    for pixel in range(pixels):
        weights[pixel, pixel % PROBE_SIZE] = weight_scale
    bias = np.zeros(PROBE_SIZE + 1, dtype="float32")
    bias[FAINT_CLASS] = FAINT_THRESHOLD
    output.set_weights([weights, bias])
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def probe_images(rng, count):
    """Vertical lines: bright ones read as their column, faint ones as 8.

    A bright line's label is its column plus an offset of 0, +1, +2 or -3,
    so that the accuracy at a shift of +2 differs from that at -2: a shift
    in the wrong direction gives different numbers.
    """
    images = np.zeros((count, PROBE_SIZE, PROBE_SIZE), dtype=np.uint8)
    labels = np.zeros(count, dtype=np.int64)
    for index in range(count):
        column = int(rng.integers(0, PROBE_SIZE))
        bright = rng.random() < 0.7
        images[index, :, column] = rng.integers(200, 256) if bright \
            else rng.integers(40, 110)
        offset = int(rng.choice([0, 0, 1, 2, -3]))
        labels[index] = (np.clip(column + offset, 0, PROBE_SIZE - 1)
                         if bright else FAINT_CLASS)
    return images, labels


# ------------------------------------------------------------ build_cnn ---

def cnn_inputs(rng):
    del rng  # no random values
    return {"sizes": [[[28, 28, 1], 10], [[12, 12, 1], 4]]}


def cnn_expected(ref, case):
    case["expected"] = [
        models.describe(ref.build_cnn(tuple(shape), num_classes))
        for shape, num_classes in case["sizes"]
    ]


def cnn_problem(build_cnn, input_shape, num_classes, want):
    what = render_call("build_cnn", (), {"input_shape": input_shape,
                                         "num_classes": num_classes})
    model = call(build_cnn, "build_cnn", input_shape=input_shape,
                 num_classes=num_classes)
    return models.architecture_problem(what, model, want)


@lesson.exercise(parameters=("input_shape", "num_classes"),
                 inputs=cnn_inputs, expected=cnn_expected,
                 problem=cnn_problem)
def build_cnn(build_cnn, case):
    """Visible check of the seed CNN's layers and compile settings."""
    for (shape, num_classes), want in zip(case["sizes"], case["expected"]):
        yield cnn_problem(build_cnn, tuple(shape), num_classes, want)
    return t("build_cnn: Conv2D(32, 3x3, relu) -> MaxPooling2D(2x2) -> "
             "Flatten -> Dense(1000, relu) -> Dense(softmax), compiled.")


# ----------------------------------------------------- shifted_accuracy ---

def accuracy_inputs(rng):
    """Probe images (`probe_images`) and shifts both ways, of 0 and of
    the full width."""
    images, labels = probe_images(rng, 40)
    return {"images": images, "labels": labels,
            "shifts": [-8, -3, -2, 0, 2, 3, 8]}


def accuracy_expected(ref, case):
    """The reference's accuracies of both probe models, and those of
    unscaled inputs (the probe with weights 255 times larger)."""
    for kind in ("dense", "cnn"):
        for scale, key in ((1.0, "expected"), (255.0, "if_unscaled")):
            accuracies = ref.shifted_accuracy(
                probe_model(kind, scale), case["images"], case["labels"],
                case["shifts"])
            case[f"{kind}_{key}"] = [accuracies[shift]
                                     for shift in case["shifts"]]


def accuracy_problem(shifted_accuracy, kind, images, labels, shifts,
                      want, if_unscaled):
    """Message for what shifted_accuracy got wrong on one model, or None."""
    model = probe_model(kind)
    before = images.copy()
    what = render_call("shifted_accuracy",
                       (model, images, labels, list(shifts)))
    got = call(shifted_accuracy, "shifted_accuracy", model, images, labels,
               list(shifts))
    if not isinstance(got, dict):
        return t("{what} returned {kind}; expected a dict.", what=what,
                 kind=type(got).__name__)
    if not (images == before).all():
        return t("{what} modified `images`; shift copies instead.",
                 what=what)
    if sorted(got) != sorted(shifts):
        return t("{what}: keys {keys}, expected one per shift: {shifts}.",
                 what=what, keys=sorted(got), shifts=sorted(shifts))
    values = {}
    for shift in shifts:
        value = got[shift]
        if not isinstance(value, (float, int, np.floating, np.integer)):
            return t("{what}[{shift}] is {kind}; expected a float "
                     "accuracy.", what=what, shift=shift,
                     kind=type(value).__name__)
        values[shift] = float(value)
    for index, shift in enumerate(shifts):
        if abs(values[shift] - want[index]) > 1e-6:
            return (t("{what}[{shift}] is {got:.4f}, expected "
                      "{want:.4f}.", what=what, shift=shift,
                      got=values[shift], want=want[index]) + "\n"
                    + _accuracy_hint(values, shifts, want, if_unscaled))
    return None


def _accuracy_hint(values, shifts, want, if_unscaled):
    got = [values[shift] for shift in shifts]
    if all(abs(a - b) < 1e-6 for a, b in zip(got, if_unscaled)):
        return t("Those are the accuracies of unscaled inputs: divide the "
                 "uint8 pixels by 255 first.")
    zero = values.get(0)
    full = [shift for shift in shifts if abs(shift) >= PROBE_SIZE]
    if zero is not None and full and all(
            abs(values[shift] - zero) < 1e-9 for shift in full):
        return t("Shifting by the full width gave the unshifted result: "
                 "looks like np.roll (content wrapped around). Vacated "
                 "pixels must be 0.")
    if all(value > 1.0 for value in got):
        return t("Accuracy is a fraction between 0 and 1, not a "
                 "percentage.")
    mirrored = [values.get(-shift) for shift in shifts]
    if None not in mirrored and all(
            abs(a - b) < 1e-6 for a, b in zip(mirrored, want)):
        return t("Moved the wrong way: a positive shift moves content "
                 "right.")
    return t("Shift each image horizontally (columns), scale to 0..1, "
             "reshape to the model's input shape, compare argmax with "
             "labels.")


@lesson.exercise(parameters=("model", "images", "labels", "shifts"),
                 inputs=accuracy_inputs, expected=accuracy_expected,
                 problem=accuracy_problem)
def shifted_accuracy(shifted_accuracy, case):
    """Visible check on two fixed probe models (flat and image inputs)."""
    for kind in ("dense", "cnn"):
        yield accuracy_problem(
            shifted_accuracy, kind, case["images"], case["labels"],
            case["shifts"], case[f"{kind}_expected"],
            case[f"{kind}_if_unscaled"])
    return t("shifted_accuracy: exact zero-filled shifts, scaled to "
             "0..1, reshaped for flat and image models.")


# ----------------------------------------------------- build_robust_cnn ---

def robust_inputs(rng):
    del rng  # no random values
    return {"sizes": [[[28, 28, 1], 10]]}


def robust_expected(ref, case):
    """Nothing: the check asks for parts, not one architecture."""
    del ref, case


def translation_layers(model):
    """Every RandomTranslation layer in `model`, nested models included."""
    keras = keras_module()
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.RandomTranslation):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found += translation_layers(layer)
    return found


def robust_problem(build_robust_cnn, input_shape, num_classes):
    """Message for what the robust model lacks, or None."""
    keras = keras_module()
    what = render_call("build_robust_cnn", (),
                       {"input_shape": input_shape,
                        "num_classes": num_classes})
    model = call(build_robust_cnn, "build_robust_cnn",
                 input_shape=input_shape, num_classes=num_classes)
    if not isinstance(model, keras.Model):
        return not_a_model(what, model)
    layers = translation_layers(model)
    if not layers:
        return t("{what}: no keras.layers.RandomTranslation layer. Without "
                 "it the model never sees a shifted digit in training.",
                 what=what)
    widths = [abs(float(np.max(np.abs(layer.width_factor))))
              for layer in layers]
    if max(widths) < 0.1:
        return t("{what}: RandomTranslation width_factor is {width}, so "
                 "training moves digits at most {pixels:.1f} px sideways; "
                 "this lesson measures shifts of up to 4 px. The lesson's "
                 "design uses 0.12 (up to 0.12 x 28, about 3.4 px).",
                 what=what, width=max(widths),
                 pixels=max(widths) * input_shape[1])
    if not any(isinstance(layer, keras.layers.Conv2D)
               for layer in all_layers(model)):
        return t("{what}: no Conv2D layer; this lesson's model is a CNN.",
                 what=what)
    description = models.describe(model)
    want = {"input_shape": [None, *input_shape],
            "output_shape": [None, num_classes],
            "loss": "categorical_crossentropy"}
    return models.compile_problem(what, description, want) or \
        _schedule_problem(what, model)


def not_a_model(what, value):
    """The message for a call `what` that returned `value`, not a Keras
    model."""
    return t("{what} returned {kind}, not a Keras model.", what=what,
             kind=type(value).__name__)


def learning_rate_at(model, step):
    """The compiled optimizer's learning rate after `step` batches, or
    None if there is no optimizer or its rate cannot be read."""
    keras = keras_module()
    optimizer = getattr(model, "optimizer", None)
    rate = getattr(optimizer, "_learning_rate", None)
    try:
        if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule):
            return float(rate(step))
        return float(np.asarray(rate)) if rate is not None else None
    except (TypeError, ValueError):
        return None


def _schedule_problem(what, model):
    """A learning rate that reaches 0 within the lesson's first epoch."""
    rate = learning_rate_at(model, STEPS_PER_EPOCH)
    if rate is not None and rate <= 1e-8:
        return (t("{what}: after one epoch ({steps} batches of 128) the "
                  "learning rate is {rate:.2g}, so training stops learning "
                  "there.", what=what, steps=STEPS_PER_EPOCH, rate=rate)
                + "\n" + t("A schedule's decay_steps counts batches "
                           "(steps), not epochs: 6 epochs are 6 * {steps} "
                           "steps.", steps=STEPS_PER_EPOCH))
    return None


def all_layers(model):
    """Every layer of `model`, nested models' layers included."""
    keras = keras_module()
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)


@lesson.exercise(parameters=("input_shape", "num_classes"),
                 inputs=robust_inputs, expected=robust_expected,
                 problem=robust_problem)
def build_robust_cnn(build_robust_cnn, case):
    """Visible check: RandomTranslation built in, CNN, compiled."""
    for shape, num_classes in case["sizes"]:
        yield robust_problem(build_robust_cnn, tuple(shape), num_classes)
    return t("build_robust_cnn: a compiled CNN with RandomTranslation "
             "augmentation built in.")
