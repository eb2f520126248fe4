"""Every lesson through the grading command: solution full, blank zero.

The solution notebook submitted as a student's gets every autograded
point (judged outside its kernel); the untouched student notebook gets
zero; plain `nbgrader autograde`, which has no judge, gives the hidden
cells nothing.
"""

import shutil

import pytest
from helpers import run_grading

from trusted_grader.judge import cell_points

pytestmark = pytest.mark.slow
LESSONS = ["01_dense_translation", "02_convolution_by_hand",
           "03_cnn_from_scratch", "04_keras_cnn"]


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    submissions = tmp_path_factory.mktemp("submitted")
    for lesson in LESSONS:
        for student, source in (("solution", "solutions"),
                                ("blank", "notebooks")):
            folder = submissions / student / lesson
            folder.mkdir(parents=True)
            shutil.copy(root / source / lesson / f"{lesson}.ipynb", folder)
    output = tmp_path_factory.mktemp("grading")
    _, rows = run_grading(root, submissions, output, "--jobs", "2",
                          "--seed", "12")
    return {(row["student"], row["lesson"]): row for row in rows}


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_gets_every_autograded_point(graded, lesson):
    row = graded[("solution", lesson)]
    autograded = sum(cell_points(lesson).values())
    assert row["status"] == "graded", row
    assert float(row["score"]) == autograded, row
    assert float(row["max_score"]) > autograded  # the short answer
    assert row["needs_manual_grade"] == "yes"


@pytest.mark.parametrize("lesson", LESSONS)
def test_untouched_notebook_gets_zero(graded, lesson):
    row = graded[("blank", lesson)]
    assert row["status"] == "graded", row
    assert float(row["score"]) == 0.0, row
