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


@dataclass
class Limits:
    """What one submission may cost before anything reads it whole."""

    notebook_bytes: int = 50 * 2**20
    archive_bytes: int = 4 * 2**30
    archive_members: int = 20_000


CHUNK = 2**20


def extract_zip(archive, destination, limits=None, lessons=()):
    """Unpack `archive` within `limits`; return (folder, refused entries).

    A member whose name points outside the archive, one larger than a
    notebook may be (by its header or by what it really inflates to), and
    the members past the archive's size or count limits are not written;
    each gets an entry saying why, and the rest are unpacked.
    """
    limits = limits or Limits()
    destination = Path(destination).resolve()
    destination.mkdir(parents=True, exist_ok=True)
    refused, total = [], 0
    with zipfile.ZipFile(archive) as zipped:
        members = zipped.infolist()
        if len(members) > limits.archive_members:
            refused.append(Entry(
                Path(archive).stem, "", "too_large",
                f"{Path(archive).name}: {len(members)} members, more than "
                f"the limit of {limits.archive_members}; the rest were "
                "not read"))
            members = members[:limits.archive_members]
        for member in members:
            target = (destination / member.filename).resolve()
            if destination not in target.parents:
                refused.append(_refused(member.filename, lessons,
                                        "unsafe_path",
                                        "its name points outside the "
                                        "archive; not unpacked"))
                continue
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if member.file_size > limits.notebook_bytes:
                refused.append(_refused(
                    member.filename, lessons, "too_large",
                    f"{member.file_size} bytes, more than the limit of "
                    f"{limits.notebook_bytes}"))
                continue
            if total + member.file_size > limits.archive_bytes:
                refused.append(_refused(
                    member.filename, lessons, "too_large",
                    f"the archive unpacks to more than the limit of "
                    f"{limits.archive_bytes} bytes"))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            written = _copy_within(zipped, member, target,
                                   limits.notebook_bytes)
            if written is None:
                refused.append(_refused(
                    member.filename, lessons, "too_large",
                    "it inflates to more than the limit of "
                    f"{limits.notebook_bytes} bytes"))
                continue
            total += written
    return destination, refused


def _copy_within(zipped, member, target, limit):
    """Copy a member in chunks; None (and no file) past `limit` bytes."""
    written = 0
    with zipped.open(member) as source, open(target, "wb") as sink:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > limit:
                break
            sink.write(chunk)
    if written > limit:
        target.unlink()
        return None
    return written


def _refused(name, lessons, status, reason):
    """An entry for a member not unpacked, named like its file would be."""
    relative = Path(*[part for part in name.replace("\\", "/").split("/")
                      if part not in ("", ".", "..")] or ["?"])
    (student, lesson), problem = classify(relative, lessons)
    return Entry(student, "" if problem else lesson, status,
                 f"{name}: {reason}")


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


def collect(folder, lessons, limits=None, refused=()):
    """Entries for every file below `folder`, plus missing lessons.

    Returns (gradable, others): gradable entries have status "pending" and
    a path; the others already carry their final status, `refused` (files
    an archive held but that were not unpacked) among them. A file over
    the notebook size limit is never read.
    """
    limits = limits or Limits()
    folder = Path(folder)
    gradable, others, seen = [], list(refused), {}
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
        size = path.stat().st_size
        if size > limits.notebook_bytes:
            others.append(Entry(student, lesson, "too_large",
                                f"{relative}: {size} bytes, more than the "
                                f"limit of {limits.notebook_bytes}"))
            continue
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
