"""Each lesson's template gradebook is built on its own
(trusted_grader/batch/templates.py), so that a lesson's notebooks start
before the other lessons' templates are made; the run's merged gradebook
starts from them combined. The combined gradebook is the one nbgrader
makes of all the lessons at once, but for its random ids."""

import sqlite3

import pytest
from helpers import LESSON01, LESSON02

from trusted_grader.batch import notebook_grading, templates
from trusted_grader.batch.settings import GradingSettings

# Columns that are fresh UUIDs in every gradebook nbgrader makes.
ID_COLUMNS = {"id", "notebook_id", "assignment_id", "course_id"}


def settings(root):
    found = GradingSettings()
    found.solutions = str(root / "solutions")
    return found


def contents(gradebook):
    """{table: sorted rows} with the assignment's and notebook's names
    in place of their random ids."""
    with sqlite3.connect(gradebook) as connection:
        names = dict(connection.execute(
            "SELECT id, name FROM assignment UNION ALL "
            "SELECT id, name FROM notebook UNION ALL "
            "SELECT id, name FROM base_cell"))
        found = {}
        for (table,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"):
            columns = [row[1] for row in connection.execute(
                f'PRAGMA table_info("{table}")')]
            rows = []
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                rows.append(tuple(
                    names.get(value, "?") if column in ID_COLUMNS and
                    table != "course" else value
                    for column, value in zip(columns, row)))
            found[table] = sorted(rows, key=repr)
    return found


@pytest.mark.slow
def test_templates_built_apart_combine_into_the_one_of_all(root,
                                                           tmp_path):
    lessons = [LESSON02, LESSON01]
    made = templates.Templates(tmp_path / "apart", lessons, settings(root))
    try:
        combined = made.combined() / "gradebook.db"
        for lesson in lessons:
            assert made.of(lesson).name == lesson
    finally:
        made.close()
    together = tmp_path / "together"
    together.mkdir()
    result = notebook_grading.run_unit(
        "template", {"root": str(together), "lessons": lessons,
                     "settings": settings(root).trait_values()})
    assert all(result[lesson]["success"] for lesson in lessons)
    expected = contents(together / "gradebook.db")
    assert contents(combined) == expected
    assert len(expected["assignment"]) == 2
    assert len(expected["grade_cells"]) > 10


def test_a_template_that_cannot_be_made_stops_the_run(root, tmp_path):
    made = templates.Templates(tmp_path, ["99_no_such_lesson"],
                               settings(root))
    try:
        with pytest.raises(templates.TemplateFailed,
                           match="99_no_such_lesson"):
            made.of("99_no_such_lesson")
    finally:
        made.close()
