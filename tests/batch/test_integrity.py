"""The static scan of submissions (autograder/integrity.py)."""

import nbformat
import pytest
from helpers import LESSONS

from trusted_grader.batch import integrity


def notebook(root, folder, lesson):
    return nbformat.read(root / folder / lesson / f"{lesson}.ipynb",
                         as_version=4)


@pytest.mark.parametrize("lesson", LESSONS)
def test_solutions_and_blank_notebooks_are_clean(root, lesson):
    source = notebook(root, "solutions", lesson)
    assert integrity.scan_notebook(source, source) == []
    assert integrity.scan_notebook(notebook(root, "notebooks", lesson),
                                   source) == []


@pytest.mark.parametrize("code", [
    "import numpy as np\nimport numpy",
    "import tensorflow as tf\nfrom tensorflow import keras\nimport keras",
    "import os\nimport sys\nprint(os.getcwd(), sys.version)",
    "x = np.zeros((3, 3))\nx[0, 0] = 1\nmodel = keras.Sequential([])",
    "def conv2d(image, kernel):\n    return np.einsum('ij,ij', image, kernel)",
    "%matplotlib inline\nresult = shift_image(image, 2)",
    "def broken(:\n    pass",
])
def test_honest_code_is_not_flagged(code):
    assert integrity.scan_source(code) == []


@pytest.mark.parametrize("code, finding", [
    ("np.allclose = lambda *a, **k: True", "replaces `np.allclose`"),
    ("np.testing.assert_allclose = print",
     "replaces `np.testing.assert_allclose`"),
    ("check.hidden_conv2d = lambda f, points: points",
     "replaces `check.hidden_conv2d`"),
    ("check = None", "rebinds `check`"),
    ("import pandas as np", "rebinds `np`"),
    ("from autograder import reference", "grader's own code"),
    ("import os\nos._exit(0)", "os._exit"),
    ("import sys\nsys.exit()", "sys.exit"),
    ("raise SystemExit", "SystemExit"),
    ("raise KeyboardInterrupt()", "KeyboardInterrupt"),
    ("class A:\n    def __eq__(self, other):\n        return True",
     "defines __eq__"),
    ("setattr(np, 'allclose', len)", "setattr()"),
    ("import inspect\ninspect.stack()", "import inspect"),
    ("import sys\nframe = sys._getframe(1)", "_getframe"),
    ("import sys\nsys.modules['numpy'] = None", "sys.modules"),
    ("!cat /etc/passwd", "runs shell commands"),
    ("exec('np.allclose = len')", "exec()"),
])
def test_interference_is_flagged(code, finding):
    found = " | ".join(what for _, what in integrity.scan_source(code))
    assert finding in found, found


def test_invented_test_cells_are_reported_and_stripped(root):
    lesson = LESSONS[0]
    source = notebook(root, "solutions", lesson)
    submission = notebook(root, "notebooks", lesson)
    test_cell = next(c for c in submission.cells if c.metadata.get(
        "nbgrader", {}).get("grade_id") == "hidden_shift_image")
    test_cell.metadata["nbgrader"]["grade_id"] = "my_own_test"
    findings = integrity.scan_notebook(submission, source)
    assert any("'my_own_test'" in finding for finding in findings)
    integrity.strip_unknown_grade_cells(submission, source)
    assert "nbgrader" not in test_cell.metadata
    assert integrity.unknown_grade_cells(submission, source) == []
