"""notebooks/ is exactly what nbgrader makes from solutions/; git is clean."""

import filecmp
import subprocess
import sys

import nbformat

from trusted_grader.judging import reference


def differences(left, right):
    comparison = filecmp.dircmp(left, right, ignore=["__pycache__"])
    found = [f"{left}/{name}" for name in comparison.left_only]
    found += [f"{right}/{name}" for name in comparison.right_only]
    found += [f"{left}/{name}" for name in comparison.diff_files]
    for name in comparison.common_dirs:
        found += differences(left / name, right / name)
    return found


def test_notebooks_are_freshly_generated(root, tmp_path):
    subprocess.run([sys.executable, "tools/release.py", "--output",
                    str(tmp_path)], cwd=root, check=True,
                   capture_output=True)
    stale = differences(root / "notebooks", tmp_path)
    assert not stale, (
        f"notebooks/ differs from what solutions/ generates: {stale}. Run "
        "`python tools/release.py` and commit notebooks/.")


def test_notebooks_carry_no_outputs_or_counts(root):
    result = subprocess.run([sys.executable, "tools/clean_notebooks.py",
                             "--check"], cwd=root, capture_output=True,
                            text=True)
    assert result.returncode == 0, (
        f"{result.stdout}Run `python tools/clean_notebooks.py`.")


def test_student_notebooks_hold_no_solutions_or_hidden_tests(root):
    for path in (root / "notebooks").rglob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS",
                       "hidden_", "BEGIN MARK SCHEME"):
            if marker == "hidden_":
                # The cell ids stay; the calls to hidden checks must not.
                assert "check.hidden_" not in text, path
            else:
                assert marker not in text, path


def test_every_lesson_has_visible_and_hidden_tests(root):
    for path in sorted((root / "solutions").glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        solutions = [cell.metadata["nbgrader"]["grade_id"]
                     for cell in notebook.cells
                     if cell.cell_type == "code"
                     and cell.metadata.get("nbgrader", {}).get("solution")]
        grade_ids = {cell.metadata["nbgrader"]["grade_id"]
                     for cell in notebook.cells
                     if cell.metadata.get("nbgrader", {}).get("grade")}
        for exercise in solutions:
            assert f"test_{exercise}" in grade_ids, (path, exercise)
            assert f"hidden_{exercise}" in grade_ids, (path, exercise)


def test_hidden_cells_award_their_metadata_points(root):
    """The points= passed to a hidden check equal the cell's points."""
    for path in sorted((root / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade_id", "").startswith("hidden_"):
                assert f"points={meta['points']})" in cell.source, (
                    path, meta["grade_id"])


def test_references_load_from_solution_cells():
    ref = reference.load("01_dense_translation")
    for name in ("mean_image", "shift_image", "build_dense_model"):
        assert callable(getattr(ref, name))


def test_expected_files_tolerate_only_the_last_digits():
    """Another processor's BLAS may change the last digits of a stored
    expected value; any larger change makes the file stale."""
    from expected_values import FLOAT_TOLERANCE, _same

    stored = {"cases": [{"x": [1.0, 2.5, -3.25], "n": 3, "s": "a"}]}
    fresh = {"cases": [{"x": [1.0, 2.5 * (1 + FLOAT_TOLERANCE / 10),
                              -3.25], "n": 3, "s": "a"}]}
    assert _same(stored, fresh)
    fresh["cases"][0]["x"][1] = 2.5 * (1 + 1e-6)
    assert not _same(stored, fresh)
    assert not _same({"n": 3}, {"n": 3.0000001})
    assert not _same({"n": 3}, {"n": 4})
    assert not _same([1.0], [1.0, 2.0])
    assert not _same({"s": "a"}, {"s": "b"})
