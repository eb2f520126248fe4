"""`python -m trusted_grader grade` end to end on submissions built here.

Lesson 01 only (the fastest to grade): correct, partly correct, blank, not
JSON, a deleted test cell, test-cell metadata removed, a wrongly named
file, and a missing lesson; in both layouts, from a folder and a zip.
"""

import subprocess
import sys
import zipfile

import nbformat
import pytest
from helpers import (
    GRADED_LESSON,
    cell,
    lesson_notebook,
    partly_correct,
    run_grading,
)

LESSON = GRADED_LESSON

# Keras 2 style, as in the seed: Keras 3 warns on stderr about input_dim,
# which must not cost a point.
KERAS2_DENSE = '''def build_dense_model(num_pixels=784, num_classes=10):
    model = keras.Sequential()
    model.add(keras.layers.Dense(1024, input_dim=num_pixels,
                                 activation="relu"))
    model.add(keras.layers.Dense(num_classes, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(),
                  loss=keras.losses.CategoricalCrossentropy(),
                  metrics=["accuracy"])
    return model
'''


# A crash in C code, as a buggy extension would cause: the kernel dies.
CRASH = "import faulthandler\nfaulthandler._sigsegv()"


@pytest.fixture(scope="module")
def submissions(root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    correct = lesson_notebook(root, "solutions")
    blank = lesson_notebook(root, "notebooks")
    deleted = partly_correct(root)
    deleted.cells = [c for c in deleted.cells if c.metadata.get(
        "nbgrader", {}).get("grade_id") not in {"test_shift_image",
                                                "hidden_shift_image"}]
    stripped = partly_correct(root)
    for grade_id in ("test_shift_image", "hidden_shift_image"):
        del cell(stripped, grade_id).metadata["nbgrader"]
    nbgrader_layout = folder / "submitted" / "ada" / LESSON
    nbgrader_layout.mkdir(parents=True)
    nbformat.write(correct, nbgrader_layout / f"{LESSON}.ipynb")
    keras2 = lesson_notebook(root, "solutions")
    cell(keras2, "build_dense_model").source = KERAS2_DENSE
    flat = {"bea": partly_correct(root), "cy": blank, "dee": deleted,
            "eve": stripped, "kay": keras2}
    for student, notebook in flat.items():
        nbformat.write(notebook, folder / f"{student}_{LESSON}.ipynb")
    for student, code in (("ivy", "import time\ntime.sleep(600)"),
                          ("jon", CRASH)):
        notebook = lesson_notebook(root, "notebooks")
        cell(notebook, "mean_image").source = code
        nbformat.write(notebook, folder / f"{student}_{LESSON}.ipynb")
    (folder / f"fay_{LESSON}.ipynb").write_text("{ not json",
                                                encoding="utf-8")
    nbformat.write(correct, folder / "gus-lesson1.ipynb")
    nbformat.write(correct, folder / "hal_05_transformers.ipynb")
    return folder


def grade(root, source, output, *options):
    result, rows = run_grading(root, source, output, *options)
    return result, {(row["student"], row["lesson"]): row for row in rows}


@pytest.fixture(scope="module")
def graded(root, submissions, tmp_path_factory):
    output = tmp_path_factory.mktemp("grading")
    return output, *grade(root, submissions, output, "--jobs", "2",
                          "--timeout", "30")


def score(rows, student, lesson=LESSON):
    return float(rows[(student, lesson)]["score"])


def test_correct_submission_gets_every_autograded_point(graded):
    _, _, rows = graded
    row = rows[("ada", LESSON)]
    assert row["status"] == "graded"
    assert float(row["score"]) == 10  # 2 more points await a human
    assert float(row["max_score"]) == 12
    assert row["needs_manual_grade"] == "yes"


def test_keras2_style_and_its_warnings_cost_nothing(graded):
    _, _, rows = graded
    assert rows[("kay", LESSON)]["status"] == "graded"
    assert score(rows, "kay") == 10


def test_partly_correct_gets_partial_credit(graded):
    _, _, rows = graded
    assert rows[("bea", LESSON)]["status"] == "graded"
    assert 6 <= score(rows, "bea") < 7


def test_blank_notebook_gets_zero(graded):
    _, _, rows = graded
    assert rows[("cy", LESSON)]["status"] == "graded"
    assert score(rows, "cy") == 0


def test_deleted_or_unmarked_test_cells_are_put_back(graded):
    _, _, rows = graded
    for student in ("dee", "eve"):
        assert rows[(student, LESSON)]["status"] == "graded"
        assert float(rows[(student, LESSON)]["max_score"]) == 12
        assert score(rows, student) <= score(rows, "bea")


def test_broken_and_misnamed_files_are_accounted_for(graded):
    _, _, rows = graded
    assert rows[("fay", LESSON)]["status"] == "invalid_notebook"
    assert "not valid JSON" in rows[("fay", LESSON)]["detail"]
    assert rows[("gus-lesson1", "")]["status"] == "bad_filename"
    assert rows[("hal_05_transformers", "")]["status"] == "bad_filename"


def test_timeouts_and_dead_kernels_are_reported(graded):
    _, _, rows = graded
    assert rows[("ivy", LESSON)]["status"] == "timeout"
    assert rows[("jon", LESSON)]["status"] == "kernel_died"
    for student in ("ivy", "jon", "fay"):
        assert score(rows, student) == 0
        assert float(rows[(student, LESSON)]["max_score"]) == 12


def test_feedback_summary_and_gradebook(graded):
    output, result, rows = graded
    for student in ("ada", "bea", "cy"):
        html = output / "feedback" / student / LESSON / f"{LESSON}.html"
        assert html.is_file()
    assert "ada" in result.stdout and "10/12 graded" in result.stdout
    assert (output / "gradebook.db").is_file()
    assert (output / "autograded" / "ada" / LESSON).is_dir()


def test_zip_input_and_regrading_give_the_same_rows(root, submissions,
                                                    graded, tmp_path):
    output, _, first_rows = graded
    archive = tmp_path / "lms-download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for student in ("bea", "cy", "fay"):
            name = f"{student}_{LESSON}.ipynb"
            zipped.write(submissions / name, f"download/{name}")
    _, rows = grade(root, archive, tmp_path / "again")
    assert set(rows) == {(s, LESSON) for s in ("bea", "cy", "fay")}
    for key, row in rows.items():
        assert row["status"] == first_rows[key]["status"]
    # A second run into the same folder replaces, never appends.
    _, rerun = grade(root, archive, tmp_path / "again")
    lines = (tmp_path / "again" / "grades.csv").read_text().splitlines()
    assert len(lines) == len(rerun) + 1


def test_missing_input_is_a_clear_failure(root, tmp_path):
    # The command's old name, which hands over to `python -m
    # trusted_grader` without importing it.
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade",
         str(tmp_path / "nowhere"), "--output", str(tmp_path / "out")],
        cwd=root, capture_output=True, text=True)
    assert result.returncode == 2
    assert "expected a folder or a .zip" in result.stderr


def test_status_values_are_documented(root):
    from trusted_grader.batch.grading import STATUSES

    readme = (root / "README.md").read_text(encoding="utf-8")
    for status in STATUSES:
        assert f"`{status}`" in readme, status


def test_bad_input_at_scale_costs_nothing(root, tmp_path):
    """A zip bomb, an oversized notebook, too many members and a member
    that escapes the archive each get a status; the honest notebook beside
    them is graded, and nothing is read whole."""
    archive = tmp_path / "class.zip"
    correct = nbformat.writes(lesson_notebook(root, "solutions"))
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(f"ann_{LESSON}.ipynb", correct)
        # 200 MiB of zeros: a few hundred KiB compressed.
        with zipped.open(f"bomb_{LESSON}.ipynb", "w",
                         force_zip64=True) as member:
            for _ in range(200):
                member.write(bytes(2**20))
        zipped.writestr(f"../escape_{LESSON}.ipynb", correct)
        for number in range(30):
            zipped.writestr(f"extra/file{number}.txt", "x")
    _, rows = grade(root, archive, tmp_path / "out",
                    "--max-archive-members", "25")
    assert rows[("ann", LESSON)]["status"] == "graded"
    assert float(rows[("ann", LESSON)]["score"]) == 10
    bomb = rows[("bomb", LESSON)]
    assert bomb["status"] == "too_large" and "limit" in bomb["detail"]
    assert rows[("escape", LESSON)]["status"] == "unsafe_path"
    assert any(row["status"] == "too_large" and "members" in row["detail"]
               for row in rows.values())
    assert not (tmp_path / f"escape_{LESSON}.ipynb").exists()


def test_oversized_notebook_in_a_folder_is_not_read(root, tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    big = folder / f"max_{LESSON}.ipynb"
    with open(big, "wb") as file:
        file.truncate(3 * 2**20)
    _, rows = grade(root, folder, tmp_path / "out", "--max-notebook-mb",
                    "2")
    assert rows[("max", LESSON)]["status"] == "too_large"
    assert str(2 * 2**20) in rows[("max", LESSON)]["detail"]
