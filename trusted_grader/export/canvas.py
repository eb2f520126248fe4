"""Fill the run's scores into a Canvas gradebook export, ready to import.

    python -m trusted_grader grade SUBMISSIONS --canvas-gradebook EXPORT.csv

The instructor downloads the course's gradebook from Canvas (Grades →
Export → Export Entire Gradebook); this module writes a copy with the
lessons' scores filled in, which Canvas's Grades → Import accepts.

The format, as Canvas's own exporter and importer (instructure/canvas-lms,
lib/gradebook_exporter.rb and lib/gradebook_importer.rb) write and read it:

- a header row: ``Student`` (or ``LastName``, ``FirstName``), ``ID``,
  ``SIS User ID``, ``SIS Login ID``, maybe ``Integration ID`` and
  ``Root Account``, ``Section``, the course's custom columns, then one
  column per assignment titled ``<title> (<assignment id>)``, then read-only
  totals (``Current Score``, ``Final Grade``, ...);
- maybe a row of ``Manual Posting`` (once ``Muted``) marks, then a row whose
  first cell is ``    Points Possible`` (leading spaces), which holds each
  assignment's points and ``(read only)`` under the totals;
- one row per student. Canvas may write ``;`` as the delimiter and a
  byte-order mark; the import detects both.

On import Canvas matches a row by its ``ID`` (then SIS ids, then name),
ignores read-only columns and keeps only the assignments whose scores
changed, so the copy keeps every other cell exactly as exported.

Students are matched on the login id: the grader's student id (the folder
or file name of the submission) against ``SIS Login ID`` (or a
``Login ID`` column when there is no ``SIS Login ID``), ignoring case and
surrounding spaces. A login id found on two rows fills neither.

A lesson's column is the one assignment column whose title (the header
without `` (<id>)``) contains the lesson id (``01_dense_translation``;
``_``, ``-`` and spaces are interchangeable, case is ignored); failing
that, the one whose title has ``Lesson`` followed by the lesson's number
(``Lesson 01``, ``lesson 1``) or starts with the two-digit number
(``01 Dense translation``). Read-only columns, totals and columns without
a Canvas id are never used. No column, or two, means the lesson's scores
are not filled, and the summary says so.

A cell gets grades.csv's score when the notebook the student submitted for
that lesson was run or read and scored (`FILLED_STATUSES`); grades.csv's
``score`` is after any late penalty (trusted_grader/batch/lateness.py), so a
``late`` row's cell gets the penalised score. ``tampered``,
``grading_error``, ``too_large`` and ``unsafe_path`` rows are held back
for review (listed, cell unchanged); ``missing`` and ``duplicate`` rows
leave the cell as exported, so a score entered earlier is never replaced
by the 0 of a lesson this batch did not contain. Cells Canvas exported as
``N/A`` (not assigned to the student) or ``EX`` (excused) are kept too.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

OUTPUT_NAME = "canvas_gradebook.csv"
FILLED_STATUSES = ("graded", "late", "timeout", "kernel_died",
                   "invalid_notebook")
HELD_STATUSES = ("tampered", "grading_error", "too_large", "unsafe_path")
LOGIN_COLUMNS = ("SIS Login ID", "Login ID")
STUDENT_COLUMNS = {"Student", "LastName", "FirstName", "ID", "SIS User ID",
                   "SIS Login ID", "Login ID", "Integration ID",
                   "Root Account", "Section"}
# Canvas's importer drops these (and their "Unposted"/group variants).
TOTALS = re.compile("Current Score|Current Points|Current Grade|"
                    "Final Score|Final Points|Final Grade|Override Score|"
                    "Override Grade|Override Status")
TITLE_AND_ID = re.compile(r"\A(.*)\s\((\d+)\)\Z", re.DOTALL)
HIDDEN_ROW = re.compile(r"^\s*(Muted|Manual Posting.*)?\s*$", re.IGNORECASE)
KEPT_VALUES = {"N/A": "not assigned to the student in Canvas",
               "EX": "excused in Canvas"}


@dataclass
class Field:
    value: str
    start: int  # where the field's text lies in Export.text
    end: int


@dataclass
class Record:
    fields: list
    end: int  # where the record's last field ends

    def value(self, index):
        if index < len(self.fields):
            return self.fields[index].value
        return ""


@dataclass
class Export:
    """A Canvas gradebook export, parsed; `text` is the file's text."""

    path: Path
    text: str
    bom: str
    delimiter: str
    records: list
    header: list
    login_column: int
    points_row: int | None
    student_rows: list

    def title(self, column):
        return self.header[column].strip()

    def points(self, column):
        if self.points_row is None:
            return ""
        return self.records[self.points_row].value(column).strip()

    def login(self, row):
        return self.records[row].value(self.login_column).strip()

    def name(self, row):
        record = self.records[row]
        if self.title(0) == "LastName":
            return f"{record.value(0)}, {record.value(1)}".strip(", ")
        return record.value(0).strip()


@dataclass
class Report:
    """What filling the export did, for the summary."""

    columns: dict = field(default_factory=dict)  # lesson: column title
    missing_columns: list = field(default_factory=list)
    ambiguous: dict = field(default_factory=dict)  # lesson: [titles]
    filled_students: list = field(default_factory=list)
    filled_cells: int = 0
    manual_pending: int = 0
    without_grade: list = field(default_factory=list)  # export rows
    not_in_export: list = field(default_factory=list)  # run's students
    duplicates: dict = field(default_factory=dict)  # login: [names]
    held_back: list = field(default_factory=list)  # (student, lesson, st.)
    kept_cells: list = field(default_factory=list)  # (student, lesson, why)
    points_differ: list = field(default_factory=list)


# -------------------------------------------------------------- reading ---

def split_records(text, delimiter):
    """CSV records of `text`, each field with its place in the text.

    Standard CSV (RFC 4180): fields in double quotes may hold delimiters,
    line breaks and doubled quotes; records end at \\n, \\r\\n or \\r.
    """
    stop = re.compile(f"[{re.escape(delimiter)}\r\n]")
    records, i, n = [], 0, len(text)
    while i < n:
        fields = []
        while True:
            start = i
            value = ""
            if i < n and text[i] == '"':
                i += 1
                while True:
                    close = text.find('"', i)
                    if close < 0:
                        line = text.count("\n", 0, start) + 1
                        raise ValueError(
                            f"line {line}: a quoted field never ends")
                    value += text[i:close]
                    if text.startswith('""', close):
                        value += '"'
                        i = close + 2
                    else:
                        i = close + 1
                        break
            found = stop.search(text, i)
            end = found.start() if found else n
            value += text[i:end]
            i = end
            fields.append(Field(value, start, end))
            if i < n and text[i] == delimiter:
                i += 1
                continue
            break
        records.append(Record(fields, i))
        if text.startswith("\r\n", i):
            i += 2
        elif i < n:
            i += 1
    return records


def _is_header(values):
    return (len(values) > 3 and "Student" in values[0] and "ID" in values[1]
            or len(values) > 4 and values[0] == "LastName"
            and values[1] == "FirstName" and "ID" in values[2])


def read_export(path):
    """Parse the Canvas gradebook export at `path`.

    Raises FileNotFoundError or ValueError with a message saying what is
    wrong and how to get a good export.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (download it from "
                                "Canvas: Grades → Export → Export Entire "
                                "Gradebook)")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte "
                         f"{error.start}); use the file as Canvas exported "
                         "it, not one saved again by a spreadsheet") from None
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text[len(bom):]
    for delimiter in (",", ";"):
        records = split_records(text, delimiter)
        header = [f.value.strip() for f in records[0].fields] \
            if records else []
        if _is_header(header):
            break
    else:
        first = text.splitlines()[0][:120] if text else "(empty file)"
        raise ValueError(
            f"{path}: not a Canvas gradebook export: its first row should "
            f"start with Student, ID, ..., Section; it is {first!r}")
    login = next((header.index(name) for name in LOGIN_COLUMNS
                  if name in header), None)
    if login is None:
        raise ValueError(f"{path}: no SIS Login ID (or Login ID) column, "
                         "so students cannot be matched by login id")
    export = Export(path, text, bom, delimiter, records,
                    [f.value for f in records[0].fields], login, None, [])
    for index, record in enumerate(records[1:], start=1):
        values = [f.value for f in record.fields]
        if "Points Possible" in values[0] and export.points_row is None:
            export.points_row = index
        elif all(HIDDEN_ROW.match(value) for value in values):
            continue  # Manual Posting / Muted marks, or a blank line
        else:
            export.student_rows.append(index)
    return export


# ------------------------------------------------------------- columns ---

def assignment_columns(export):
    """Indexes of the columns a score may be written to."""
    columns = []
    for column, title in enumerate(export.header):
        title = title.strip()
        if (title in STUDENT_COLUMNS or TOTALS.search(title)
                or not TITLE_AND_ID.match(title)
                or re.search(r"read\s+only", export.points(column))):
            continue
        columns.append(column)
    return columns


def _words(text):
    return " ".join(re.split(r"[\s_-]+", text.casefold())).strip()


def lesson_columns(export, lessons):
    """({lesson: column}, {lesson: [titles]} of ambiguous lessons)."""
    titles = {column: TITLE_AND_ID.match(export.title(column)).group(1)
              for column in assignment_columns(export)}
    found, ambiguous = {}, {}
    for lesson in lessons:
        number = re.match(r"\d+", lesson)
        name = re.compile(rf"(?<![0-9a-z]){re.escape(_words(lesson))}"
                          r"(?![0-9a-z])")
        named = [c for c, title in titles.items()
                 if name.search(_words(title))]
        numbered = []
        if number:
            digits = number.group().lstrip("0") or "0"
            pattern = re.compile(
                rf"\blesson\s*[-_#:.]?\s*0*{digits}(?!\d)"
                rf"|\A\s*{re.escape(number.group())}(?!\d)", re.IGNORECASE)
            numbered = [c for c, title in titles.items()
                        if pattern.search(title)]
        matches = named or numbered
        if len(matches) == 1:
            found[lesson] = matches[0]
        elif matches:
            ambiguous[lesson] = [export.title(c) for c in matches]
    return found, ambiguous


# ------------------------------------------------------------- filling ---

def _get(item, name):
    if isinstance(item, dict):
        return item.get(name)
    return getattr(item, name, None)


def _score(value):
    if value is None or value == "":
        return None
    return float(value)


def _manual(value):
    return value is True or value == "yes"


def key(login):
    """How login ids compare: case and surrounding spaces ignored."""
    return login.strip().casefold()


def number(score):
    """A score as Canvas writes points: at most two decimals, no zeros."""
    text = f"{score:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def fill(export, results):
    """The export's text with the run's scores filled in, and a Report.

    `results` are the grading entries or grades.csv rows (dicts with the
    CSV's columns): student, lesson, score, max_score, status,
    needs_manual_grade.
    """
    report = Report()
    scores, students, maxima = {}, {}, {}
    for item in results:
        student, lesson = _get(item, "student"), _get(item, "lesson")
        status = _get(item, "status")
        if not lesson or status not in FILLED_STATUSES + HELD_STATUSES:
            continue
        students.setdefault(key(student), student)
        if status in HELD_STATUSES:
            report.held_back.append((student, lesson, status))
            continue
        score = _score(_get(item, "score"))
        if score is None:
            continue
        scores[(key(student), lesson)] = (
            score, _manual(_get(item, "needs_manual_grade")))
        if _score(_get(item, "max_score")) is not None:
            maxima[lesson] = _score(_get(item, "max_score"))
    lessons = sorted({lesson for _, lesson in scores})
    columns, report.ambiguous = lesson_columns(export, lessons)
    report.missing_columns = [lesson for lesson in lessons
                              if lesson not in columns
                              and lesson not in report.ambiguous]
    for lesson, column in columns.items():
        report.columns[lesson] = export.title(column)
        canvas_points = export.points(column).replace(",", ".")
        try:
            differs = float(canvas_points) != maxima.get(lesson)
        except ValueError:
            differs = False
        if differs and lesson in maxima:
            report.points_differ.append(
                (lesson, export.title(column), canvas_points,
                 number(maxima[lesson])))

    rows_by_login = {}
    for row in export.student_rows:
        rows_by_login.setdefault(key(export.login(row)), []).append(row)
    edits, filled = [], set()
    for login, rows in rows_by_login.items():
        if not login:
            report.without_grade += [f"{export.name(row)} (no login id)"
                                     for row in rows]
            continue
        if len(rows) > 1:
            report.duplicates[export.login(rows[0])] = [
                export.name(row) for row in rows]
            continue
        if login not in students:
            report.without_grade.append(export.login(rows[0]))
            continue
        record = export.records[rows[0]]
        for lesson, column in columns.items():
            if (login, lesson) not in scores:
                continue
            score, manual = scores[(login, lesson)]
            kept = record.value(column).strip()
            if kept in KEPT_VALUES:
                report.kept_cells.append(
                    (students[login], lesson, KEPT_VALUES[kept]))
                continue
            edits.append(_edit(export, record, column, number(score)))
            filled.add(students[login])
            report.filled_cells += 1
            report.manual_pending += manual
    duplicated = {key(login) for login in report.duplicates}
    report.not_in_export = sorted(
        student for login, student in students.items()
        if login not in rows_by_login and login not in duplicated)
    report.filled_students = sorted(filled)
    return _apply(export.text, edits), report


def _edit(export, record, column, value):
    """(start, end, text) that puts `value` in the record's column."""
    if column < len(record.fields):
        cell = record.fields[column]
        return cell.start, cell.end, value
    padding = export.delimiter * (column - len(record.fields) + 1)
    return record.end, record.end, padding + value


def _apply(text, edits):
    parts, position = [], 0
    for start, end, value in sorted(edits):
        parts += [text[position:start], value]
        position = end
    parts.append(text[position:])
    return "".join(parts)


def write(export, text, path):
    """Write the filled copy, with the export's byte-order mark if any."""
    Path(path).write_bytes((export.bom + text).encode("utf-8"))


def check_lessons(export, lessons):
    """Raise ValueError when no lesson has an assignment column: the wrong
    course's gradebook, most likely."""
    columns, ambiguous = lesson_columns(export, lessons)
    if columns:
        return
    titles = [export.title(c) for c in assignment_columns(export)]
    detail = "; ".join(f"{lesson} matches {', '.join(names)}"
                       for lesson, names in ambiguous.items())
    raise ValueError(
        f"{export.path}: no assignment column matches a lesson "
        f"({', '.join(lessons)}); "
        + (f"ambiguous: {detail}" if detail else
           f"its assignments: {', '.join(titles) or 'none'}")
        + ". Name each lesson's Canvas assignment after the lesson id or "
        "'Lesson NN'")


# ------------------------------------------------------------- summary ---

def _listing(names, limit=20):
    names = list(names)
    text = ", ".join(names[:limit])
    if len(names) > limit:
        text += f" and {len(names) - limit} more"
    return text


def summary(report, path):
    """The report as lines to print after the grades table."""
    lines = [f"Canvas gradebook: {report.filled_cells} scores of "
             f"{len(report.filled_students)} students filled into {path}; "
             "import it in Canvas (Grades → Import)"]
    for lesson, title in sorted(report.columns.items()):
        lines.append(f"  {lesson} → {title}")
    for lesson in report.missing_columns:
        lines.append(f"  {lesson}: no assignment column; not filled")
    for lesson, titles in sorted(report.ambiguous.items()):
        lines.append(f"  {lesson}: several columns match "
                     f"({' | '.join(titles)}); not filled")
    for lesson, title, canvas, ours in report.points_differ:
        lines.append(f"  {title} is worth {canvas} points in Canvas, "
                     f"{lesson} has {ours}: scores written as graded")
    if report.manual_pending:
        lines.append(f"  {report.manual_pending} filled scores leave out "
                     "the short answers, which await manual grading")
    if report.without_grade:
        lines.append(f"  in the export, no grade from this run: "
                     f"{_listing(report.without_grade)}")
    if report.not_in_export:
        lines.append(f"  graded, not in the export: "
                     f"{_listing(report.not_in_export)}")
    for login, names in sorted(report.duplicates.items()):
        lines.append(f"  login id {login!r} on {len(names)} rows "
                     f"({'; '.join(names)}): not filled")
    if report.held_back:
        lines.append("  held back for review, cell left as exported: "
                     + _listing(f"{s} {lesson} ({status})"
                                for s, lesson, status in report.held_back))
    if report.kept_cells:
        lines.append("  left as exported: "
                     + _listing(f"{s} {lesson} ({why})"
                                for s, lesson, why in report.kept_cells))
    return "\n".join(lines)
