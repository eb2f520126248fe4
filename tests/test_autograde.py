"""nbgrader end to end, in a temporary copy of the course.

The solution notebook submitted as a student's gets every autograded point;
the untouched student notebook gets zero, and the grading run completes.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted(path.name for path in (ROOT / "solutions").iterdir()
                 if path.is_dir())


def nbgrader(course, *args):
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args],
                            cwd=course, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def graded_course(root, tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copy(root / "nbgrader_config.py", course)
    shutil.copytree(root / "solutions", course / "solutions")
    for lesson in LESSONS:
        nbgrader(course, "generate_assignment", lesson, "--force")
        for student, source in (("solution", "solutions"),
                                ("blank", "notebooks")):
            folder = course / "grading" / "submitted" / student / lesson
            folder.mkdir(parents=True)
            shutil.copy(root / source / lesson / f"{lesson}.ipynb", folder)
        nbgrader(course, "autograde", lesson, "--create")
    return course


def autograded_points(course, lesson, student):
    """(score, max score) over the autograded (not manual) cells."""
    with Gradebook(f"sqlite:///{course}/grading/gradebook.db") as gradebook:
        submission = gradebook.find_submission_notebook(lesson, lesson,
                                                        student)
        grades = [grade for grade in submission.grades
                  if not grade.cell.name.startswith("why_")
                  and grade.auto_score is not None]
        manual = [grade for grade in submission.grades
                  if grade.auto_score is None]
        return (sum(grade.auto_score for grade in grades),
                sum(grade.max_score for grade in grades),
                len(manual))


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_gets_every_autograded_point(graded_course, lesson):
    score, max_score, manual = autograded_points(graded_course, lesson,
                                                 "solution")
    assert max_score > 0
    assert score == max_score
    assert manual >= 1  # the short answer waits for a human


@pytest.mark.parametrize("lesson", LESSONS)
def test_untouched_notebook_gets_zero(graded_course, lesson):
    score, max_score, _ = autograded_points(graded_course, lesson, "blank")
    assert max_score > 0
    assert score == 0
