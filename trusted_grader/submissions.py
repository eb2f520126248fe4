"""Find submissions in a folder or zip and give every file a status.

Two layouts are accepted, and may be mixed:

- nbgrader's: ``<student>/<lesson>/<lesson>.ipynb`` (optionally under a
  ``submitted/`` folder), as `nbgrader collect` or an exchange leaves them;
- LMS-style flat files: ``<student>_<lesson>.ipynb``, where ``<lesson>`` is
  one of the lesson ids (e.g. ``alice_01_dense_translation.ipynb``) and
  ``<student>`` is the rest of the name: letters, digits, ``.``, ``-`` and
  ``_``. Any folder depth is fine.
"""

import json
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Files that submission tools add and that are not submissions.
IGNORED_NAMES = {"timestamp.txt", ".DS_Store", "Thumbs.db"}
IGNORED_PARTS = {"__MACOSX", ".ipynb_checkpoints", "feedback"}


@dataclass
class Entry:
    """One row of grades.csv: a student's lesson, or an unusable file."""

    student: str
    lesson: str
    status: str = "pending"
    detail: str = ""
    path: Path | None = None
    score: float | None = None
    max_score: float | None = None
    needs_manual_grade: bool = False
    extra: dict = field(default_factory=dict)


def extract_zip(archive, destination):
    """Unpack `archive`, refusing members that would land outside it."""
    destination = Path(destination).resolve()
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.infolist():
            target = (destination / member.filename).resolve()
            if destination not in target.parents and target != destination:
                raise ValueError(f"{archive}: member {member.filename!r} "
                                 "points outside the archive")
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(member) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink)
    return destination


def classify(relative, lessons):
    """(student, lesson) of a file, or (name, "") and a reason."""
    parts = relative.parts
    if parts and parts[0] == "submitted":
        parts = parts[1:]
    name = parts[-1]
    if len(parts) >= 3 and name == f"{parts[-2]}.ipynb":
        student, lesson = parts[-3], parts[-2]
        if lesson not in lessons:
            return (student, lesson), f"unknown lesson {lesson!r}"
        if not STUDENT_ID.match(student):
            return (student, lesson), f"bad student id {student!r}"
        return (student, lesson), None
    if name.endswith(".ipynb"):
        stem = name[: -len(".ipynb")]
        for lesson in lessons:
            if stem.endswith(f"_{lesson}"):
                student = stem[: -len(lesson) - 1]
                if STUDENT_ID.match(student):
                    return (student, lesson), None
                return (student, lesson), f"bad student id {student!r}"
        return (stem, ""), ("expected <student>_<lesson>.ipynb with a "
                            f"lesson among {sorted(lessons)}")
    return (name, ""), "not a notebook (.ipynb)"


def notebook_problem(path):
    """Why the file is not a gradable notebook, or None."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        raw = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"not valid JSON ({error})"
    if not isinstance(raw, dict) or raw.get("nbformat") != 4:
        version = raw.get("nbformat") if isinstance(raw, dict) else None
        return f"nbformat {version!r}, expected 4"
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds
        first_line = str(error).splitlines()[0] if str(error) else ""
        return f"not a valid notebook ({type(error).__name__}: {first_line})"
    return None


def collect(folder, lessons):
    """Entries for every file below `folder`, plus missing lessons.

    Returns (gradable, others): gradable entries have status "pending" and
    a path; the others already carry their final status.
    """
    folder = Path(folder)
    gradable, others, seen = [], [], {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if (path.is_dir() or path.name in IGNORED_NAMES
                or path.name.startswith(".")
                or IGNORED_PARTS.intersection(relative.parts)):
            continue
        (student, lesson), problem = classify(relative, lessons)
        if problem:
            others.append(Entry(student, lesson, "bad_filename",
                                f"{relative}: {problem}"))
            continue
        if (student, lesson) in seen:
            others.append(Entry(student, lesson, "duplicate",
                                f"{relative}: also submitted as "
                                f"{seen[(student, lesson)]}; graded that"))
            continue
        seen[(student, lesson)] = relative
        problem = notebook_problem(path)
        if problem:
            others.append(Entry(student, lesson, "invalid_notebook",
                                f"{relative}: {problem}"))
            continue
        gradable.append(Entry(student, lesson, path=path,
                              detail=str(relative)))
    students = sorted({entry.student for entry in gradable + others
                       if entry.lesson})
    found_lessons = sorted({entry.lesson for entry in gradable + others
                            if entry.lesson in lessons})
    present = {(entry.student, entry.lesson) for entry in gradable + others}
    for student in students:
        for lesson in found_lessons:
            if (student, lesson) not in present:
                others.append(Entry(student, lesson, "missing",
                                    "no submission for this lesson"))
    return gradable, others
