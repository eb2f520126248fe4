"""From scratch is enforced by the environment, not by the kernel's word.

The grading command answers the from-scratch exercises (lessons 02, 03
and 05) in a confined kernel in which TensorFlow, Keras, SciPy, PyTorch
and JAX do not exist (trusted_grader/batch/from_scratch.py): the one run
of those lessons, whose exercises are all from scratch. Library calls hidden
from every detector inside the student's process (a worker thread, a dict
of functions made in another cell, the profiler switched off, SciPy found
on another Python's path) earn no more there than the same calls made
openly, and honest NumPy work keeps every point.
"""

import os
import subprocess
import sys

import pytest
from helpers import (
    LESSON02,
    LESSON03,
    cell,
    exercise_points,
    grade_class,
    judge_output,
    lesson_notebook,
)

from trusted_grader import sandbox
from trusted_grader.batch import from_scratch
from trusted_grader.paths import lesson_ids

needs_bubblewrap = pytest.mark.skipif(
    not sandbox.bubblewrap_available() and not os.environ.get("CI"),
    reason="bubblewrap is not installed: no filesystem isolation")

TF_CONV = '''
def _tf_conv(image, kernel, stride, padding):
    x = np.pad(np.asarray(image, dtype="float32"), padding)
    k = np.asarray(kernel, dtype="float32")
    if stride < 1 or padding < 0 or k.shape[0] > x.shape[0] or \\
            k.shape[1] > x.shape[1]:
        raise ValueError("bad arguments")
    out = tf.nn.conv2d(x[None, :, :, None], k[:, :, None, None], stride,
                       "VALID")
    return np.asarray(out)[0, :, :, 0].astype(float)
'''
OPEN = TF_CONV + '''

def conv2d(image, kernel, stride=1, padding=0):
    return _tf_conv(image, kernel, stride, padding)
'''
THREAD = TF_CONV + '''
import threading


def conv2d(image, kernel, stride=1, padding=0):
    box = {}

    def work():
        try:
            box["out"] = _tf_conv(image, kernel, stride, padding)
        except ValueError as error:
            box["error"] = error
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["out"]
'''
# The library's function is looked up in another cell, before any check.
ALIASED_SETUP = '''OPS = {"conv": getattr(getattr(tf, "nn"), "conv2d")}
'''
ALIASED = '''
def conv2d(image, kernel, stride=1, padding=0):
    x = np.pad(np.asarray(image, dtype="float32"), padding)
    k = np.asarray(kernel, dtype="float32")
    if stride < 1 or padding < 0 or k.shape[0] > x.shape[0] or \\
            k.shape[1] > x.shape[1]:
        raise ValueError("bad arguments")
    out = OPS["conv"](x[None, :, :, None], k[:, :, None, None], stride,
                      "VALID")
    return np.asarray(out)[0, :, :, 0].astype(float)
'''
NO_PROFILER = TF_CONV + '''
import sys


def conv2d(image, kernel, stride=1, padding=0):
    sys.setprofile(None)
    return _tf_conv(image, kernel, stride, padding)
'''
# A callable object in place of a function.
CALLABLE = TF_CONV + '''

class _Convolution:
    def __call__(self, image, kernel, stride=1, padding=0):
        return _tf_conv(image, kernel, stride, padding)


conv2d = _Convolution()
'''
# SciPy is not in the course's environment, but another Python's
# site-packages may be visible: the student puts it on the path.
SCIPY = '''import glob
import sys

sys.path += glob.glob("/root/.pyenv/versions/*/lib/python3*/site-packages")
sys.path += glob.glob("/usr/lib/python3/dist-packages")


def conv2d(image, kernel, stride=1, padding=0):
    from scipy import signal

    x = np.pad(np.asarray(image, dtype=float), padding)
    k = np.asarray(kernel, dtype=float)
    if stride < 1 or padding < 0 or k.shape[0] > x.shape[0] or \\
            k.shape[1] > x.shape[1]:
        raise ValueError("bad arguments")
    return signal.correlate2d(x, k, mode="valid")[::stride, ::stride]
'''
# A correct conv2d that then overwrites its input arrays: the judge must not
# carry that change into the arrays it judges the next students with.
MUTATOR_SUFFIX = """

_correct_conv2d = conv2d


def conv2d(image, kernel, stride=1, padding=0):
    result = _correct_conv2d(image, kernel, stride, padding)
    for array in (image, kernel):
        if isinstance(array, np.ndarray) and array.flags.writeable:
            array[...] = 7
    return result
"""
# Lesson 03: softmax, conv2d_layer and max_pool2d by TensorFlow in a thread.
THREAD03 = '''import threading


def _in_thread(function):
    box = {}

    def work():
        box["out"] = function()
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    return box["out"]


def softmax(z):
    return _in_thread(lambda: np.asarray(tf.nn.softmax(
        np.asarray(z, dtype="float64"), axis=-1)))


def conv2d_layer(x, kernels, bias):
    return _in_thread(lambda: np.asarray(tf.nn.conv2d(
        np.asarray(x, dtype="float64")[None], np.asarray(
            kernels, dtype="float64"), 1, "VALID"))[0] + bias)


def max_pool2d(x, size=2, stride=None):
    x = np.asarray(x, dtype="float64")
    batch = x[None, :, :, None] if x.ndim == 2 else x[None]
    out = _in_thread(lambda: np.asarray(tf.nn.max_pool2d(
        batch, size, stride or size, "VALID"))[0])
    return out[:, :, 0] if x.ndim == 2 else out
'''


def solved_with(root, lesson, replacements, extra_cells=()):
    """The solution notebook with some solution cells replaced."""
    import nbformat

    notebook = lesson_notebook(root, "solutions", lesson)
    for grade_id, source in replacements.items():
        cell(notebook, grade_id).source = source
    for position, source in extra_cells:
        notebook.cells.insert(position, nbformat.v4.new_code_cell(source))
    return notebook


def with_lesson03_thread(root):
    notebook = solved_with(root, LESSON03, {})
    setup = notebook.cells.index(cell(notebook, "setup"))
    import nbformat

    notebook.cells.insert(setup + 1, nbformat.v4.new_code_cell(THREAD03))
    for grade_id in ("softmax", "conv2d_layer", "max_pool2d"):
        cell(notebook, grade_id).source = "# answered above with TensorFlow"
    return notebook


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):

    folder = tmp_path_factory.mktemp("from-scratch")
    setup_index = lesson_notebook(root, "solutions", LESSON02).cells.index(
        cell(lesson_notebook(root, "solutions", LESSON02), "setup"))
    notebooks = {
        f"honest_{LESSON02}": lesson_notebook(root, "solutions", LESSON02),
        f"opentf_{LESSON02}": solved_with(root, LESSON02,
                                          {"conv2d": OPEN}),
        f"thread_{LESSON02}": solved_with(root, LESSON02,
                                          {"conv2d": THREAD}),
        f"aliased_{LESSON02}": solved_with(
            root, LESSON02, {"conv2d": ALIASED},
            [(setup_index + 1, ALIASED_SETUP)]),
        f"noprofiler_{LESSON02}": solved_with(root, LESSON02,
                                              {"conv2d": NO_PROFILER}),
        f"scipy_{LESSON02}": solved_with(root, LESSON02, {"conv2d": SCIPY}),
        f"callable_{LESSON02}": solved_with(root, LESSON02,
                                            {"conv2d": CALLABLE}),
        f"honest_{LESSON03}": lesson_notebook(root, "solutions", LESSON03),
        # Graded before and after every other lesson-02 submission here.
        f"amutator_{LESSON02}": solved_with(root, LESSON02, {
            "conv2d": cell(lesson_notebook(root, "solutions", LESSON02),
                           "conv2d").source + MUTATOR_SUFFIX}),
        f"zhonest_{LESSON02}": lesson_notebook(root, "solutions",
                                               LESSON02),
        f"thread_{LESSON03}": with_lesson03_thread(root),
    }
    output = tmp_path_factory.mktemp("graded-from-scratch")
    return output, grade_class(root, notebooks, folder, output, "--jobs",
                               "2", "--seed", "11")


def hidden_output(output, student, lesson, exercise):
    return judge_output(output, student, lesson, f"hidden_{exercise}")


@needs_bubblewrap
@pytest.mark.slow
def test_honest_numpy_keeps_every_point(graded):
    _, rows = graded
    assert float(rows[("honest", LESSON02)]["score"]) == 12
    assert float(rows[("zhonest", LESSON02)]["score"]) == 12
    assert float(rows[("honest", LESSON03)]["score"]) == 28


@needs_bubblewrap
@pytest.mark.slow
def test_an_in_place_change_costs_only_its_author(graded):
    output, rows = graded
    assert exercise_points(output, "amutator", LESSON02, "conv2d") == (0, 0)
    assert "modified its input in place" in hidden_output(
        output, "amutator", LESSON02, "conv2d")
    # Everything else it answered honestly.
    assert float(rows[("amutator", LESSON02)]["score"]) == 12 - 4


@needs_bubblewrap
@pytest.mark.slow
@pytest.mark.parametrize("attack", ["thread", "aliased", "noprofiler",
                                    "scipy", "callable"])
def test_hidden_library_use_earns_nothing_more_than_open_use(graded,
                                                             attack):
    output, rows = graded
    control = rows[("opentf", LESSON02)]
    row = rows[(attack, LESSON02)]
    assert row["status"] in {"graded", "tampered"}, row
    assert float(row["score"]) <= float(control["score"]), (row, control)
    # conv2d is what the library did: no point of it, visible or hidden.
    assert exercise_points(output, attack, LESSON02, "conv2d") == (0, 0)
    if row["status"] == "graded":  # (the scan flags editing sys.path)
        # The other exercises, honest NumPy, keep theirs.
        assert exercise_points(output, attack, LESSON02,
                               "avg_pool2d") == (1, 2)


@needs_bubblewrap
@pytest.mark.slow
def test_the_feedback_says_why(graded):
    output, _ = graded
    text = hidden_output(output, "thread", LESSON02, "conv2d")
    assert "0 of 3 points" in text
    text = hidden_output(output, "scipy", LESSON02, "conv2d")
    assert sandbox.BLOCKED_MARK in text or "(SciPy)" in text, text


@needs_bubblewrap
@pytest.mark.slow
def test_lesson03_library_in_a_thread_earns_nothing(graded):
    output, rows = graded
    for exercise in ("softmax", "conv2d_layer", "max_pool2d"):
        assert exercise_points(output, "thread", LESSON03, exercise) == \
            (0, 0), exercise
    # cnn_forward calls those three: it fails with them.
    assert exercise_points(output, "thread", LESSON03, "cnn_forward") == \
        (0, 0)
    assert exercise_points(output, "thread", LESSON03, "relu") == (1, 1)
    assert float(rows[("thread", LESSON03)]["score"]) < 28 - 10


def test_each_lesson_runs_in_one_kernel(root):
    """A lesson's notebook runs once, with or without the libraries: its
    exercises are all from scratch or none, and lessons 02, 03 and 05 are
    the library-free ones."""
    free = {lesson[:2] for lesson in lesson_ids(root / "solutions")
            if from_scratch.library_free(lesson)}
    assert free == {"02", "03", "05"}


def test_a_lesson_mixing_both_kinds_is_refused(monkeypatch):
    from autograder import lesson02

    monkeypatch.setattr(lesson02.lesson.exercises["conv_output_size"],
                        "from_scratch", False)
    with pytest.raises(ValueError, match="conv_output_size"):
        from_scratch.library_free(LESSON02)


def confined_python(tmp_path, code, without_libraries):
    """Run `code` with the venv's Python in the kernel's sandbox."""
    unit, runtime = tmp_path / "unit", tmp_path / "runtime"
    for folder in (unit / "scratch", unit / "answers", runtime,
                   tmp_path / "inputs", tmp_path / "work"):
        folder.mkdir(parents=True, exist_ok=True)
    command = sandbox.kernel_arguments(
        unit, runtime, tmp_path / "work", tmp_path / "inputs",
        unit / "answers", without_libraries=without_libraries)
    return subprocess.run([*command, sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=120)


PROBE = '''import glob
import importlib
import sys

sys.path += glob.glob("/root/.pyenv/versions/*/lib/python3*/site-packages")
sys.path += glob.glob("/usr/lib/python3/dist-packages")
import numpy
print("numpy", numpy.__version__)
for name in ("tensorflow", "keras", "scipy", "torch", "jax"):
    try:
        importlib.import_module(name)
        print("IMPORTED", name)
    except ImportError as error:
        print("refused", name, "|", error)
'''


@needs_bubblewrap
def test_the_second_kernel_cannot_import_the_libraries(tmp_path):
    result = confined_python(tmp_path, PROBE, without_libraries=True)
    assert "numpy" in result.stdout, result.stderr
    assert "IMPORTED" not in result.stdout, result.stdout
    for name in ("tensorflow", "keras", "scipy"):
        assert f"refused {name} | {name} {sandbox.BLOCKED_MARK}" in \
            result.stdout, result.stdout


@needs_bubblewrap
def test_the_first_kernel_still_has_them(tmp_path):
    """The control: without the flag the same probe imports TensorFlow,
    so the test above can fail."""
    result = confined_python(tmp_path, PROBE, without_libraries=False)
    assert "IMPORTED tensorflow" in result.stdout, result.stderr


def test_without_bubblewrap_plain_imports_still_fail(tmp_path):
    """Without namespaces the second kernel gets packages of the same
    names first on its path: a weaker stand-in (a student who edits
    sys.path gets past it; autograder/README.md says so)."""
    launcher = (
        "import sys\n"
        "from trusted_grader import sandbox\n"
        "sandbox._bwrap_works = False\n"
        "sandbox.main(sys.argv[1:])\n")
    probe = ("import importlib\n"
             "for name in ('tensorflow', 'keras', 'scipy'):\n"
             "    try:\n"
             "        importlib.import_module(name)\n"
             "        print('IMPORTED', name)\n"
             "    except ImportError as error:\n"
             "        print('refused', name, '|', error)\n")
    unit = tmp_path / "unit"
    unit.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", launcher, "--unit", str(unit), "--runtime",
         str(tmp_path), "--inputs", str(tmp_path), "--answers",
         str(tmp_path), "--memory-mb", "0", "--without-libraries", "--",
         sys.executable, "-c",
         probe], capture_output=True, text=True, timeout=120,
        cwd=tmp_path)
    assert "IMPORTED" not in result.stdout, result.stdout + result.stderr
    assert f"refused tensorflow | tensorflow {sandbox.BLOCKED_MARK}" in \
        result.stdout, result.stdout + result.stderr
