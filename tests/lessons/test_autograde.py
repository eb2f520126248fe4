"""Every lesson through the grading command: solution full, blank zero.

The solution notebook submitted as a student's gets every autograded
point (judged outside its kernel); the untouched student notebook gets
zero; plain `nbgrader autograde`, which has no judge, gives the hidden
cells nothing.
"""

import shutil

import pytest
from helpers import LESSONS, run_grading

from trusted_grader.judging.server import cell_points

pytestmark = pytest.mark.slow


def manual_points(root, lesson):
    """Points of the answers graded by hand (every lesson but 05 has
    one), from the solution notebook's metadata."""
    import nbformat

    path = root / "solutions" / lesson / f"{lesson}.ipynb"
    return sum(cell.metadata["nbgrader"]["points"]
               for cell in nbformat.read(path, as_version=4).cells
               if cell.metadata.get("nbgrader", {}).get("grade")
               and cell.metadata["nbgrader"].get("solution"))


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
    graded = {(row["student"], row["lesson"]): row for row in rows}
    graded["feedback"] = output / "feedback"
    return graded


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_gets_every_autograded_point(graded, lesson, root):
    row = graded[("solution", lesson)]
    autograded = sum(cell_points(lesson).values())
    assert row["status"] == "graded", row
    assert float(row["score"]) == autograded, row
    manual = manual_points(root, lesson)  # the short answers
    assert float(row["max_score"]) == autograded + manual, row
    assert row["needs_manual_grade"] == ("yes" if manual else "no")


@pytest.mark.parametrize("lesson", LESSONS)
def test_untouched_notebook_gets_zero(graded, lesson):
    row = graded[("blank", lesson)]
    assert row["status"] == "graded", row
    assert float(row["score"]) == 0.0, row


@pytest.mark.parametrize("lesson", LESSONS)
def test_demo_cells_are_skipped_and_no_cell_raises(graded, lesson, root):
    """The solution's feedback: every cell tagged demo says it was not run
    while grading, and no cell that did run raised (so nothing graded
    needs what a demo cell computes)."""
    import nbformat

    from trusted_grader.batch.demo_cells import demo_sources, skipped_note

    demo = demo_sources(root / "solutions" / lesson / f"{lesson}.ipynb")
    assert demo, f"{lesson} has no demo cells"
    html = next((graded["feedback"] / "solution").glob(f"**/{lesson}.html"))
    text = html.read_text(encoding="utf-8")
    note = skipped_note().strip().split(":")[0]
    assert text.count(note) == len(demo)
    # IPython colours an error's name red; a check's verdict is plain.
    assert "ansi-red-fg" not in text
    assert "Traceback (most recent call last)" not in text
    released = nbformat.read(root / "notebooks" / lesson / f"{lesson}.ipynb",
                             as_version=4)
    assert {cell.id for cell in released.cells} >= set(demo)
