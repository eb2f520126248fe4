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

The 14x14 model is a probe: the learner's function is also asked for the
lesson's model, (28, 28, 1) with 10 classes, and the two must be the same
design (`design_problem`), so that what the judge trains is what the
lesson builds. Before training, the probe's cost is bounded
(`training_problem`, `model_limits.ROBUSTNESS_TRIAL`). Results are shared
between models only when their whole saved configs agree
(`architecture_key`).
"""

import hashlib
import json
import math
import time
from typing import NamedTuple

import numpy as np

from autograder.lesson04 import all_layers
from cnn_course.messages import t
from trusted_grader.judging import model_limits

SHIFTS = (-2, -1, 0, 1, 2)
MIN_ACCURACY = 0.60
MIN_RETAINED = 0.70

SIZE = 14
INPUT_SHAPE = (SIZE, SIZE, 1)
LESSON_SHAPE = (2 * SIZE, 2 * SIZE, 1)  # the lesson's 28x28 digits
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


# --------------------------------------------- which model is trained ---

# Keys of the saved config that say how big the input is, not what the
# design is: they differ between the probe and the lesson's model.
_SHAPE_KEYS = frozenset({"batch_shape", "batch_input_shape", "input_shape",
                         "build_input_shape", "build_config"})
# RandomTranslation's factors: fractions of the input's height, width.
_TRANSLATION_FACTORS = {"height_factor": 0, "width_factor": 1}


def _operations(model):
    """`model`, then every layer and operation of its graph, depth first
    (nested models' own included)."""
    keras = _keras()
    yield model
    graph = getattr(model, "_functional", None) or model
    for operation in getattr(graph, "operations", None) or model.layers:
        if isinstance(operation, keras.Model):
            yield from _operations(operation)
        else:
            yield operation


def _renamed(value, names, labels, shared):
    """`value` (a serialized config) with layer and optimizer names and
    shared-object ids replaced by their order of first appearance.

    `names` holds (class name, name) of the model's layers and optimizer:
    a dict with that class_name and config name is one of them, and only
    its name, the name of its entry in a functional model's layer list,
    and references to it (keras_history, input_layers, output_layers) are
    renamed, so that a dtype policy, a loss or a schedule keeps its
    "name". Identical designs built in any order get identical labels.
    """
    def label(name):
        return labels.setdefault(name, f"layer{len(labels)}")

    def reference(item):
        if isinstance(item, list) and len(item) == 3 and \
                isinstance(item[0], str) and item[0] in known:
            return [label(item[0]), *item[1:]]
        if isinstance(item, list):
            return [reference(part) for part in item]
        return item

    known = {name for _, name in names}
    if isinstance(value, list):
        return [_renamed(item, names, labels, shared) for item in value]
    if not isinstance(value, dict):
        return value
    config = value.get("config")
    layer_name = config.get("name") if isinstance(config, dict) else None
    is_layer = isinstance(layer_name, str) and \
        (value.get("class_name"), layer_name) in names
    result = {}
    for key in sorted(value, key=str):
        item = value[key]
        if key == "shared_object_id":
            result[key] = shared.setdefault(item, len(shared))
        elif key == "keras_history" or key in ("input_layers",
                                               "output_layers"):
            result[key] = reference(item)
        elif key == "name" and is_layer and item == layer_name:
            result[key] = label(item)
        else:
            result[key] = _renamed(item, names, labels, shared)
    if is_layer:
        result["config"] = dict(result["config"], name=label(layer_name))
    return result


def canonical_config(model):
    """Everything that decides how `model` trains, as plain data.

    The full saved config (config.json: every layer's config with its
    dtype policy, activation, sizes, the build config and the compile
    config), the compiled optimizer's own config (class, learning rate or
    schedule, every setting) and the loss. Only what Keras names
    automatically and what does not change training is replaced by its
    order of appearance: layer, model and optimizer names (dense_3,
    adam_1) and shared-object ids (memory addresses).
    """
    keras = _keras()
    serialize = keras.saving.serialize_keras_object
    names = {(type(operation).__name__, operation.name)
             for operation in _operations(model)}
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:  # named adam, adam_1, ... as built
        names.add((type(optimizer).__name__, optimizer.name))
    data = {"model": serialize(model),
            "optimizer": serialize(getattr(model, "optimizer", None)),
            "loss": serialize(getattr(model, "loss", None))}
    # Through JSON: tuples become lists, as in config.json.
    data = json.loads(json.dumps(data, default=repr))
    return _renamed(data, names, {}, {})


def architecture_key(model):
    """A hash of `canonical_config(model)`: equal only for models that
    train the same way (same layers, configs, dtype policies, compile
    settings, optimizer and loss), whatever their layers are named."""
    text = json.dumps(canonical_config(model), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _same_translation(probe, lesson, probe_side, lesson_side):
    """Equal RandomTranslation factors, or equal in pixels (a learner who
    writes 4 / input_shape[1] asks for 4 px at every size), within half a
    pixel. `*_side` is the input's height or width, as the factor's."""
    if probe == lesson:
        return True
    try:
        probe_pixels = np.atleast_1d(np.asarray(probe, dtype=float)) * \
            probe_side
        lesson_pixels = np.atleast_1d(np.asarray(lesson, dtype=float)) * \
            lesson_side
    except (TypeError, ValueError):
        return False
    return probe_pixels.shape == lesson_pixels.shape and \
        bool(np.all(np.abs(probe_pixels - lesson_pixels) <= 0.5))


def _first_difference(probe, lesson, shapes, path=(), owner=None):
    """(path, probe value, lesson value) of the first difference between
    two canonical configs, shape keys aside; None if there is none.
    `shapes` are the two models' input shapes; `owner` is the class name
    of the object whose config is compared."""
    if isinstance(probe, dict) and isinstance(lesson, dict):
        for key in sorted(set(probe) | set(lesson), key=str):
            if key in _SHAPE_KEYS or (owner == "__keras_tensor__"
                                      and key == "shape"):
                continue
            if key not in probe or key not in lesson:
                return path + (key,), probe.get(key), lesson.get(key)
            if owner == "RandomTranslation" and \
                    key in _TRANSLATION_FACTORS:
                axis = _TRANSLATION_FACTORS[key]
                if not _same_translation(probe[key], lesson[key],
                                         shapes[0][axis], shapes[1][axis]):
                    return path + (key,), probe[key], lesson[key]
                continue
            found = _first_difference(
                probe[key], lesson[key], shapes, path + (key,),
                probe.get("class_name") if key == "config" else None)
            if found:
                return found
        return None
    if isinstance(probe, list) and isinstance(lesson, list):
        if len(probe) != len(lesson):
            return path, f"{len(probe)} items", f"{len(lesson)} items"
        for index, (one, other) in enumerate(zip(probe, lesson)):
            found = _first_difference(one, other, shapes,
                                      path + (index,))
            if found:
                return found
        return None
    if probe != lesson and not (
            isinstance(probe, float) and isinstance(lesson, float)
            and math.isnan(probe) and math.isnan(lesson)):
        return path, probe, lesson
    return None


def _where(config, path):
    """A readable place in a canonical config: "layer 3 (Conv2D) filters",
    "compile_config optimizer learning_rate"."""
    words, value = [], config
    for step in path:
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and \
                step < len(value):
            value = value[step]
        else:
            value = None
        if isinstance(step, int) and words and words[-1] == "layers" and \
                isinstance(value, dict) and "class_name" in value:
            words[-1] = f"layer {step} ({value['class_name']})"
        elif step not in ("model", "config"):
            words.append(str(step))
    return " ".join(words)


def design_problem(probe, lesson, probe_shape=INPUT_SHAPE,
                   lesson_shape=LESSON_SHAPE):
    """None if `probe` (built for `probe_shape`) is the same design as
    `lesson` (built for the lesson's `lesson_shape`), else a message.

    The same layer classes in the same order with the same configs
    (dtype policies, activations, units, filters, kernel sizes, strides,
    paddings, augmentation factors), compile settings, optimizer and
    loss. Only what follows from the input's size may differ: the input
    and build shapes, the shapes of the tensors between layers, and a
    RandomTranslation factor that is the same number of pixels.
    """
    probe_config = canonical_config(probe)
    found = _first_difference(probe_config, canonical_config(lesson),
                              (probe_shape, lesson_shape))
    if found is None:
        return None
    path, probe_value, lesson_value = found
    return t("build_robust_cnn builds another model for input_shape="
             "{probe_shape} than for {lesson_shape}: {where} is "
             "{probe_value} for the first, {lesson_value} for the second. "
             "The grader trains the model for {probe_shape} as a stand-in "
             "for the lesson's, so it must be the same design at every "
             "input size.", probe_shape=tuple(probe_shape),
             lesson_shape=tuple(lesson_shape),
             where=_where(probe_config, path) or "the model",
             probe_value=repr(probe_value)[:80],
             lesson_value=repr(lesson_value)[:80])


def training_problem(model):
    """None if the judge may train `model` (within
    `model_limits.ROBUSTNESS_TRIAL`), else a message with the figures."""
    return model_limits.compute_problem(model,
                                        model_limits.ROBUSTNESS_TRIAL)


# ------------------------------------------------------------ training ---

# Compile settings that change how fast training runs, not what it
# learns: the trial runs compiled, one step per call, with no metrics
# (it measures with predict).
_TRIAL_SETTINGS = {"run_eagerly": False, "jit_compile": False,
                   "steps_per_execution": 1, "metrics": None,
                   "weighted_metrics": None}


def rebuild(model, seed):
    """A fresh, compiled copy of `model`'s architecture, seeded.

    Same layers and compile settings (optimizer, schedule, loss) as
    `model`, new weights drawn after set_seed(seed); every
    BatchNormalization layer gets momentum 0.9. Settings that only change
    the speed (eager mode, XLA, steps per execution, metrics) are the
    trial's own (`_TRIAL_SETTINGS`). `model` is not changed. Raises
    ValueError if `model` was not compiled or does not take 14x14x1
    inputs.
    """
    from cnn_course import set_seed

    keras = _keras()
    config = model.get_compile_config()
    if not config:
        raise ValueError(t("the model is not compiled"))
    config = {**config, **{key: value for key, value in
                           _TRIAL_SETTINGS.items() if key in config}}
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
    The same seed on the same machine gives the same figures. Raises
    ValueError (with `training_problem`'s message) for a model over the
    trial's compute limits, before anything is built or trained.
    """
    problem = training_problem(model)
    if problem:
        raise ValueError(problem)
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
