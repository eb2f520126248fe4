"""Lesson 04: the seed CNN and the robust CNN, from the notebook's own run.

Runs the solution notebook end to end on the full data and reads its
figures from the kernel afterwards, so the numbers are exactly what a
learner's run shows, with the notebook's training recipe.
"""

from benchmarks.common import ROOT, Row, execute_notebook

LESSON = "04_keras_cnn"
ROBUST_BAR_SECONDS = 180
PROBE = """
import json
print(json.dumps({
    "dense_accuracy": float(dense_accuracy),
    "cnn_accuracy": float(cnn_accuracy),
    "robust_accuracy": float(robust_accuracy),
    "cnn_seconds": cnn_seconds,
    "robust_seconds": robust_seconds,
    "mean_shifts": mean_shifts,
    "cnn_mean_one": [int(p.argmax()) for p in cnn_probs],
    "cnn_mean_one_p1": [float(p[1]) for p in cnn_probs],
    "curves": {name: {str(dx): acc for dx, acc in curve.items()}
               for name, curve in curves.items()},
}))
"""


def run(notebooks=True):
    if not notebooks:
        return []  # every figure comes from the notebook's own run
    path = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
    seconds, figures = execute_notebook(path, probe=PROBE)
    cnn_at = dict(zip(figures["mean_shifts"], figures["cnn_mean_one"]))
    p1_at = dict(zip(figures["mean_shifts"], figures["cnn_mean_one_p1"]))
    holds = all(cnn_at[dx] == 1 for dx in (-2, -1, 0, 1, 2))
    robust_curve = figures["curves"]["robust CNN"]
    worst = min(robust_curve.values())
    rows = [
        Row("cnn_test_accuracy", "seed CNN test accuracy",
            figures["cnn_accuracy"], "", ">= 0.985",
            figures["cnn_accuracy"] >= 0.985),
        Row("cnn_mean_one_holds_2px",
            "seed CNN: mean 1 read as 1 at every shift -2..+2",
            f"{holds} (P(1) {p1_at[-2]:.2f}/{p1_at[2]:.2f} at -2/+2)", "",
            "True", holds),
        Row("cnn_train_seconds", "seed CNN training, 5 epochs",
            figures["cnn_seconds"], "s"),
        Row("robust_test_accuracy", "robust CNN test accuracy",
            figures["robust_accuracy"], "", ">= 0.995",
            figures["robust_accuracy"] >= 0.995),
        Row("robust_worst_shift_accuracy",
            "robust CNN: worst accuracy over shifts -4..+4", worst, "",
            ">= 0.993", worst >= 0.993),
        Row("robust_train_seconds", "robust CNN training, 6 epochs",
            figures["robust_seconds"], "s", f"<= {ROBUST_BAR_SECONDS}",
            figures["robust_seconds"] <= ROBUST_BAR_SECONDS),
    ]
    for name, key in (("dense net", "dense"), ("seed CNN", "cnn"),
                      ("robust CNN", "robust")):
        for dx, accuracy in figures["curves"][name].items():
            rows.append(Row(f"{key}_04_shifted_accuracy_{int(dx):+d}",
                            f"{name}, test set shifted {int(dx):+d} px",
                            accuracy))
    rows.append(Row("notebook04_seconds",
                    "lesson 04 solution notebook end to end", seconds, "s"))
    return rows
