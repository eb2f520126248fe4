"""Helpers shared by the check tests and the grading tests."""

import csv
import functools
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.feedback import CheckFailure
from trusted_grader.paths import lesson_ids

ROOT = Path(__file__).resolve().parent.parent
# Every lesson (from solutions/), and each by its number.
LESSONS = lesson_ids()
LESSON01, LESSON02, LESSON03, LESSON04, LESSON05 = LESSONS


def failure_of(check_function, *args, **kwargs):
    """The message a visible check gives for its arguments (the student's
    function); fails if none."""
    with pytest.raises(CheckFailure) as error:
        check_function(*args, **kwargs)
    return error.value.message


def chinese(text):
    """True if `text` holds a Chinese character."""
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def in_both_languages(run):
    """(result in Chinese, result in English) of `run()`."""
    from cnn_course import messages

    with messages.use_language("zh-CN"):
        in_chinese = run()
    with messages.use_language("en"):
        return in_chinese, run()


def failures_in_both_languages(check_function, student):
    """(Chinese message, English message) of a visible check."""
    return in_both_languages(lambda: failure_of(check_function, student))


# ------------------------------------------------------ grading tests ---

GRADED_LESSON = LESSON01  # the fastest lesson to grade
ROLL_SHIFT = '''def shift_image(image, dx, dy=0):
    return np.roll(image, (dy, dx), axis=(0, 1))
'''


def lesson_notebook(root, folder, lesson=GRADED_LESSON):
    """The lesson's notebook from `solutions` or `notebooks` (blank)."""
    return nbformat.read(root / folder / lesson / f"{lesson}.ipynb",
                         as_version=4)


def cell(notebook, grade_id):
    return next(c for c in notebook.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def partly_correct(root):
    """The solution with an np.roll shift_image: partial credit."""
    notebook = lesson_notebook(root, "solutions")
    cell(notebook, "shift_image").source = ROLL_SHIFT
    return notebook


def run_grading(root, source, output, *options):
    """`python -m trusted_grader grade`; (completed process, grades.csv
    rows)."""
    result = subprocess.run(
        [sys.executable, "-m", "trusted_grader", "grade", str(source),
         "--output", str(output), *options],
        cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(output / "grades.csv", newline="", encoding="utf-8") as file:
        return result, list(csv.DictReader(file))


def grade_class(root, notebooks, folder, output, *options):
    """Write `notebooks` ({"<student>_<lesson>": notebook}) to FOLDER and
    grade them into OUTPUT; {(student, lesson): grades.csv row}."""
    for name, notebook in notebooks.items():
        nbformat.write(notebook, folder / f"{name}.ipynb")
    _, rows = run_grading(root, folder, output, *options)
    return {(row["student"], row["lesson"]): row for row in rows}


def exercise_points(output, student, lesson, exercise):
    """(visible, hidden) points of one exercise in a graded OUTPUT folder,
    from its gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{output}/gradebook.db") as gradebook:
        return tuple(
            gradebook.find_grade(f"{kind}_{exercise}", lesson, lesson,
                                 student).score
            for kind in ("test", "hidden"))


def judge_output(output, student, lesson, grade_id):
    """The text the judge wrote under a test cell of a graded notebook."""
    path = output / "autograded" / student / lesson / f"{lesson}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    return "".join(item.get("text", "") for item in
                   cell(notebook, grade_id).outputs)


def judged(check, name, func, seed=0):
    """The judge's results for `func` as exercise `name`: {cell: result}.

    Takes the graded path: the judge lists the calls, the kernel-side
    recorder answers them with `func` and writes the answers as data, the
    judge scores them.
    """
    import local_judge

    return local_judge.judge_functions(check.LESSON, {name: func}, seed=seed)


def hidden_score(check, name, func, seed=0):
    """The judge's hidden points for `func` as exercise `name`."""
    return judged(check, name, func, seed)[f"hidden_{name}"]["score"]


def hidden_points(check):
    """`hidden(name, func)` for the lesson of `check` (its autograder
    module): the judge's hidden points for `func` as exercise `name`."""
    return functools.partial(hidden_score, check)
