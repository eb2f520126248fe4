"""Lesson 03: the NumPy forward pass against model.predict on MNIST."""

import numpy as np

from benchmarks.bench_grading import timed_grade
from benchmarks.common import ROOT, Row, Timer, execute_notebook
from cnn_course import import_tensorflow, load_mnist, set_seed
from trusted_grader import reference

LESSON = "03_cnn_from_scratch"
TOLERANCE = 1e-5
COMPARED_DIGITS = 1000  # the notebook compares 1,000 (100 while grading)
GRADING_BAR_SECONDS = 10  # this lesson's share of the 45 s bar


def build_model(keras, filters=8):
    """The lesson's MNIST CNN, as its notebook builds it."""
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(filters, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy"])
    return model


def experiment(seed=0, digits=COMPARED_DIGITS):
    """Train like the notebook (full budget) and compare; a dict."""
    _, keras = import_tensorflow()
    ref = reference.load(LESSON)
    (x_train, y_train), (x_test, y_test) = load_mnist()
    x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
    x_test = np.expand_dims(x_test.astype("float32") / 255, -1)
    set_seed(seed)
    model = build_model(keras)
    with Timer() as training:
        model.fit(x_train, keras.utils.to_categorical(y_train, 10),
                  batch_size=128, epochs=2, validation_split=0.1, verbose=0)
    _, test_accuracy = model.evaluate(
        x_test, keras.utils.to_categorical(y_test, 10), verbose=0)
    weights = model.get_weights()
    sample, labels = x_test[:digits], y_test[:digits]
    keras_probs = model.predict(sample, verbose=0)
    with Timer() as numpy_time:
        numpy_probs = np.stack([ref.cnn_forward(image, weights)
                                for image in sample])
    return {
        "train_seconds": training.seconds,
        "test_accuracy": float(test_accuracy),
        "max_difference": float(np.abs(numpy_probs - keras_probs).max()),
        "keras_accuracy": float(np.mean(keras_probs.argmax(1) == labels)),
        "numpy_accuracy": float(np.mean(numpy_probs.argmax(1) == labels)),
        "numpy_ms_per_digit": 1000 * numpy_time.seconds / digits,
    }


def run(notebooks=True):
    figures = experiment()
    difference = figures["max_difference"]
    keras_accuracy = figures["keras_accuracy"]
    numpy_accuracy = figures["numpy_accuracy"]
    rows = [
        Row("cnn03_forward_max_difference",
            f"max |cnn_forward - model.predict|, {COMPARED_DIGITS} digits",
            difference, "", f"<= {TOLERANCE:g}", difference <= TOLERANCE),
        Row("cnn03_keras_accuracy",
            f"lesson 03 CNN, model.predict, {COMPARED_DIGITS} test digits",
            keras_accuracy),
        Row("cnn03_numpy_accuracy",
            f"lesson 03 CNN, cnn_forward, {COMPARED_DIGITS} test digits",
            numpy_accuracy, "", "= Keras", numpy_accuracy == keras_accuracy),
        Row("cnn03_test_accuracy", "lesson 03 CNN, full test set",
            figures["test_accuracy"]),
        Row("cnn03_train_seconds", "lesson 03 CNN training, 2 epochs",
            figures["train_seconds"], "s"),
        Row("cnn03_numpy_ms_per_digit", "reference cnn_forward per digit",
            figures["numpy_ms_per_digit"], "ms"),
    ]
    if notebooks:
        path = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
        rows.append(Row("notebook03_seconds",
                        "lesson 03 solution notebook end to end",
                        execute_notebook(path), "s"))
        grading_kernel = execute_notebook(path, grading=True)
        rows.append(Row("grading_notebook03_seconds",
                        "lesson 03 notebook, grading budget, in the kernel",
                        grading_kernel, "s", f"<= {GRADING_BAR_SECONDS}",
                        grading_kernel <= GRADING_BAR_SECONDS))
        # The whole grading command for this one lesson: also nbgrader's
        # own start-ups (generate_assignment, autograde, generate_feedback).
        grading, statuses = timed_grade(["solo"], [LESSON], jobs=1)
        rows.append(Row("autograde03_seconds",
                        "lesson 03 solution, grading command",
                        grading, "s", "graded",
                        statuses == {"graded"}))
    return rows
