"""Lesson 05: the learner's NumPy CNN, trained by its own backpropagation.

Runs the solution notebook end to end on the full data and reads its
figures from the kernel afterwards: the seconds its `train_cnn` cell
measured for two epochs over the 60,000 training digits, the test
accuracy of the trained weights run by Keras, the largest difference
between Keras' and the NumPy network's probabilities, and the largest
relative difference of the six gradients from `tf.GradientTape`'s (the
notebook's `errors` of Part 6 are overwritten later, so the probe
recomputes them from the notebook's own functions, in float64). Then the
grading figures: the notebook under the grading budget, and the grading
command for the lesson.
"""

from benchmarks.bench_grading import timed_grade
from benchmarks.common import ROOT, Row, execute_notebook

LESSON = "05_backpropagation"
ACCURACY_BAR = 0.98
TRAINING_BAR_SECONDS = 60
GRADIENT_BAR = 1e-6
KERAS_BAR = 1e-5
GRADING_BAR_SECONDS = 15  # this lesson's share of a full submission
PROBE = """
import json

_loss, _mine = network_gradients(digits, digit_labels, start_weights)
_theirs = tensorflow_gradients(tensorflow_loss, start_weights, 1.0)
print(json.dumps({
    "train_seconds": float(seconds),
    "steps": len(losses),
    "test_accuracy": float(accuracy),
    "keras_difference": float(difference),
    "gradient_error": max(relative_error(mine, theirs)
                          for mine, theirs in zip(_mine, _theirs)),
    "shift4_accuracy": float(min(cnn_at[-4], cnn_at[4])),
    "dense_shift4_accuracy": float(min(dense_at[-4], dense_at[4])),
}))
"""


def notebook_rows(figures):
    seconds = figures["train_seconds"]
    accuracy = figures["test_accuracy"]
    gradient = figures["gradient_error"]
    keras = figures["keras_difference"]
    return [
        Row("numpy_cnn05_train_seconds",
            f"NumPy CNN, train_cnn, 2 epochs ({figures['steps']} steps)",
            seconds, "s", f"<= {TRAINING_BAR_SECONDS}",
            seconds <= TRAINING_BAR_SECONDS),
        Row("numpy_cnn05_test_accuracy", "NumPy CNN, 10,000 test digits",
            accuracy, "", f">= {ACCURACY_BAR}", accuracy >= ACCURACY_BAR),
        Row("numpy_cnn05_gradient_error",
            "max relative |gradient - GradientTape|, float64", gradient, "",
            f"<= {GRADIENT_BAR:g}", gradient <= GRADIENT_BAR),
        Row("numpy_cnn05_keras_difference",
            "max |Keras(weights) - NumPy| probability, 10,000 digits",
            keras, "", f"<= {KERAS_BAR:g}", keras <= KERAS_BAR),
        Row("numpy_cnn05_shift4_accuracy",
            "NumPy CNN, worst accuracy at +-4 px", figures[
                "shift4_accuracy"]),
        Row("dense05_shift4_accuracy",
            "dense net (lesson 01), worst accuracy at +-4 px",
            figures["dense_shift4_accuracy"]),
    ]


def run(notebooks=True):
    if not notebooks:
        return []  # every figure comes from a notebook or grading run
    path = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
    seconds, figures = execute_notebook(path, probe=PROBE)
    rows = notebook_rows(figures)
    rows.append(Row("notebook05_seconds",
                    "lesson 05 solution notebook end to end", seconds, "s"))
    grading_kernel = execute_notebook(path, grading=True)
    rows.append(Row("grading_notebook05_seconds",
                    "lesson 05 notebook, grading budget, in the kernel",
                    grading_kernel, "s", f"<= {GRADING_BAR_SECONDS}",
                    grading_kernel <= GRADING_BAR_SECONDS))
    grading, statuses, _ = timed_grade(["solo"], [LESSON], jobs=1)
    rows.append(Row("autograde05_seconds",
                    "lesson 05 solution, grading command",
                    grading, "s", "graded", statuses == {"graded"}))
    return rows
