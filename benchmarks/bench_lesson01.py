"""Lesson 01: the seed's dense net, full data, and its shift experiment."""

import numpy as np

from benchmarks.common import ROOT, Row, Timer, execute_notebook
from cnn_course import import_tensorflow, load_mnist, set_seed
from trusted_grader import reference

LESSON = "01_dense_translation"
MEAN_SHIFTS = list(range(-5, 6))
TEST_SHIFTS = [0, 1, 2, 3, 4]


def experiment(seed=0):
    """Train like the seed and measure; returns a dict of figures."""
    _, keras = import_tensorflow()
    ref = reference.load(LESSON)
    (x_train, y_train), (x_test, y_test) = load_mnist()
    set_seed(seed)
    model = ref.build_dense_model()
    with Timer() as training:
        model.fit(x_train.reshape(-1, 784) / 255.0,
                  keras.utils.to_categorical(y_train, 10), epochs=5,
                  batch_size=1024, verbose=0)
    mean_one = ref.mean_image(x_train, y_train, 1)

    def predict(images):
        return model.predict(images.reshape(len(images), -1) / 255.0,
                             verbose=0, batch_size=2048)

    mean_probs = predict(np.stack([ref.shift_image(mean_one, dx)
                                   for dx in MEAN_SHIFTS]))
    shifted_accuracy = {}
    for dx in TEST_SHIFTS:
        shifted = np.stack([ref.shift_image(image, dx) for image in x_test])
        shifted_accuracy[dx] = float(
            (predict(shifted).argmax(axis=1) == y_test).mean())
    return {
        "train_seconds": training.seconds,
        "test_accuracy": shifted_accuracy[0],
        "mean_one_p1": float(mean_probs[MEAN_SHIFTS.index(0), 1]),
        "mean_one_predictions": {dx: int(probs.argmax()) for dx, probs
                                 in zip(MEAN_SHIFTS, mean_probs)},
        "mean_one_p1_by_shift": {dx: float(probs[1]) for dx, probs
                                 in zip(MEAN_SHIFTS, mean_probs)},
        "shifted_accuracy": shifted_accuracy,
    }


def first_misclassified_shift(predictions):
    wrong = [abs(dx) for dx, digit in predictions.items() if digit != 1]
    return min(wrong) if wrong else None


def run(notebooks=True):
    figures = experiment()
    accuracy = figures["test_accuracy"]
    first_wrong = first_misclassified_shift(figures["mean_one_predictions"])
    rows = [
        Row("dense_test_accuracy", "dense net test accuracy", accuracy, "",
            ">= 0.97", accuracy >= 0.97),
        Row("dense_mean_one_p1", "dense net P(1) for the mean 1",
            figures["mean_one_p1"], "", ">= 0.9",
            figures["mean_one_p1"] >= 0.9 and
            figures["mean_one_predictions"][0] == 1),
        Row("dense_mean_one_first_wrong_shift",
            "dense net: smallest |shift| misclassifying the mean 1",
            first_wrong, "px", "<= 3",
            first_wrong is not None and first_wrong <= 3),
        Row("dense_train_seconds", "dense net training, 5 epochs",
            figures["train_seconds"], "s"),
    ]
    for dx in MEAN_SHIFTS:
        rows.append(Row(
            f"dense_mean_one_shift_{dx:+d}",
            f"dense net, mean 1 shifted {dx:+d} px: predicted (P(1))",
            f"{figures['mean_one_predictions'][dx]} "
            f"({figures['mean_one_p1_by_shift'][dx]:.3f})"))
    for dx in TEST_SHIFTS:
        rows.append(Row(f"dense_shifted_accuracy_{dx}",
                        f"dense net, test set shifted {dx} px",
                        figures["shifted_accuracy"][dx]))
    if notebooks:
        path = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
        rows.append(Row("notebook01_seconds",
                        "lesson 01 solution notebook end to end",
                        execute_notebook(path), "s"))
    return rows
