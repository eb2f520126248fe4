"""Lesson 01: the seed's dense net and its shifts, from the notebook's run.

Runs the solution notebook end to end on the full data and reads its
figures from the kernel afterwards (the trained `dense_model`'s test
accuracy, the mean 1's predictions at `curve_shifts`, `dense_accuracies`
on the shifted test set), so the numbers are exactly what a learner's run
shows. The notebook does not time its training on its own, so the only
time reported is the notebook's, end to end, from the same run.
"""

from benchmarks.common import ROOT, Row, execute_notebook

LESSON = "01_dense_translation"
PROBE = """
import json
print(json.dumps({
    "epochs": len(history.history["loss"]),
    "train_size": int(num_train),
    "shifted_test_size": int(num_shifted),
    "test_accuracy": float(test_accuracy),
    "curve_shifts": [int(dx) for dx in curve_shifts],
    "curve_predictions": [int(p.argmax()) for p in curve_probabilities],
    "curve_p1": [float(p[1]) for p in curve_probabilities],
    "shifted_accuracy": {str(dx): float(accuracy)
                         for dx, accuracy in dense_accuracies.items()},
}))
"""


def first_misclassified_shift(predictions):
    wrong = [abs(dx) for dx, digit in predictions.items() if digit != 1]
    return min(wrong) if wrong else None


def run(notebooks=True):
    if not notebooks:
        return []  # every figure comes from the notebook's own run
    path = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
    seconds, figures = execute_notebook(path, probe=PROBE)
    predictions = dict(zip(figures["curve_shifts"],
                           figures["curve_predictions"]))
    p1 = dict(zip(figures["curve_shifts"], figures["curve_p1"]))
    accuracy = figures["test_accuracy"]
    first_wrong = first_misclassified_shift(predictions)
    training = (f"{figures['epochs']} epochs, "
                f"{figures['train_size']:,} images")
    rows = [
        Row("dense_test_accuracy", f"dense net test accuracy ({training})",
            accuracy, "", ">= 0.97", accuracy >= 0.97),
        Row("dense_mean_one_p1", "dense net P(1) for the mean 1",
            p1[0], "", ">= 0.9", p1[0] >= 0.9 and predictions[0] == 1),
        Row("dense_mean_one_first_wrong_shift",
            "dense net: smallest |shift| misclassifying the mean 1",
            first_wrong, "px", "<= 3",
            first_wrong is not None and first_wrong <= 3),
    ]
    for dx in figures["curve_shifts"]:
        rows.append(Row(
            f"dense_mean_one_shift_{dx:+d}",
            f"dense net, mean 1 shifted {dx:+d} px: predicted (P(1))",
            f"{predictions[dx]} ({p1[dx]:.3f})"))
    for dx, shifted in figures["shifted_accuracy"].items():
        rows.append(Row(f"dense_shifted_accuracy_{int(dx)}",
                        f"dense net, {figures['shifted_test_size']:,} test "
                        f"images shifted {int(dx):+d} px", shifted))
    rows.append(Row("notebook01_seconds",
                    "lesson 01 solution notebook end to end", seconds, "s"))
    return rows
