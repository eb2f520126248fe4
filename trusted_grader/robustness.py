"""Does a learner's robust CNN hold up under horizontal shifts?

The judge rebuilds the learner's architecture fresh (same layers, same
compile settings, new weights), trains it briefly itself and measures it
on test digits shifted sideways. Training is short so that grading takes
seconds: MNIST shrunk to 14x14 (2x2 block averages), where a 2-pixel shift
is the lesson's 4-pixel shift at 28x28; a fixed subset of 6000 training
and 500 test digits; 3 epochs in batches of 64 (282 steps); seed set with
`cnn_course.set_seed` before the model is rebuilt; momentum 0.9 on every
BatchNormalization layer (Keras' 0.99 does not settle in so few steps).

Criterion (`robustness_problem`): with `SHIFTS` = -2, -1, 0, +1, +2 px,

* the accuracy at every shift, 0 included, is at least `MIN_ACCURACY`
  (0.60), and
* the accuracy at every non-zero shift is at least `MIN_RETAINED` (0.70)
  times the accuracy on the unshifted digits.

The first part fails models that did not learn (learning rate far too
high or too low, a schedule that reaches 0 within the first epoch); the
second fails models that learned the digits only where they are drawn
(no horizontal augmentation and no pooling that forgives the shift).
Nothing here asks whether augmentation helped: a design that is robust
without it (global average pooling) passes, and the presence of a
RandomTranslation layer is checked structurally elsewhere.
"""

import time
from typing import NamedTuple

import numpy as np

from autograder.lesson04 import all_layers
from autograder.messages import t

SHIFTS = (-2, -1, 0, 1, 2)
MIN_ACCURACY = 0.60
MIN_RETAINED = 0.70

SIZE = 14
INPUT_SHAPE = (SIZE, SIZE, 1)
NUM_CLASSES = 10
TRAIN_COUNT = 6000
TEST_COUNT = 500
SUBSET_SEED = 4
EPOCHS = 3
BATCH_SIZE = 64
BN_MOMENTUM = 0.9

_trial_data = None


class TrialData(NamedTuple):
    """The judge's fixed data; arrays are read-only.

    train_inputs: float32 (6000, 14, 14, 1) in 0..1;
    train_labels: float32 one-hot (6000, 10);
    test_images: uint8 (500, 14, 14); test_labels: int (500,).
    """

    train_inputs: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def _keras():
    from cnn_course import import_tensorflow

    return import_tensorflow()[1]


def shrink(images):
    """28x28 uint8 images (N, 28, 28) averaged to 14x14 (2x2 blocks).

    Returns a new uint8 array (N, 14, 14); `images` is not modified.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (2 * SIZE, 2 * SIZE):
        raise ValueError(f"expected images of shape (N, 28, 28), got "
                         f"{images.shape}")
    blocks = images.reshape(len(images), SIZE, 2, SIZE, 2)
    averaged = blocks.astype(np.float32).mean(axis=(2, 4))
    return averaged.round().astype(np.uint8)


def shift_columns(images, dx):
    """Images (N, H, W) moved dx columns right (negative: left).

    Exact shift: vacated columns become 0 and nothing wraps around; a
    shift of the full width or more gives blank images. Returns a new
    array of the same dtype; `images` is not modified.
    """
    images = np.asarray(images)
    shifted = np.zeros_like(images)
    width = images.shape[2]
    if abs(dx) < width:
        source = images[:, :, max(0, -dx):width - max(0, dx)]
        shifted[:, :, max(0, dx):width - max(0, -dx)] = source
    return shifted


def trial_data():
    """The fixed 14x14 training and test digits, loaded once (TrialData).

    The subset is drawn with np.random.default_rng(4): 6000 indices of
    MNIST's training set, then 500 of its test set, without replacement.
    """
    global _trial_data
    if _trial_data is None:
        from cnn_course import load_mnist

        (x_train, y_train), (x_test, y_test) = load_mnist()
        rng = np.random.default_rng(SUBSET_SEED)
        train = rng.choice(len(x_train), TRAIN_COUNT, replace=False)
        test = rng.choice(len(x_test), TEST_COUNT, replace=False)
        inputs = shrink(x_train[train])[..., None].astype("float32") / 255
        one_hot = np.eye(NUM_CLASSES, dtype="float32")[y_train[train]]
        arrays = (inputs, one_hot, shrink(x_test[test]),
                  y_test[test].astype(np.int64))
        for array in arrays:
            array.flags.writeable = False
        _trial_data = TrialData(*arrays)
    return _trial_data


def rebuild(model, seed):
    """A fresh, compiled copy of `model`'s architecture, seeded.

    Same layers and compile settings (optimizer, schedule, loss,
    metrics) as `model`, new weights drawn after set_seed(seed); every
    BatchNormalization layer gets momentum 0.9. `model` is not changed.
    Raises ValueError if `model` was not compiled or does not take
    14x14x1 inputs.
    """
    from cnn_course import set_seed

    keras = _keras()
    config = model.get_compile_config()
    if not config:
        raise ValueError(t("the model is not compiled"))
    shape = tuple(model.input_shape[1:])
    if shape != INPUT_SHAPE:
        raise ValueError(t("the model takes inputs of shape {shape}; the "
                           "judge needs one built for {needed}",
                           shape=shape, needed=INPUT_SHAPE))
    set_seed(seed)
    fresh = keras.models.clone_model(model)
    fresh.compile_from_config(config)
    for layer in all_layers(fresh):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = BN_MOMENTUM
    return fresh


def shifted_accuracies(model, images, labels, shifts=SHIFTS):
    """{shift: accuracy} of `model` on uint8 `images` (N, 14, 14).

    Each shift moves the digits that many columns right (exact, zero
    filled); inputs are scaled to 0..1. One predict call for all shifts.
    """
    images = np.asarray(images)
    batch = np.concatenate([shift_columns(images, dx) for dx in shifts])
    inputs = batch[..., None].astype("float32") / 255
    predictions = model.predict(inputs, batch_size=500, verbose=0)
    guesses = np.asarray(predictions).argmax(axis=1)
    correct = guesses.reshape(len(shifts), len(images)) == labels
    return {dx: float(row.mean()) for dx, row in zip(shifts, correct)}


def train_and_measure(model, seed=0):
    """Rebuild `model` fresh, train it briefly and measure it under shifts.

    Returns {"accuracies": {shift: accuracy for shift in SHIFTS},
    "seconds": wall-clock time of rebuild, training and measuring}.
    The same seed on the same machine gives the same figures.
    """
    data = trial_data()
    start = time.perf_counter()
    fresh = rebuild(model, seed)
    fresh.fit(data.train_inputs, data.train_labels, epochs=EPOCHS,
              batch_size=BATCH_SIZE, verbose=0)
    accuracies = shifted_accuracies(fresh, data.test_images,
                                    data.test_labels)
    return {"accuracies": accuracies,
            "seconds": time.perf_counter() - start}


def robustness_problem(result):
    """None if `result` (from train_and_measure) meets the criterion.

    Otherwise a short message for the learner naming the shift that
    missed its bar, its accuracy, and the bar.
    """
    accuracies = result["accuracies"]
    unshifted = accuracies[0]
    if unshifted < MIN_ACCURACY:
        return t("after the grader's short training it scored "
                 "{unshifted:.2f} on unshifted digits (needs >= "
                 "{needed:.2f}); it hardly learned: check the learning "
                 "rate and its schedule.", unshifted=unshifted,
                 needed=MIN_ACCURACY)
    worst = min((dx for dx in SHIFTS if dx != 0),
                key=lambda dx: (accuracies[dx], -abs(dx)))
    lowest = accuracies[worst]
    bar = MIN_RETAINED * unshifted
    if lowest < bar:
        return t("after the grader's short training it scored "
                 "{lowest:.2f} on digits shifted {worst:+d} px but "
                 "{unshifted:.2f} unshifted (needs >= {bar:.2f}, "
                 "{retained:.0%} of it); it did not learn to read shifted "
                 "digits.", lowest=lowest, worst=worst, unshifted=unshifted,
                 bar=bar, retained=MIN_RETAINED)
    if lowest < MIN_ACCURACY:
        return t("after the grader's short training it scored "
                 "{lowest:.2f} on digits shifted {worst:+d} px (needs >= "
                 "{needed:.2f}).", lowest=lowest, worst=worst,
                 needed=MIN_ACCURACY)
    return None
