"""Find submissions in a folder or zip and give every file a status.

Two layouts are accepted, and may be mixed:

- nbgrader's: ``<student>/<lesson>/<lesson>.ipynb`` (optionally under a
  ``submitted/`` folder), as `nbgrader collect` or an exchange leaves them;
- LMS-style flat files: ``<student>_<lesson>.ipynb``, where ``<lesson>`` is
  one of the lesson ids (e.g. ``alice_01_dense_translation.ipynb``) and
  ``<student>`` is the rest of the name: letters, digits, ``.``, ``-`` and
  ``_``. Any folder depth is fine (in a zip, up to MAX_FOLDER_DEPTH).

Each file is read once here, by `read_notebook`, a bounded reader that
nothing a file holds makes raise anything but InvalidNotebook: a file it
refuses is `invalid_notebook` (or `too_large`) with the reason, and the
grader's later steps read the submission with it again and can trust what
it returns. An archive is unpacked member by member the same way
(`extract_zip`): no member, and no damage to the archive, stops the run.
"""

import contextlib
import json
import os
import re
import stat
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
# A notebook is about 8 levels deep (cells, outputs, data, lines); widget
# state and rich outputs add a few. Deeper JSON is refused before anything
# recursive (json, nbformat, jsonschema, deepcopy) reads it.
MAX_JSON_DEPTH = 100
# A lesson's notebook holds a few thousand JSON values, with its outputs
# rarely a hundred thousand. Millions of tiny values cost the JSON parser,
# nbformat and its schema seconds to minutes and gigabytes: refused.
MAX_JSON_ITEMS = 1_000_000
# Past this many, an invalid notebook's reason comes from nbformat's fast
# schema check alone (see _validated).
DETAILED_CHECK_ITEMS = 100_000
# nbgrader's layout is 4 folders deep, an LMS download adds one or two.
# Deeper trees are not unpacked: walking or deleting them may recurse.
MAX_FOLDER_DEPTH = 32
# A JSON string (closed, or running to the end of the text) or a run of
# text outside strings. Possessive, so that no text makes the scan
# backtrack: it stays linear.
JSON_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+"?|[^"]++', re.DOTALL)
QUOTE = ord('"')
NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
OPENING = frozenset(b"[{")
# An escaped UTF-16 surrogate, which JSON allows unpaired ("\ud800") but
# UTF-8, and so the notebook the grader writes, cannot hold.
ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
# nbgrader's cell metadata (its schema v3) and the types the grader and
# nbgrader rely on; bool is excluded where a number is meant.
NBGRADER_TYPES = {"grade_id": str, "checksum": str, "cell_type": str,
                  "grade": bool, "solution": bool, "locked": bool,
                  "task": bool, "schema_version": int,
                  "points": (int, float)}


class InvalidNotebook(ValueError):
    """A submitted file that cannot be graded: str() is the short reason,
    `status` the grades.csv status ("invalid_notebook" or "too_large")."""

    def __init__(self, reason, status="invalid_notebook"):
        super().__init__(_printable(reason))
        self.status = status


def extract_zip(archive, destination, limits=None, lessons=()):
    """Unpack `archive` within `limits`; return (folder, refused entries).

    Every member is unpacked or gets an entry saying why not: a name that
    points outside the archive (unsafe_path); one nested too deep, or that
    the file system refuses, e.g. a file where a folder of that name is
    (bad_filename); a name the archive holds twice (duplicate, the first
    is unpacked); one larger than a notebook may be, by its header or by
    what it really inflates to, and the members past the archive's size or
    count limits (too_large); data that cannot be read back: corrupt,
    encrypted, an unknown compression (invalid_notebook). Members that
    `collect` passes over (``__MACOSX``, hidden files) are skipped, and so
    are folders. An archive that cannot be opened at all gives one
    invalid_notebook entry. Nothing in the archive makes this raise.
    """
    limits = limits or Limits()
    destination = Path(destination).resolve()
    destination.mkdir(parents=True, exist_ok=True)
    try:
        zipped = zipfile.ZipFile(archive)
    except Exception as error:  # BadZipFile, truncated records, bad names
        name = Path(archive).name
        return destination, [Entry(
            _printable(Path(archive).stem), "", "invalid_notebook",
            f"{_printable(name)}: not a readable zip archive "
            f"({_reason(error)})")]
    refused, total, unpacked = [], 0, set()
    with zipped:
        members = zipped.infolist()
        if len(members) > limits.archive_members:
            refused.append(Entry(
                _printable(Path(archive).stem), "", "too_large",
                f"{_printable(Path(archive).name)}: {len(members)} members, "
                f"more than the limit of {limits.archive_members}; the rest "
                "were not read"))
            members = members[:limits.archive_members]
        for member in members:
            problem, written = _unpack(zipped, member, destination, limits,
                                       limits.archive_bytes - total,
                                       unpacked)
            total += written
            if problem:
                refused.append(_refused(member.filename, lessons, *problem))
    return destination, refused


def _unpack(zipped, member, destination, limits, room, unpacked):
    """Write one member below `destination` if it is a file it may hold;
    (None, bytes written), or ((status, reason), 0) if it is not written.
    `room` is what the archive may still unpack to; `unpacked` holds the
    targets written so far and gets this one."""
    try:
        target = (destination / member.filename).resolve()
    except (OSError, RuntimeError, ValueError) as error:
        return ("bad_filename", f"unusable name ({_reason(error)})"), 0
    if target != destination and destination not in target.parents:
        return ("unsafe_path",
                "its name points outside the archive; not unpacked"), 0
    relative = target.relative_to(destination)
    if member.is_dir() or (relative.parts and _ignored(relative)):
        return None, 0  # nothing to grade; folders come with their files
    if not relative.parts:
        return ("bad_filename", "names the archive's top folder, not a "
                                "file; not unpacked"), 0
    if len(relative.parts) > MAX_FOLDER_DEPTH:
        return ("bad_filename", f"more than {MAX_FOLDER_DEPTH} folders "
                                "deep; not unpacked"), 0
    if target in unpacked:
        return ("duplicate", "the archive holds this name twice; the "
                             "first was unpacked"), 0
    if member.file_size > limits.notebook_bytes:
        return ("too_large", f"{member.file_size} bytes, more than the "
                             f"limit of {limits.notebook_bytes}"), 0
    if member.file_size > room:
        return ("too_large", "the archive unpacks to more than the limit "
                             f"of {limits.archive_bytes} bytes"), 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        written = _copy_within(zipped, member, target,
                               limits.notebook_bytes)
    except Exception as error:
        with contextlib.suppress(OSError):  # no half-written file stays
            if target.is_file():
                target.unlink()
        # The file system names the file it refuses; the archive's faults
        # (BadZipFile, zlib.error, EOFError, an encrypted member...) not.
        if isinstance(error, OSError) and error.filename is not None:
            # strerror: "File exists", "File name too long"; no scratch path
            return ("bad_filename", "cannot be unpacked here "
                    f"({type(error).__name__}: {error.strerror})"), 0
        return ("invalid_notebook",
                f"cannot be unpacked ({_reason(error)})"), 0
    if written is None:
        return ("too_large", "it inflates to more than the limit of "
                             f"{limits.notebook_bytes} bytes"), 0
    unpacked.add(target)
    return None, written


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
    return Entry(_printable(student), "" if problem else lesson, status,
                 f"{_printable(name)}: {reason}")


def _ignored(relative):
    """Whether `collect` passes over the file: tools' extras, hidden."""
    name = relative.parts[-1]
    return (name in IGNORED_NAMES or name.startswith(".")
            or bool(IGNORED_PARTS.intersection(relative.parts)))


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


# --------------------------------------------------------- the reader ---

def read_notebook(path, max_bytes=None):
    """The submitted notebook at `path`, checked so later steps can trust
    it (see `parse_notebook`); no more than `max_bytes` of it is read.

    Raises InvalidNotebook, with status "too_large" past `max_bytes` and
    "invalid_notebook" otherwise, and nothing else whatever the file
    holds. Only regular files are read (a named pipe would block).
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise InvalidNotebook(f"cannot be opened ({_reason(error)})") \
            from None
    with open(descriptor, "rb") as file:
        try:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise InvalidNotebook("not a regular file")
            if max_bytes is not None and info.st_size > max_bytes:
                raise InvalidNotebook(f"{info.st_size} bytes, more than the "
                                      f"limit of {max_bytes}", "too_large")
            data = file.read(-1 if max_bytes is None else max_bytes + 1)
        except OSError as error:
            raise InvalidNotebook(f"cannot be read ({_reason(error)})") \
                from None
    if max_bytes is not None and len(data) > max_bytes:
        raise InvalidNotebook(f"more than the limit of {max_bytes} bytes",
                              "too_large")
    return parse_notebook(data)


def parse_notebook(data):
    """The NotebookNode in `data`, a submitted .ipynb's bytes.

    In order: UTF-8 text (a leading byte-order mark is allowed); JSON of
    at most MAX_JSON_ITEMS values nested no deeper than MAX_JSON_DEPTH
    (`json_shape`, before any recursive reader sees it); nbformat 4;
    strings that UTF-8 can hold again (no unpaired surrogates), so that it
    can be written back; valid for nbformat; cells with the shape and
    nbgrader metadata of the types the grader and nbgrader use. Raises
    InvalidNotebook with the first reason that fails, and nothing else
    whatever `data` holds.
    """
    try:
        return _parse(data)
    except InvalidNotebook:
        raise
    except Exception as error:  # a failure none of the steps foresaw
        raise InvalidNotebook(f"cannot be read ({_reason(error)})") \
            from error


def _parse(data):
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidNotebook(f"not UTF-8 text ({error.reason} at byte "
                              f"{error.start})") from None
    items, depth = json_shape(data, MAX_JSON_ITEMS, MAX_JSON_DEPTH)
    if items > MAX_JSON_ITEMS:
        raise InvalidNotebook(f"more than {MAX_JSON_ITEMS} JSON values")
    if depth > MAX_JSON_DEPTH:
        raise InvalidNotebook(f"JSON nested more than {MAX_JSON_DEPTH} "
                              "levels deep")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as error:  # also huge integers
        raise InvalidNotebook(f"not valid JSON ({_first_line(error)})") \
            from None
    del text
    if not isinstance(raw, dict) or raw.get("nbformat") != 4:
        version = raw.get("nbformat") if isinstance(raw, dict) else None
        raise InvalidNotebook(f"nbformat {_short(repr(version))}, "
                              "expected 4")
    if ESCAPED_SURROGATE.search(data):
        try:
            json.dumps(raw, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidNotebook("holds an unpaired UTF-16 surrogate "
                                  "(an escape in \\ud800-\\udfff), which "
                                  "is not text") from None
    try:
        notebook = _validated(raw, items)
    except Exception as error:  # nbformat raises several kinds
        raise InvalidNotebook(f"not a valid notebook ({_reason(error)})") \
            from None
    problem = _structure_problem(notebook)
    if problem:
        raise InvalidNotebook(problem)
    return notebook


def _validated(raw, items):
    """The notebook of the JSON object `raw`, as nbformat.reads gives it,
    validated by nbformat. Its fast schema check comes first: on failure,
    nbformat's own validation (which repairs missing cell ids and finds a
    clearer message) re-runs the check with jsonschema, in pure Python,
    which costs minutes on a notebook of a million values; a notebook of
    more than DETAILED_CHECK_ITEMS gets the fast check's message."""
    from nbformat.validator import get_validator

    fast = get_validator(4, raw.get("nbformat_minor"))
    try:
        fast.validate(raw)
    except Exception:
        if items > DETAILED_CHECK_ITEMS:
            raise
        nbformat.validate(raw)  # raises the clearer error, or repairs ids
    notebook = nbformat.v4.to_notebook_json(raw)
    nbformat.validate(notebook)
    return notebook


def _structure_problem(notebook):
    """Why the notebook lacks a shape the grader relies on, or None: each
    cell has a type, metadata and source (even when nbformat relaxes its
    schema for a newer format), and nbgrader metadata of the types
    nbgrader's schema gives (nbgrader and the integrity scan use them)."""
    if not (isinstance(notebook.get("cells"), list)
            and isinstance(notebook.get("metadata"), dict)):
        return "no list of cells or no notebook metadata"
    for number, cell in enumerate(notebook.cells, start=1):
        if not isinstance(cell, dict) or not (
                isinstance(cell.get("cell_type"), str)
                and isinstance(cell.get("metadata"), dict)
                and isinstance(cell.get("source"), str)):
            return (f"cell {number}: no cell_type, metadata or source of "
                    "the usual types")
        if "nbgrader" not in cell.metadata:
            continue
        meta = cell.metadata["nbgrader"]
        if not isinstance(meta, dict):
            return (f"cell {number}: nbgrader metadata is "
                    f"{_json_type(meta)}, not an object")
        for key, kind in NBGRADER_TYPES.items():
            value = meta.get(key)
            if key in meta and (not isinstance(value, kind) or (
                    kind is not bool and isinstance(value, bool))):
                return (f"cell {number}: nbgrader metadata {key!r} is "
                        f"{_json_type(value)}")
    return None


def json_shape(data, max_items=None, max_depth=None):
    """(items, depth) of the JSON text `data` (bytes), counted without
    recursion before any recursive reader sees the text.

    items: the strings, arrays and objects and the commas between
    elements, about the number of values; counting stops past `max_items`
    (then depth is 0). depth: how deep arrays and objects nest, 1 for
    ``{}``; counting stops past `max_depth`. Brackets and commas in
    strings do not count. Time is linear in len(data), the Python-level
    steps bounded by the items. For text that is not JSON both numbers
    are estimates, and the JSON parser then judges the text.
    """
    strings = commas = bracket_count = 0
    brackets = []
    for match in JSON_TOKEN.finditer(data):
        if data[match.start()] == QUOTE:
            strings += 1
        else:
            outside = match.group()
            commas += outside.count(b",")
            brackets.append(outside.translate(None, NOT_BRACKETS))
            bracket_count += len(brackets[-1])
        items = strings + commas + bracket_count // 2
        if max_items is not None and items > max_items:
            return items, 0
    depth = deepest = 0
    for byte in b"".join(brackets):
        if byte in OPENING:
            depth += 1
            if depth > deepest:
                deepest = depth
                if max_depth is not None and deepest > max_depth:
                    break
        else:
            depth -= 1
    return strings + commas + bracket_count // 2, deepest


def _json_type(value):
    return {dict: "an object", list: "an array", str: "a string",
            bool: "a boolean", type(None): "null"}.get(type(value),
                                                        "a number")


def _first_line(error):
    text = str(error)
    return _short(text.splitlines()[0] if text else "")


def _reason(error):
    """A short reason for grades.csv: the error's kind and first line."""
    return f"{type(error).__name__}: {_first_line(error)}"


def _short(text, limit=160):
    return text if len(text) <= limit else text[:limit] + "..."


def _printable(text):
    """`text` as UTF-8 can write it: a name from the file system may hold
    undecodable bytes (surrogate escapes), shown as \\udcXX."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _files_below(folder):
    """Every path below `folder` that is not a folder, sorted. A loop, not
    recursion (a zip can nest folders deeper than Python's recursion
    limit); symlinked folders are listed, not entered, as Path.rglob."""
    found, pending = [], [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as items:
                for item in items:
                    try:
                        is_folder = item.is_dir(follow_symlinks=False)
                    except OSError:
                        is_folder = False
                    (pending if is_folder else found).append(
                        current / item.name)
        except OSError:
            continue  # unreadable: Path.rglob passes over it too
    return sorted(found)


def collect(folder, lessons, limits=None, refused=()):
    """Entries for every file below `folder`, plus missing lessons.

    Returns (gradable, others): gradable entries have status "pending" and
    a path; the others already carry their final status, `refused` (files
    an archive held but that were not unpacked) among them. A file over
    the notebook size limit is never read; one that `read_notebook`
    refuses is `invalid_notebook` with its reason. Whatever a file holds
    or is named, it gets one entry and this does not raise.
    """
    limits = limits or Limits()
    folder = Path(folder)
    gradable, others, seen = [], list(refused), {}
    for path in _files_below(folder):
        relative = path.relative_to(folder)
        if path.is_dir() or _ignored(relative):
            continue
        shown = _printable(str(relative))
        (student, lesson), problem = classify(relative, lessons)
        student, lesson = _printable(student), _printable(lesson)
        if problem:
            others.append(Entry(student, lesson, "bad_filename",
                                f"{shown}: {_printable(problem)}"))
            continue
        if (student, lesson) in seen:
            others.append(Entry(student, lesson, "duplicate",
                                f"{shown}: also submitted as "
                                f"{seen[(student, lesson)]}; graded that"))
            continue
        seen[(student, lesson)] = shown
        try:
            read_notebook(path, limits.notebook_bytes)
        except InvalidNotebook as error:
            others.append(Entry(student, lesson, error.status,
                                f"{shown}: {error}"))
            continue
        gradable.append(Entry(student, lesson, path=path, detail=shown))
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
