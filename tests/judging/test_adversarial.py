"""The grading command against submissions that attack it (lesson 01).

One batch: two honest submissions and one submission per attack, each
built on the blank student notebook so that an attack that worked would show
as points above the blank notebook's 0. Every attack must end with the
expected status and no points; the honest ones keep their scores. See
autograder/README.md for the threat model.
"""

import os
import socket
import subprocess
import threading

import nbformat
import numpy as np
import pytest
from helpers import (
    GRADED_LESSON,
    cell,
    lesson_notebook,
    partly_correct,
    run_grading,
)

from autograder import expected
from trusted_grader import sandbox
from trusted_grader.judging import reference

LESSON = GRADED_LESSON

FAKE_ARRAY = '''class Anything:
    shape = (28, 28)
    dtype = np.dtype("float64")
    def __eq__(self, other):
        return True
    def tolist(self):
        return []

def mean_image(images, labels, digit):
    return Anything()
'''
PATCH_NUMPY = '''np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None

def mean_image(images, labels, digit):
    return np.zeros(images.shape[1:])
'''
PATCH_CHECKS = '''check.mean_image = lambda func: print("passed")
check.hidden_mean_image = lambda func, points: float(points)
check.shift_image = lambda func: None
check.hidden_shift_image = lambda func, points: float(points)

def mean_image(images, labels, digit):
    return None
'''
FAKE_PASSED = '''print("\\u2714 mean_image: every visible case passes.")
print("mean_image: 6/6 hidden cases passed, 3 of 3 points")

def mean_image(images, labels, digit):
    print("\\u2714 all checks passed")
    return None
'''
OBFUSCATED_PATCH = '''import numpy as np
tools = [np]
tools[0].allclose = lambda *args, **kwargs: True

def mean_image(images, labels, digit):
    return np.zeros(images.shape[1:])
'''
FORK_STORM = '''import os
import time

children = []
for _ in range(60):
    pid = os.fork()
    if pid == 0:
        time.sleep(120)
        os._exit(0)
    children.append(pid)
'''
MEMORY_BOMB = '''blocks = []
while True:
    blocks.append(bytearray(50_000_000))
'''
FLOOD = '''for _ in range(400):
    print("x" * 50_000)
'''


def blank(root):
    return lesson_notebook(root, "notebooks")


def solved(root):
    return lesson_notebook(root, "solutions")


def with_code(root, code, grade_id="mean_image"):
    notebook = blank(root)
    cell(notebook, grade_id).source = code
    return notebook


def hard_coded_source(name, function, visible_check):
    """Source of `name` that only knows the visible cases' answers."""
    table = {}

    def recorder(*args, **kwargs):
        key = repr(_key(args, kwargs))
        try:
            result = function(*args, **kwargs)
        except ValueError:
            table[key] = "raise"
            raise
        if result.size <= LARGEST_LOOKED_UP:
            table[key] = (result.tobytes(), result.dtype.str, result.shape)
        return result

    visible_check(recorder)
    return (
        "import numpy as np\n\n"
        f"{_KEY_SOURCE}\n"
        f"ANSWERS_{name} = {table!r}\n\n\n"
        f"def {name}(*args, **kwargs):\n"
        f"    answer = ANSWERS_{name}.get(repr(_key(args, kwargs)))\n"
        "    if answer == 'raise':\n"
        "        raise ValueError('no such case')\n"
        "    if answer is None:\n"
        "        raise NotImplementedError()\n"
        "    data, dtype, shape = answer\n"
        "    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()\n"
    )


# Answers larger than this are left out of the table (lesson 02's speed
# case: a million values, which would make the notebook tens of MB), and
# arrays in keys are their SHA-256: the look-up is as exact, the notebook
# stays small enough to grade in seconds.
LARGEST_LOOKED_UP = 100_000
_KEY_SOURCE = '''import hashlib


def _key(args, kwargs):
    parts = []
    for value in list(args) + sorted(kwargs.items()):
        if isinstance(value, np.ndarray):
            value = (hashlib.sha256(value.tobytes()).hexdigest(),
                     value.dtype.str, value.shape)
        parts.append(value)
    return tuple(parts)
'''
_namespace = {"np": np}
exec(_KEY_SOURCE, _namespace)  # noqa: S102 - the same helper as submitted
_key = _namespace["_key"]


@pytest.fixture(scope="module")
def listener():
    """A TCP server on loopback that records whether anyone connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    connections = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            connections.append(connection.recv(100))
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


@pytest.fixture(scope="module")
def corpus(root, listener, tmp_path_factory):
    from autograder import lesson01

    port, _ = listener
    folder = tmp_path_factory.mktemp("attacks")
    ref = reference.load(LESSON)
    expected.load(LESSON)
    hard_coded = blank(root)
    cell(hard_coded, "mean_image").source = hard_coded_source(
        "mean_image", ref.mean_image, lesson01.mean_image)
    cell(hard_coded, "shift_image").source = hard_coded_source(
        "shift_image", ref.shift_image, lesson01.shift_image)
    edited_tests = blank(root)
    for grade_id in ("test_mean_image", "hidden_mean_image"):
        cell(edited_tests, grade_id).source = "1.0"
    relabelled = blank(root)
    test_cell = cell(relabelled, "hidden_shift_image")
    test_cell.source = "print('all hidden tests passed')\n3.0"
    test_cell.metadata["nbgrader"]["grade_id"] = "my_own_test"
    test_cell.metadata["nbgrader"]["points"] = 100
    no_tests = blank(root)
    no_tests.cells = [c for c in no_tests.cells
                      if not c.metadata.get("nbgrader", {}).get(
                          "grade_id", "").startswith(("test_", "hidden_"))]
    secret = root / "solutions" / LESSON / f"{LESSON}.ipynb"
    notebooks = {
        "honest": solved(root),
        "partial": partly_correct(root),
        "blank": blank(root),
        "hardcoded": hard_coded,
        "fakearray": with_code(root, FAKE_ARRAY),
        "patchnumpy": with_code(root, PATCH_NUMPY),
        "patchchecks": with_code(root, PATCH_CHECKS),
        "obfuscated": with_code(root, OBFUSCATED_PATCH),
        "editedtests": edited_tests,
        "relabelled": relabelled,
        "notests": no_tests,
        "fakepassed": with_code(root, FAKE_PASSED),
        "osexit": with_code(root, "import os\nos._exit(0)"),
        "systemexit": with_code(root, "raise SystemExit(0)"),
        "interrupt": with_code(root, "raise KeyboardInterrupt"),
        "loop": with_code(root, "while True:\n    pass"),
        "memorybomb": with_code(root, MEMORY_BOMB),
        "forkstorm": with_code(root, FORK_STORM),
        "flood": with_code(root, FLOOD),
        "escape": with_code(root, (
            "for path in ('../../escaped.txt', '../../../escaped.txt',\n"
            f"             {str(root / 'escaped.txt')!r}):\n"
            "    try:\n"
            "        open(path, 'w').write('escaped')\n"
            "    except OSError as error:\n"
            "        print(error)\n")),
        "reader": with_code(root, (
            "try:\n"
            f"    print(open({str(secret)!r}).read())\n"
            "except OSError as error:\n"
            "    print(error)\n")),
        "network": with_code(root, (
            "import urllib.request\n"
            "try:\n"
            "    urllib.request.urlopen(\n"
            f"        'http://127.0.0.1:{port}/leak', timeout=3)\n"
            "except OSError as error:\n"
            "    print(error)\n"), "shift_image"),
    }
    for student, notebook in notebooks.items():
        nbformat.write(notebook, folder / f"{student}_{LESSON}.ipynb")
    return folder


@pytest.fixture(scope="module")
def graded(root, corpus, tmp_path_factory):
    output = tmp_path_factory.mktemp("graded-attacks")
    # Filling the default 6 GiB cap took over 20 s in CI (6 to 23 s on
    # the development machine, run to run), and the cell timeout won that
    # race. 3 GiB holds lesson 01's kernel and the bomb reaches it in
    # about 2 s.
    result, rows = run_grading(root, corpus, output, "--jobs", "2",
                               "--timeout", "20", "--memory-mb", "3072")
    return output, result, {row["student"]: row for row in rows}


def test_honest_submissions_keep_their_scores(graded):
    _, _, rows = graded
    assert rows["honest"]["status"] == "graded"
    assert float(rows["honest"]["score"]) == 10
    assert rows["partial"]["status"] == "graded"
    assert 6 <= float(rows["partial"]["score"]) < 7
    assert float(rows["blank"]["score"]) == 0


EXPECTED_STATUS = {
    "hardcoded": "graded",
    "fakearray": "tampered",
    "patchnumpy": "tampered",
    "patchchecks": "tampered",
    # The scan misses it; the checks' own copies of NumPy's functions
    # (captured before any student code ran) still give 0.
    "obfuscated": "graded",
    "editedtests": "graded",
    "relabelled": "tampered",
    "notests": "graded",
    "fakepassed": "graded",
    "osexit": "tampered",
    "systemexit": "tampered",
    "interrupt": "tampered",
    "loop": "timeout",
    # MemoryError in the cell, or the kernel dies, by where the cap hits.
    "memorybomb": {"kernel_died", "graded"},
    "forkstorm": "tampered",
    "flood": "graded",
    "escape": "graded",
    "reader": "graded",
    "network": "graded",
}


@pytest.mark.parametrize("attack", sorted(EXPECTED_STATUS))
def test_attack_gains_nothing(graded, attack):
    _, _, rows = graded
    row = rows[attack]
    expected_status = EXPECTED_STATUS[attack]
    assert row["status"] in (expected_status if isinstance(
        expected_status, set) else {expected_status}), row
    assert float(row["score"]) <= float(rows["blank"]["score"]), row
    assert float(row["max_score"]) == 12, row


def test_tampering_is_explained_in_csv_and_feedback(graded):
    output, result, rows = graded
    assert "np.allclose" in rows["patchnumpy"]["detail"]
    assert "check.hidden_mean_image" in rows["patchchecks"]["detail"]
    assert "os._exit" in rows["osexit"]["detail"]
    assert "SystemExit" in rows["systemexit"]["detail"]
    assert "tampered" in result.stdout
    html = (output / "feedback" / "patchnumpy" / LESSON /
            f"{LESSON}.html").read_text(encoding="utf-8")
    assert "this notebook scores 0" in html
    assert "np.allclose" in html


def test_hard_coded_answers_pass_visible_cases_only(graded):
    output, _, _ = graded
    html = (output / "feedback" / "hardcoded" / LESSON /
            f"{LESSON}.html").read_text(encoding="utf-8")
    assert "none of the hidden cases on fresh inputs" in html


def test_output_flood_is_cut(graded):
    output, _, rows = graded
    assert "outputs cut" in rows["flood"]["detail"]
    html = output / "feedback" / "flood" / LESSON / f"{LESSON}.html"
    assert html.stat().st_size < 2_000_000


# In CI the sandbox must work: there these tests fail instead of skipping.
needs_bubblewrap = pytest.mark.skipif(
    not sandbox.bubblewrap_available() and not os.environ.get("CI"),
    reason="bubblewrap is not installed: no filesystem or network isolation")


@needs_bubblewrap
def test_nothing_escapes_the_scratch_folder(root, graded):
    output, _, _ = graded
    assert not (root / "escaped.txt").exists()
    assert not list(output.rglob("escaped.txt"))
    assert not list(output.parent.rglob("escaped.txt"))


@needs_bubblewrap
def test_solutions_cannot_be_read(root, graded):
    output, _, _ = graded
    notebook = nbformat.read(output / "autograded" / "reader" / LESSON /
                             f"{LESSON}.ipynb", as_version=4)
    text = "".join(str(output_) for c in notebook.cells
                   for output_ in c.get("outputs", []))
    assert "No such file or directory" in text or \
        "Permission denied" in text
    assert "### BEGIN SOLUTION" not in text


@needs_bubblewrap
def test_no_network(graded, listener):
    _, connections = listener
    assert connections == []


@needs_bubblewrap
def test_no_process_outlives_grading(graded):
    # Grading kernels (and anything they forked) carry their connection
    # file, in a short-named runtime folder, on their command line.
    leftover = subprocess.run(["pgrep", "-f", r"/ag-[^/ ]+/kernel\.json"],
                              capture_output=True, text=True)
    sleepers = [line for line in leftover.stdout.split() if line]
    assert not sleepers, f"processes left behind: {sleepers}"
