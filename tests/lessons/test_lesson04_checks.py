"""Lesson 04's checks fail on realistic mistakes and pass correct variants."""

import numpy as np
import pytest
from helpers import failure_of, hidden_points

from autograder import lesson04 as check

hidden = hidden_points(check)

LESSON = check.LESSON






# ------------------------------------------------------------ build_cnn ---

def cnn_variant(keras, filters=32, kernel=3, pool=True, head="flatten",
                units=1000, output="softmax", loss="categorical_crossentropy",
                keras2_style=False, objects=False):
    def build(input_shape=(28, 28, 1), num_classes=10):
        layers = [] if keras2_style else [keras.Input(shape=input_shape)]
        conv_options = {"input_shape": input_shape} if keras2_style else {}
        layers.append(keras.layers.Conv2D(filters, (kernel, kernel),
                                          activation="relu",
                                          **conv_options))
        if pool:
            layers.append(keras.layers.MaxPooling2D((2, 2)))
        layers.append(keras.layers.Flatten() if head == "flatten"
                      else keras.layers.GlobalAveragePooling2D())
        layers += [keras.layers.Dense(units, activation="relu"),
                   keras.layers.Dense(num_classes, activation=output)]
        model = keras.Sequential(layers)
        if objects:
            model.compile(optimizer=keras.optimizers.Adam(),
                          loss=keras.losses.CategoricalCrossentropy(),
                          metrics=[keras.metrics.CategoricalAccuracy()])
        else:
            model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
        return model
    return build


def test_build_cnn_passes_correct_variants(ref, keras, capsys):
    check.build_cnn(ref.build_cnn)
    check.build_cnn(cnn_variant(keras, keras2_style=True, objects=True))
    assert "\u2714 build_cnn" in capsys.readouterr().out


@pytest.mark.parametrize("changes, clue", [
    ({"filters": 64}, "layer 0 is Conv2D(64, [3, 3], relu)"),
    ({"kernel": 5}, "expected Conv2D(32, [3, 3], relu)"),
    ({"pool": False}, "4 layers"),
    ({"head": "gap"}, "layer 2 is GlobalAveragePooling2D(), expected "
                      "Flatten()"),
    ({"units": 128}, "expected Dense(1000, relu)"),
    ({"output": "sigmoid"}, "expected Dense(10, softmax)"),
    ({"loss": "sparse_categorical_crossentropy"}, "one-hot"),
])
def test_build_cnn_names_the_mistake(keras, changes, clue):
    assert clue in failure_of(check.build_cnn, cnn_variant(keras, **changes))


def test_hidden_build_cnn_scores(ref, keras):
    assert hidden("build_cnn", ref.build_cnn) == 2.0
    assert hidden("build_cnn", cnn_variant(keras, units=100)) == 0.0


# ----------------------------------------------------- shifted_accuracy ---

def shift_roll(images, dx):
    return np.roll(images, dx, axis=2)


def make_student(ref, shift=None, scale=255.0, percent=False,
                 loop=False):
    def student(model, images, labels, shifts):
        result = {}
        for dx in shifts:
            moved = (shift or ref.shift_right)(images, dx) / scale
            inputs = moved.reshape((len(images),) + model.input_shape[1:])
            if loop:
                predicted = np.array([
                    int(np.argmax(model(inputs[i:i + 1]).numpy()))
                    for i in range(len(inputs))])
            else:
                predicted = model.predict(inputs, verbose=0).argmax(axis=1)
            accuracy = float(np.mean(predicted == labels))
            result[dx] = accuracy * 100 if percent else accuracy
        return result
    return student


def test_shifted_accuracy_passes_correct_variants(ref, capsys):
    check.shifted_accuracy(ref.shifted_accuracy)
    check.shifted_accuracy(make_student(ref, loop=True))
    assert "\u2714 shifted_accuracy" in capsys.readouterr().out


def test_shifted_accuracy_names_the_mistake(ref):
    def reversed_shift(images, dx):
        return ref.shift_right(images, -dx)

    cases = [
        (make_student(ref, shift=shift_roll), "np.roll"),
        (make_student(ref, scale=1.0), "divide the uint8 pixels by 255"),
        (make_student(ref, shift=reversed_shift), "wrong way"),
        (make_student(ref, percent=True), "not a percentage"),
        (lambda model, images, labels, shifts: [0.5] * len(shifts),
         "returned list; expected a dict"),
    ]
    for student, clue in cases:
        assert clue in failure_of(check.shifted_accuracy, student)


def test_hidden_shifted_accuracy_scores(ref):
    assert hidden("shifted_accuracy", ref.shifted_accuracy) == 2.0
    assert hidden("shifted_accuracy", make_student(ref, scale=1.0)) < 1.0


# ----------------------------------------------------- build_robust_cnn ---

def robust_variant(keras, translation=0.15, conv=True, functional=False,
                   compiled=True, optimizer="adam"):
    def build(input_shape=(28, 28, 1), num_classes=10):
        inputs = keras.Input(shape=input_shape)
        layers = []
        if translation is not None:
            layers.append(keras.layers.RandomTranslation(
                0.1, translation, fill_mode="constant"))
        if conv:
            layers += [keras.layers.Conv2D(16, 3, activation="relu"),
                       keras.layers.GlobalMaxPooling2D()]
        else:
            layers.append(keras.layers.Flatten())
        layers.append(keras.layers.Dense(num_classes, activation="softmax"))
        if functional:
            outputs = inputs
            for layer in layers:
                outputs = layer(outputs)
            model = keras.Model(inputs, outputs)
        else:
            model = keras.Sequential([inputs, *layers])
        if compiled:
            model.compile(optimizer=optimizer() if callable(optimizer)
                          else optimizer, loss="categorical_crossentropy",
                          metrics=["accuracy"])
        return model
    return build


def decay_in_epochs(keras):
    """The lesson's schedule with its 7 epochs typed as 7 steps."""
    def optimizer():
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0, decay_steps=7, warmup_target=3e-3, warmup_steps=100)
        return keras.optimizers.Adam(schedule)
    return optimizer


def test_build_robust_cnn_passes_correct_variants(ref, keras, capsys):
    check.build_robust_cnn(ref.build_robust_cnn)
    check.build_robust_cnn(robust_variant(keras, functional=True))
    assert "\u2714 build_robust_cnn" in capsys.readouterr().out


@pytest.mark.parametrize("changes, clue", [
    ({"translation": None}, "no keras.layers.RandomTranslation"),
    ({"translation": 0.02}, "width_factor is 0.02"),
    ({"conv": False}, "no Conv2D"),
    ({"compiled": False}, "not compiled"),
])
def test_build_robust_cnn_names_the_mistake(keras, changes, clue):
    assert clue in failure_of(check.build_robust_cnn,
                              robust_variant(keras, **changes))


def test_a_small_width_factor_is_compared_with_the_lessons_design(keras):
    message = failure_of(check.build_robust_cnn,
                         robust_variant(keras, translation=0.02))
    # 0.02 of 28 columns; the lesson's own design uses 0.12.
    assert "at most 0.6 px sideways" in message
    assert "design uses 0.12" in message and "0.15" not in message


def test_a_learning_rate_gone_within_the_first_epoch_is_named(keras):
    student = robust_variant(keras, optimizer=decay_in_epochs(keras))
    message = failure_of(check.build_robust_cnn, student)
    assert "after one epoch (469 batches" in message
    assert "decay_steps counts batches" in message
    assert hidden("build_robust_cnn", student) < 3.0


@pytest.mark.slow
def test_hidden_build_robust_cnn_scores(ref, keras):
    assert hidden("build_robust_cnn", ref.build_robust_cnn) == 3.0
    zero_translation = robust_variant(keras, translation=0.0)
    assert hidden("build_robust_cnn", zero_translation) < 3.0
