"""Lesson 03: the NumPy forward pass against model.predict, and a kernel
learned by gradient descent, from the notebook's own run.

Runs the solution notebook end to end on the full data and reads its
figures from the kernel afterwards: the trained `model`'s `score`, the
`keras_probs` and `numpy_probs` it compared on `count` test digits, and
Part 5's `learned_kernel` against `true_kernel`. The probe also times the
notebook's own `cnn_forward` on those digits and one call of its own
`learn_kernel(digits, targets)`; nothing is retrained. The notebook does
not time its training, so the notebook's time, from the same run, is the
only training-related time reported. Then the grading figures: the
notebook under the grading budget, and the grading command for the lesson.
"""

from benchmarks.bench_grading import timed_grade
from benchmarks.common import ROOT, Row, execute_notebook

LESSON = "03_cnn_from_scratch"
TOLERANCE = 1e-5
KERNEL_TOLERANCE = 1e-3
GRADING_BAR_SECONDS = 10  # this lesson's share of the 45 s bar
PROBE = """
import json
import time

_start = time.perf_counter()
np.stack([cnn_forward(image, weights) for image in sample])
_forward_seconds = time.perf_counter() - _start
_start = time.perf_counter()
learn_kernel(digits, targets)
_learn_seconds = time.perf_counter() - _start
print(json.dumps({
    "epochs": int(budget["epochs"]),
    "train_size": int(len(x_train)),
    "test_size": int(len(x_test)),
    "test_accuracy": float(score[1]),
    "count": int(count),
    "max_difference": float(np.abs(numpy_probs - keras_probs).max()),
    "keras_accuracy": float(np.mean(keras_probs.argmax(1) == sample_labels)),
    "numpy_accuracy": float(np.mean(numpy_probs.argmax(1) == sample_labels)),
    "numpy_ms_per_digit": 1000 * _forward_seconds / len(sample),
    "kernel_digits": int(len(digits)),
    "kernel_max_error": float(np.abs(learned_kernel - true_kernel).max()),
    "learn_seconds": _learn_seconds,
}))
"""


def notebook_rows(figures):
    count = figures["count"]
    difference = figures["max_difference"]
    keras_accuracy = figures["keras_accuracy"]
    numpy_accuracy = figures["numpy_accuracy"]
    kernel_error = figures["kernel_max_error"]
    return [
        Row("cnn03_forward_max_difference",
            f"max |cnn_forward - model.predict|, {count} digits",
            difference, "", f"<= {TOLERANCE:g}", difference <= TOLERANCE),
        Row("cnn03_keras_accuracy",
            f"lesson 03 CNN, model.predict, {count} test digits",
            keras_accuracy),
        Row("cnn03_numpy_accuracy",
            f"lesson 03 CNN, cnn_forward, {count} test digits",
            numpy_accuracy, "", "= Keras", numpy_accuracy == keras_accuracy),
        Row("cnn03_test_accuracy",
            f"lesson 03 CNN ({figures['epochs']} epochs, "
            f"{figures['train_size']:,} images), "
            f"{figures['test_size']:,} test digits",
            figures["test_accuracy"]),
        Row("cnn03_numpy_ms_per_digit", "the notebook's cnn_forward per digit",
            figures["numpy_ms_per_digit"], "ms"),
        Row("kernel03_learned_max_error",
            "max |learned_kernel - true_kernel|", kernel_error, "",
            f"<= {KERNEL_TOLERANCE:g}", kernel_error <= KERNEL_TOLERANCE),
        Row("kernel03_learn_seconds",
            f"learn_kernel(digits, targets), {figures['kernel_digits']} "
            "digits, 500 steps", figures["learn_seconds"], "s"),
    ]


def run(notebooks=True):
    if not notebooks:
        return []  # every figure comes from a notebook or grading run
    path = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
    seconds, figures = execute_notebook(path, probe=PROBE)
    rows = notebook_rows(figures)
    rows.append(Row("notebook03_seconds",
                    "lesson 03 solution notebook end to end", seconds, "s"))
    grading_kernel = execute_notebook(path, grading=True)
    rows.append(Row("grading_notebook03_seconds",
                    "lesson 03 notebook, grading budget, in the kernel",
                    grading_kernel, "s", f"<= {GRADING_BAR_SECONDS}",
                    grading_kernel <= GRADING_BAR_SECONDS))
    # The whole grading command for this one lesson: also nbgrader's
    # own start-ups (generate_assignment, autograde, generate_feedback).
    grading, statuses, _ = timed_grade(["solo"], [LESSON], jobs=1)
    rows.append(Row("autograde03_seconds",
                    "lesson 03 solution, grading command",
                    grading, "s", "graded", statuses == {"graded"}))
    return rows
