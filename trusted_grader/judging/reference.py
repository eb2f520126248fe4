"""The reference solutions, read from the solution cells in solutions/.

The solution notebooks are the one source of truth: the judge and the
visible checks' expected values both come from executing their solution
cells, never from a copy of the code. Only the trusted side reads them;
the student's kernel never sees solutions/.
"""

import hashlib
from pathlib import Path
from types import SimpleNamespace

import nbformat

from trusted_grader.paths import SOLUTIONS

_cache = {}


class ReferenceUnavailable(RuntimeError):
    """The instructor's solutions/ folder is not on this machine."""


def solution_notebook(lesson, solutions=None):
    return Path(solutions or SOLUTIONS) / lesson / f"{lesson}.ipynb"


def solutions_fingerprint(solutions, lessons):
    """SHA-256 of the lessons' solution notebooks, in order."""
    digest = hashlib.sha256()
    for lesson in sorted(lessons):
        path = Path(solutions) / lesson / f"{lesson}.ipynb"
        digest.update(lesson.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def is_setup(grade_id):
    """Locked cells that solutions rely on: `setup` and `setup_<name>`."""
    return grade_id == "setup" or grade_id.startswith("setup_")


def is_reference_cell(cell):
    """A setup cell or a code solution cell: what the reference runs."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and (
        is_setup(meta.get("grade_id", "")) or bool(meta.get("solution")))


def reference_cells(notebook):
    """Source of the setup cells and every code solution cell, in order."""
    return [(cell.metadata.get("nbgrader", {}).get("grade_id", "?"),
             cell.source)
            for cell in notebook.cells if is_reference_cell(cell)]


def load(lesson, solutions=None):
    """A namespace holding the reference solutions of `lesson`."""
    path = solution_notebook(lesson, solutions)
    if path in _cache:
        return _cache[path]
    if not path.is_file():
        raise ReferenceUnavailable(
            f"the judge needs the reference solutions ({path}); they are "
            "in the instructor's solutions/ folder.")
    notebook = nbformat.read(path, as_version=4)
    namespace = {"__name__": f"reference_{lesson}"}
    for grade_id, source in reference_cells(notebook):
        code = compile(source, f"{path.name}:{grade_id}", "exec")
        exec(code, namespace)  # noqa: S102 - the instructor's own notebook
    _cache[path] = SimpleNamespace(**namespace)
    return _cache[path]
