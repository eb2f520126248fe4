"""`--canvas-gradebook`: the run's scores filled into a Canvas export.

The sample exports are laid out as Canvas's exporter writes them
(instructure/canvas-lms lib/gradebook_exporter.rb): header, a Manual
Posting row, the "    Points Possible" row with "(read only)" under the
totals, then the students, the Test Student last.
"""

import csv
import io

import nbformat
import pytest
from helpers import GRADED_LESSON, lesson_notebook, run_grading

from trusted_grader.batch import cli
from trusted_grader.export import canvas

LESSON = GRADED_LESSON
L02 = "02_convolution_by_hand"
L03 = "03_cnn_from_scratch"
HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
          "Lesson 01 notes", "Lesson 01: Dense translation (1001)",
          "Lesson 02 - Convolution by hand (1002)", "Quiz 01 (1005)",
          "Lessons Current Score", "Current Score", "Unposted Current Score",
          "Final Score", "Unposted Final Score", "Current Grade"]
RO = "(read only)"
ROWS = [
    HEADER,
    ["", "", "", "", "", "", "Manual Posting", "", "", "", "", "", "", "",
     ""],
    ["    Points Possible", "", "", "", "", "", "12.00", "20.00", "5.00",
     RO, RO, RO, RO, RO, RO],
    ["Lovelace, Ada", "101", "S001", "ada", "Section A", "", "7.00", "",
     "5.00", "60.00", "60.00", "60.00", "30.00", "30.00", "D-"],
    ["Brown, Bea", "102", "S002", "BEA", "Section A, Lab", "line one\nline 2",
     "", "15.00", "4.00", "40.00", "40.00", "40.00", "20.00", "20.00", "F"],
    ["Cole, Cy", "103", "S003", "cy", "Section B", "", "", "", "", "", "", "",
     "", "", ""],
    ["Diaz, Dee", "104", "S004", "dee", "Section B", "", "N/A", "", "", "",
     "", "", "", "", ""],
    ["Evans, Eve", "105", "S005", "eve", "Section B", "", "EX", "", "", "",
     "", "", "", "", ""],
    ["Fox, Fay", "106", "S006", "fay", "Section B", "", "", "", "", "", "",
     "", "", "", ""],
    ["One, Twin", "107", "S007", "twin", "Section A", "", "", "", "", "", "",
     "", "", "", ""],
    ["Two, Twin", "108", "S008", "Twin ", "Section B", "", "", "", "", "",
     "", "", "", "", ""],
    ["Zed, Zoe", "109", "S009", "zed", "Section A", "\"Z\" notes", "3", "",
     "", "", "", "", "", "", ""],
    ["Student, Test", "110", "", "", "Section A", "", "", "", "", "", "", "",
     "", "", ""],
]
# The run's grades.csv rows, as csv.DictReader gives them.
GRADES = [
    ("ada", LESSON, "10", "12", "graded", "yes"),
    ("ada", L02, "8.5", "20", "graded", "no"),
    ("ada", L03, "11", "12", "graded", "no"),   # no column for lesson 03
    ("bea", LESSON, "3.25", "12", "timeout", "yes"),
    ("bea", L02, "0", "20", "missing", "no"),   # kept: 15.00
    ("cy", LESSON, "0", "12", "tampered", "no"),  # held back
    ("dee", LESSON, "6.67", "12", "graded", "no"),  # N/A: kept
    ("eve", LESSON, "9", "12", "graded", "no"),  # EX: kept
    ("fay", LESSON, "0", "12", "invalid_notebook", "no"),
    ("fay", LESSON, "0", "12", "duplicate", "no"),
    ("twin", LESSON, "10", "12", "graded", "no"),  # two rows: not filled
    ("gus", LESSON, "4", "12", "graded", "no"),   # not in the export
    ("gus-lesson1", "", "", "", "bad_filename", "no"),
]
FILLED = {("ada", 6): "10", ("ada", 7): "8.5", ("BEA", 6): "3.25",
          ("fay", 6): "0"}


def serialize(rows, delimiter=",", newline="\n"):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerows(rows)
    return out.getvalue()


def expected_rows(rows, filled):
    result = [list(row) for row in rows]
    for row in result:
        for (login, column), value in filled.items():
            if len(row) > 3 and row[3] == login:
                row[column] = value
    return result


def grade_rows():
    names = ["student", "lesson", "score", "max_score", "status",
             "needs_manual_grade"]
    return [dict(zip(names, values)) for values in GRADES]


@pytest.mark.parametrize("delimiter, newline, bom", [
    (",", "\n", ""), (";", "\r\n", "\ufeff")])
def test_round_trip_fills_scores_and_keeps_every_other_byte(
        tmp_path, delimiter, newline, bom):
    source = tmp_path / "export.csv"
    source.write_bytes((bom + serialize(ROWS, delimiter, newline))
                       .encode("utf-8"))
    export = canvas.read_export(source)
    assert export.delimiter == delimiter and export.bom == bom
    assert export.points_row == 2 and len(export.student_rows) == 10
    text, report = canvas.fill(export, grade_rows())
    target = tmp_path / "filled.csv"
    canvas.write(export, text, target)
    wanted = bom + serialize(expected_rows(ROWS, FILLED), delimiter, newline)
    assert target.read_bytes() == wanted.encode("utf-8")

    assert report.columns == {LESSON: HEADER[6], L02: HEADER[7]}
    assert report.missing_columns == [L03]
    assert report.filled_cells == 4 and report.manual_pending == 2
    assert report.filled_students == ["ada", "bea", "fay"]
    assert report.without_grade == ["zed", "Student, Test (no login id)"]
    assert report.not_in_export == ["gus"]
    assert report.duplicates == {"twin": ["One, Twin", "Two, Twin"]}
    assert report.held_back == [("cy", LESSON, "tampered")]
    assert report.kept_cells == [
        ("dee", LESSON, "not assigned to the student in Canvas"),
        ("eve", LESSON, "excused in Canvas")]
    lines = canvas.summary(report, target)
    for text in ("4 scores of 3 students", "gus", "zed", "'twin' on 2 rows",
                 "cy 01_dense_translation (tampered)", f"{L03}: no assignment",
                 "await manual grading"):
        assert text in lines, text


def test_records_split_as_the_csv_module_reads_them():
    text = serialize(ROWS)
    records = canvas.split_records(text, ",")
    assert [[f.value for f in r.fields] for r in records] == ROWS
    for record in records:  # every field's place points at its own text
        for cell in record.fields:
            raw = text[cell.start:cell.end]
            assert next(csv.reader([raw])) in ([cell.value], [])


def test_lesson_columns_need_an_id_and_one_clear_match(tmp_path):
    header = ["Student", "ID", "SIS Login ID", "Section",
              "Lesson 01 notes",                  # custom column: no id
              "01_dense_translation (1)", "Lesson 01 quiz (2)",
              "Lesson 2 part A (3)", "Lesson 02 part B (4)",
              "Lesson 10 (5)", "Lesson 04 Current Score (6)"]
    points = ["Points Possible", "", "", "", "", "12", "5", "10", "10", "1",
              RO]
    source = tmp_path / "export.csv"
    source.write_text(serialize([header, points]), encoding="utf-8")
    export = canvas.read_export(source)
    lessons = [LESSON, L02, L03, "04_keras_cnn"]
    columns, ambiguous = canvas.lesson_columns(export, lessons)
    assert columns == {LESSON: 5}   # the lesson id wins over "Lesson 01"
    assert ambiguous == {L02: ["Lesson 2 part A (3)", "Lesson 02 part B (4)"]}


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("name,score\nada,3\n", "not a Canvas gradebook export"),
    ("Student,ID,SIS User ID,Section,Lesson 01 (1)\n", "no SIS Login ID"),
    ("Student,ID,SIS Login ID,Section,Quiz (1)\n", "no assignment column"),
    (b"Student,ID,SIS Login ID,Section,Lesson 01 (1)\nM\xfcller,1,m,A,3\n",
     "not UTF-8"),
])
def test_a_bad_export_stops_the_run_before_grading(tmp_path, capsys,
                                                   content, message):
    source = tmp_path / "export.csv"
    if isinstance(content, bytes):
        source.write_bytes(content)
    elif content is not None:
        source.write_text(content, encoding="utf-8")
    output = tmp_path / "out"
    status = cli.main(["grade", str(tmp_path / "nowhere"), "--output",
                       str(output), "--canvas-gradebook", str(source)])
    assert status == 2
    error = capsys.readouterr().err
    assert error.startswith("canvas gradebook: ") and message in error
    assert not output.exists()  # grading never started


def test_grading_command_fills_the_export(root, tmp_path):
    """One real run of lesson 01: a correct, a blank and a broken notebook;
    the export also lists a student who submitted nothing."""
    folder = tmp_path / "submissions"
    nbgrader_layout = folder / "ada" / LESSON
    nbgrader_layout.mkdir(parents=True)
    nbformat.write(lesson_notebook(root, "solutions"),
                   nbgrader_layout / f"{LESSON}.ipynb")
    nbformat.write(lesson_notebook(root, "notebooks"),
                   folder / f"cy_{LESSON}.ipynb")
    (folder / f"bo_{LESSON}.ipynb").write_text("{ not json",
                                               encoding="utf-8")
    rows = [ROWS[0], ROWS[2], ROWS[3], ROWS[5], ROWS[11], ROWS[12]]
    export = tmp_path / "Grades-CNN_Course.csv"
    export.write_text(serialize(rows), encoding="utf-8")
    output = tmp_path / "grading"
    result, grades = run_grading(root, folder, output,
                                 "--canvas-gradebook", str(export))
    scores = {(row["student"], row["status"]): row["score"]
              for row in grades}
    assert scores[("ada", "graded")] == "10"
    assert scores[("cy", "graded")] == "0"
    assert scores[("bo", "invalid_notebook")] == "0"
    filled = (output / canvas.OUTPUT_NAME).read_text(encoding="utf-8")
    assert filled == serialize(
        expected_rows(rows, {("ada", 6): "10", ("cy", 6): "0"}))
    assert "2 scores of 2 students filled" in result.stdout
    assert "graded, not in the export: bo" in result.stdout
    assert "no grade from this run: zed, Student, Test (no login id)" \
        in result.stdout
