"""Checks for lesson 04: build_cnn, shifted_accuracy, build_robust_cnn."""

import numpy as np

from autograder import expected, models, reference
from autograder.feedback import (
    CheckFailure,
    HiddenScore,
    call,
    guard_checks,
    passed,
)

LESSON = "04_keras_cnn"
PROBE_SIZE = 8
FAINT_CLASS = PROBE_SIZE  # the probe's answer for faint or empty images
FAINT_THRESHOLD = 4.0


def _keras():
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
    keras = _keras()
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


# ---------------------------------------------------------------- cases ---

def visible_inputs():
    images, labels = probe_images(np.random.default_rng(404), 40)
    return {
        "build_cnn": {"sizes": [[[28, 28, 1], 10], [[12, 12, 1], 4]]},
        "shifted_accuracy": {"images": images, "labels": labels,
                             "shifts": [-8, -3, -2, 0, 2, 3, 8]},
        "build_robust_cnn": {"sizes": [[[28, 28, 1], 10]]},
    }


def build_expected(ref):
    cases = visible_inputs()
    cnn_case = cases["build_cnn"]
    cnn_case["expected"] = [
        models.describe(ref.build_cnn(tuple(shape), num_classes))
        for shape, num_classes in cnn_case["sizes"]
    ]
    shift_case = cases["shifted_accuracy"]
    for kind in ("dense", "cnn"):
        for scale, key in ((1.0, "expected"), (255.0, "if_unscaled")):
            accuracies = ref.shifted_accuracy(
                probe_model(kind, scale), shift_case["images"],
                shift_case["labels"], shift_case["shifts"])
            shift_case[f"{kind}_{key}"] = [accuracies[shift] for shift
                                           in shift_case["shifts"]]
    return cases


def _cases(exercise):
    return expected.load(LESSON)[exercise]


# ------------------------------------------------------------ build_cnn ---

def _cnn_problem(build_cnn, input_shape, num_classes, want):
    what = f"build_cnn(input_shape={input_shape}, num_classes={num_classes})"
    model = call(build_cnn, "build_cnn", input_shape=input_shape,
                 num_classes=num_classes)
    return models.architecture_problem(what, model, want)


def build_cnn(build_cnn):
    """Visible check of the seed CNN's layers and compile settings."""
    case = _cases("build_cnn")
    for (shape, num_classes), want in zip(case["sizes"], case["expected"]):
        problem = _cnn_problem(build_cnn, tuple(shape), num_classes, want)
        if problem:
            raise CheckFailure(problem)
    passed("build_cnn: Conv2D(32, 3x3, relu) -> MaxPooling2D(2x2) -> "
           "Flatten -> Dense(1000, relu) -> Dense(softmax), compiled.")


def hidden_build_cnn(build_cnn, points):
    """Hidden tests: the architecture for other input shapes and classes."""
    ref = reference.load(LESSON)
    score = HiddenScore("build_cnn")
    rng = np.random.default_rng()
    sizes = [((28, 28, 1), 10)] + [
        ((int(side), int(side), int(channels)), int(classes))
        for side, channels, classes in zip(rng.integers(8, 33, 2),
                                           rng.integers(1, 4, 2),
                                           rng.integers(2, 12, 2))
    ]
    for shape, num_classes in sizes:
        want = models.describe(ref.build_cnn(shape, num_classes))
        score.case(f"input {shape}, {num_classes} classes",
                   lambda s=shape, c=num_classes, w=want:
                   _cnn_problem(build_cnn, s, c, w))
    return score.points(points)


# ----------------------------------------------------- shifted_accuracy ---

def _accuracy_problem(shifted_accuracy, kind, images, labels, shifts,
                      want, if_unscaled):
    """Message for what shifted_accuracy got wrong on one model, or None."""
    model = probe_model(kind)
    before = images.copy()
    what = f"shifted_accuracy(<{kind} model>, images, labels, {shifts})"
    got = call(shifted_accuracy, "shifted_accuracy", model, images, labels,
               list(shifts))
    if not isinstance(got, dict):
        return f"{what} returned {type(got).__name__}; expected a dict."
    if not (images == before).all():
        return f"{what} modified `images`; shift copies instead."
    if sorted(got) != sorted(shifts):
        return (f"{what}: keys {sorted(got)}, expected one per shift: "
                f"{sorted(shifts)}.")
    values = {}
    for shift in shifts:
        value = got[shift]
        if not isinstance(value, (float, int, np.floating, np.integer)):
            return (f"{what}[{shift}] is {type(value).__name__}; expected "
                    "a float accuracy.")
        values[shift] = float(value)
    for index, shift in enumerate(shifts):
        if abs(values[shift] - want[index]) > 1e-6:
            return (f"{what}[{shift}] is {values[shift]:.4f}, expected "
                    f"{want[index]:.4f}.\n"
                    + _accuracy_hint(values, shifts, want, if_unscaled))
    return None


def _accuracy_hint(values, shifts, want, if_unscaled):
    got = [values[shift] for shift in shifts]
    if all(abs(a - b) < 1e-6 for a, b in zip(got, if_unscaled)):
        return ("Those are the accuracies of unscaled inputs: divide the "
                "uint8 pixels by 255 first.")
    zero = values.get(0)
    full = [shift for shift in shifts if abs(shift) >= PROBE_SIZE]
    if zero is not None and full and all(
            abs(values[shift] - zero) < 1e-9 for shift in full):
        return ("Shifting by the full width gave the unshifted result: "
                "looks like np.roll (content wrapped around). Vacated "
                "pixels must be 0.")
    if all(value > 1.0 for value in got):
        return "Accuracy is a fraction between 0 and 1, not a percentage."
    mirrored = [values.get(-shift) for shift in shifts]
    if None not in mirrored and all(
            abs(a - b) < 1e-6 for a, b in zip(mirrored, want)):
        return "Moved the wrong way: a positive shift moves content right."
    return ("Shift each image horizontally (columns), scale to 0..1, "
            "reshape to the model's input shape, compare argmax with labels.")


def shifted_accuracy(shifted_accuracy):
    """Visible check on two fixed probe models (flat and image inputs)."""
    case = _cases("shifted_accuracy")
    for kind in ("dense", "cnn"):
        problem = _accuracy_problem(
            shifted_accuracy, kind, case["images"], case["labels"],
            case["shifts"], case[f"{kind}_expected"],
            case[f"{kind}_if_unscaled"])
        if problem:
            raise CheckFailure(problem)
    passed("shifted_accuracy: exact zero-filled shifts, scaled to 0..1, "
           "reshaped for flat and image models.")


def hidden_shifted_accuracy(shifted_accuracy, points):
    """Hidden tests: fresh probe images and shifts against the reference."""
    ref = reference.load(LESSON)
    score = HiddenScore("shifted_accuracy")
    rng = np.random.default_rng()
    for kind in ("dense", "cnn"):
        images, labels = probe_images(rng, int(rng.integers(20, 60)))
        shifts = sorted({int(s) for s in rng.integers(-9, 10, 4)} | {0})

        def run(k=kind, i=images, la=labels, s=shifts):
            want = ref.shifted_accuracy(probe_model(k), i, la, s)
            unscaled = ref.shifted_accuracy(probe_model(k, 255.0), i, la, s)
            return _accuracy_problem(
                shifted_accuracy, k, i, la, s, [want[x] for x in s],
                [unscaled[x] for x in s])

        score.case(f"{kind} probe, {len(images)} images, shifts {shifts}",
                   run)
    return score.points(points)


# ----------------------------------------------------- build_robust_cnn ---

def translation_layers(model):
    """Every RandomTranslation layer in `model`, nested models included."""
    keras = _keras()
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.RandomTranslation):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found += translation_layers(layer)
    return found


def _robust_problem(build_robust_cnn, input_shape, num_classes):
    """Message for what the robust model lacks, or None."""
    keras = _keras()
    what = (f"build_robust_cnn(input_shape={input_shape}, "
            f"num_classes={num_classes})")
    model = call(build_robust_cnn, "build_robust_cnn",
                 input_shape=input_shape, num_classes=num_classes)
    if not isinstance(model, keras.Model):
        return f"{what} returned {type(model).__name__}, not a Keras model."
    layers = translation_layers(model)
    if not layers:
        return (f"{what}: no keras.layers.RandomTranslation layer. Without "
                "it the model never sees a shifted digit in training.")
    widths = [abs(float(np.max(np.abs(layer.width_factor))))
              for layer in layers]
    if max(widths) < 0.1:
        return (f"{what}: RandomTranslation width_factor is {max(widths)}; "
                "shifts of up to 4 px need about 0.15 (4/28).")
    if not any(isinstance(layer, keras.layers.Conv2D)
               for layer in _all_layers(model)):
        return f"{what}: no Conv2D layer; this lesson's model is a CNN."
    description = models.describe(model)
    want = {"input_shape": [None, *input_shape],
            "output_shape": [None, num_classes],
            "loss": "categorical_crossentropy"}
    return models.compile_problem(what, description, want)


def _all_layers(model):
    keras = _keras()
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def build_robust_cnn(build_robust_cnn):
    """Visible check: RandomTranslation built in, CNN, compiled."""
    case = _cases("build_robust_cnn")
    for shape, num_classes in case["sizes"]:
        problem = _robust_problem(build_robust_cnn, tuple(shape),
                                  num_classes)
        if problem:
            raise CheckFailure(problem)
    passed("build_robust_cnn: a compiled CNN with RandomTranslation "
           "augmentation built in.")


def _translation_is_active(build_robust_cnn):
    """In training the augmentation moves digits; at inference it does not."""
    model = call(build_robust_cnn, "build_robust_cnn")
    layer = translation_layers(model)[0]
    image = np.zeros((8, 28, 28, 1), dtype="float32")
    image[:, 8:20, 12:16] = 1.0
    trained = np.asarray(layer(image, training=True))
    inferred = np.asarray(layer(image, training=False))
    if not (inferred == image).all():
        return "RandomTranslation changes images at inference time."
    if (trained == image).all():
        return ("RandomTranslation left every image unchanged in training: "
                "its factors are 0?")
    return None


def _beats_unaugmented_twin(build_robust_cnn, margin=0.03):
    """Trained the same way, the model beats its twin without augmentation.

    The twin is the learner's own model with every RandomTranslation layer
    replaced by Identity, so only the augmentation differs. To grade in
    seconds, both train briefly on MNIST shrunk to 14x14, where a 2-pixel
    shift is the 4-pixel shift of the lesson (3000 digits, 3 epochs).
    """
    from cnn_course import load_mnist, set_seed

    keras = _keras()
    ref = reference.load(LESSON)
    (x_train, y_train), (x_test, y_test) = load_mnist()
    rng = np.random.default_rng(4)
    train = rng.choice(len(x_train), 3000, replace=False)
    test = rng.choice(len(x_test), 500, replace=False)
    small_train = _shrink(x_train[train])
    small_test = _shrink(x_test[test])
    inputs = small_train[..., None].astype("float32") / 255.0
    one_hot = keras.utils.to_categorical(y_train[train], 10)
    scores = {}
    for name in ("augmented", "twin"):
        set_seed(0)
        model = call(build_robust_cnn, "build_robust_cnn",
                     input_shape=(14, 14, 1), num_classes=10)
        if name == "twin":
            model = _without_augmentation(model)
        _quicken_batch_norm(model)
        model.fit(inputs, one_hot, epochs=3, batch_size=64, verbose=0)
        accuracies = ref.shifted_accuracy(model, small_test, y_test[test],
                                          [-2, 2])
        scores[name] = float(np.mean(list(accuracies.values())))
    if scores["augmented"] < scores["twin"] + margin:
        return (f"on 14x14 digits shifted 2 px it scored "
                f"{scores['augmented']:.3f}, its unaugmented twin "
                f"{scores['twin']:.3f}; augmentation should win by "
                f">= {margin}")
    return None


def _quicken_batch_norm(model):
    """BatchNormalization's running statistics, made to settle in 150 steps.

    With Keras' default momentum (0.99) they are still far from the data
    after this short training, and a BN model then predicts near chance at
    inference even though it trained well. Both models get the same change.
    """
    keras = _keras()
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9


def _shrink(images):
    """28x28 uint8 images averaged down to 14x14 (2x2 blocks)."""
    blocks = images.reshape(len(images), 14, 2, 14, 2).astype(np.float32)
    return blocks.mean(axis=(2, 4)).round().astype(np.uint8)


def _without_augmentation(model):
    keras = _keras()

    def clone(layer):
        if isinstance(layer, keras.layers.RandomTranslation):
            return keras.layers.Identity()
        return layer.__class__.from_config(layer.get_config())

    twin = keras.models.clone_model(model, clone_function=clone)
    twin.compile_from_config(model.get_compile_config())
    return twin


def hidden_build_robust_cnn(build_robust_cnn, points):
    """Hidden tests: other sizes, live augmentation, beats its twin."""
    score = HiddenScore("build_robust_cnn")
    for shape, num_classes in (((32, 32, 1), 5),):
        score.case(f"input {shape}, {num_classes} classes",
                   lambda s=shape, c=num_classes:
                   _robust_problem(build_robust_cnn, s, c))
    score.case("RandomTranslation moves digits in training only",
               lambda: _translation_is_active(build_robust_cnn))
    score.case("beats its unaugmented twin on shifted digits",
               lambda: _beats_unaugmented_twin(build_robust_cnn))
    return score.points(points)


# Visible checks also try fresh inputs when graded (feedback.py).
guard_checks(globals())
