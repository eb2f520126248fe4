"""Late work: submission times, the deadline, extensions and the penalty.

    python -m trusted_grader grade SUBMISSIONS \
        --deadline 2025-03-07T23:59+01:00
        [--extensions extensions.csv] [--late-percent-per-day 10]
        [--late-max-percent 100] [--late-cutoff-days 7]
        [--late-rounding started_days] [--late-grace-minutes 0]
        [--zip-timezone UTC]

The deadline is an ISO 8601 date-time with a time zone (an offset or
``Z``): a time without one would mean a different moment on every
machine, so it is refused.

A submission's time comes from the first of these that it has:

1. nbgrader's ``timestamp.txt`` in the student's submission folder
   (nbgrader's layout, ``<student>/<lesson>/timestamp.txt``, from a folder
   or a zip), which nbgrader's exchange writes at ``nbgrader submit`` in
   its format ``%Y-%m-%d %H:%M:%S.%f %Z`` (nbgrader/exchange/abc/
   exchange.py); ISO 8601 is read too. A time zone name is read from the
   time zone database (``UTC``, ``CET``, ``Europe/Berlin``) or as an
   offset (``+0100``); a timestamp without a zone is UTC, as nbgrader
   takes it (nbgrader/utils.py: parse_utc). One that cannot be read is
   passed over, and the row's detail says so.
2. The zip member's time, when the submissions come as a zip (an LMS
   download): the member's Unix time when the zip holds Info-ZIP's
   extended timestamp (the "UT" extra field, UTC), else its DOS date and
   time, which carry no time zone and are read in ``--zip-timezone``
   (default UTC; an IANA name such as ``Europe/Berlin``).
3. The notebook file's modification time (a folder of submissions). The
   files of a zip are never dated by their unpacking.

A row whose time cannot be found is not checked against the deadline, and
its detail says so.

Extensions (``--extensions FILE``): a UTF-8 CSV file with a header row.
Columns: ``student`` (required), ``lesson`` (optional: empty or absent
means every lesson), and ``extra_hours`` and/or ``deadline``; each row
gives exactly one of them: hours added to ``--deadline`` (a number >= 0)
or the student's own deadline (ISO 8601 with a time zone, not before
``--deadline``). One row per student and lesson; a row for one lesson
overrides the student's row for every lesson. Any problem stops the run
before grading, with the line it is on.

The penalty (`penalty_percent`): a submission is late when it comes after
its deadline (``--deadline``, or the student's extension) by more than
``--late-grace-minutes``; lateness is then counted from the deadline
itself. It loses ``--late-percent-per-day`` percent of its score for each
day late, counted as started days (26 hours late: 2 days) or, with
``--late-rounding pro_rata``, as the exact fraction (26 hours: 1.083
days), at most ``--late-max-percent`` percent; with ``--late-cutoff-days
D``, a submission more than D days late scores 0. The percentage is of the
score the submission earned: a late submission keeps (100 - penalty)% of
it.

grades.csv: ``score`` is the score after the penalty (what the Canvas
hand-off and instructors' scripts read); ``score_before_penalty``,
``penalty_percent``, ``submitted_at`` (in the deadline's time zone, else
UTC), ``time_source``, ``deadline`` (the row's own, extension included)
and ``hours_late`` say how it came about. A late row that would be
``graded`` gets the status ``late``; rows with another status (timeout,
tampered, ...) keep it, with the same late columns and penalty. Rows
without a submitted notebook (missing, bad_filename, ...) have no time.

The merged gradebook (OUTPUT/gradebook.db, and the shared one of
``--db-url``) gets nbgrader's own fields: the lesson's ``duedate``, each
submission's ``timestamp`` and ``extension``, and the penalty in points as
its notebook's ``late_submission_penalty``. nbgrader keeps a submission's
score before the penalty (the formgrader shows it, for manual grading)
and `nbgrader export` writes ``score`` = raw score - penalty: the same
number as grades.csv's ``score``. The penalty is computed from the
autograded score of this run; points a human adds later in the formgrader
are not penalised until the next run.
"""

import csv
import math
import os
import re
import stat
import struct
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from trusted_grader.batch.submissions import STUDENT_ID

ROUNDINGS = ("started_days", "pro_rata")
EXTENSION_COLUMNS = ("student", "lesson", "extra_hours", "deadline")
TIMESTAMP_NAME = "timestamp.txt"
# nbgrader's timestamp.txt holds one line; a larger file is not one.
MAX_TIMESTAMP_BYTES = 4096
SECONDS_PER_DAY = 86400
# Info-ZIP's extended timestamp extra field ("UT"): flags, then the
# modification time as a signed 32-bit Unix time.
EXTENDED_TIMESTAMP = 0x5455
OFFSET = re.compile(r"\A([+-])(\d{2}):?(\d{2})\Z")
EXAMPLE = "2025-03-07T23:59+01:00"
UTC = timezone.utc


class LateWorkError(ValueError):
    """A deadline, extension or penalty setting that cannot be used."""


@dataclass(frozen=True)
class SubmissionTime:
    """When a notebook was submitted (aware, or None) and how we know."""

    when: datetime | None
    source: str = ""  # "timestamp.txt", "zip" or "file"
    note: str = ""  # why an earlier source was passed over


@dataclass
class Lateness:
    """One row's late-work columns."""

    submitted: SubmissionTime
    deadline: datetime | None = None
    seconds_late: float = 0.0
    penalty_percent: float = 0.0
    score_before: float | None = None


@dataclass
class Policy:
    """The run's deadline, extensions and penalty rule."""

    deadline: datetime | None = None
    # (student, lesson) -> deadline; lesson "" is every lesson.
    extensions: dict = field(default_factory=dict)
    percent_per_day: float = 10.0
    max_percent: float = 100.0
    cutoff_days: float | None = None
    rounding: str = "started_days"
    grace_seconds: float = 0.0

    def deadline_for(self, student, lesson):
        return self.extensions.get(
            (student, lesson),
            self.extensions.get((student, ""), self.deadline))

    def penalty(self, seconds_late):
        """(percent of the score taken, why) for a lateness in seconds."""
        if seconds_late <= self.grace_seconds:
            return 0.0, ""
        days = seconds_late / SECONDS_PER_DAY
        if self.cutoff_days is not None and days > self.cutoff_days:
            return 100.0, (f"more than {self.cutoff_days:g} days late "
                           "(the cut-off): scored 0")
        if self.rounding == "started_days":
            counted = math.ceil(days)
            what = f"{counted} started day{'s' * (counted != 1)}"
        else:
            counted = days
            what = f"{counted:.3f} days"
        percent = min(self.max_percent, self.percent_per_day * counted)
        capped = " (the maximum)" if percent == self.max_percent and \
            self.percent_per_day * counted > self.max_percent else ""
        return percent, (f"late by {_duration(seconds_late)}: {what} x "
                         f"{self.percent_per_day:g}% = {percent:g}% off"
                         f"{capped}")


# ------------------------------------------------------------ settings ---

def _iso(text):
    """datetime.fromisoformat, with the trailing Z that Python 3.10's
    does not read yet."""
    text = text.strip()
    if text[-1:] in {"Z", "z"}:
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def parse_deadline(text, what="--deadline"):
    """The aware datetime of an ISO 8601 date-time with a time zone."""
    try:
        when = _iso(text)
    except ValueError:
        raise LateWorkError(
            f"{what} {text!r} is not an ISO 8601 date-time; write e.g. "
            f"{EXAMPLE} or 2025-03-07T22:59Z") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise LateWorkError(
            f"{what} {text!r} has no time zone, so it would mean a "
            f"different moment on every machine; add one, e.g. {EXAMPLE} "
            "or a trailing Z for UTC")
    return when


def zip_zone(name):
    """The tzinfo of --zip-timezone (an IANA name, or UTC)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name.strip().upper() in {"UTC", "Z"}:
        return UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise LateWorkError(
            f"--zip-timezone {name!r} is not a time zone name; use an "
            "IANA name such as Europe/Berlin, or UTC") from None


def policy(settings, lessons=()):
    """The Policy of `settings` (a GradingSettings), checked: raises
    LateWorkError saying what is wrong, before anything is graded."""
    checks = (
        ("--late-percent-per-day", settings.late_percent_per_day, 0, None),
        ("--late-max-percent", settings.late_max_percent, 0, 100),
        ("--late-cutoff-days", settings.late_cutoff_days, 0, None),
        ("--late-grace-minutes", settings.late_grace_minutes, 0, None))
    for option, value, low, high in checks:
        if value is None:
            continue
        if not math.isfinite(value) or value < low or \
                (high is not None and value > high):
            limits = f"between {low} and {high}" if high is not None \
                else f"a number >= {low}"
            raise LateWorkError(f"{option} {value:g}: expected {limits}")
    if settings.late_rounding not in ROUNDINGS:
        raise LateWorkError(f"--late-rounding {settings.late_rounding!r}: "
                            f"expected one of {', '.join(ROUNDINGS)}")
    zip_zone(settings.zip_timezone)
    deadline = parse_deadline(settings.deadline) if settings.deadline \
        else None
    extensions = {}
    if settings.extensions:
        if deadline is None:
            raise LateWorkError("--extensions needs --deadline (the "
                                "deadline the extensions extend)")
        extensions = read_extensions(settings.extensions, deadline, lessons)
    return Policy(deadline=deadline, extensions=extensions,
                  percent_per_day=settings.late_percent_per_day,
                  max_percent=settings.late_max_percent,
                  cutoff_days=settings.late_cutoff_days,
                  rounding=settings.late_rounding,
                  grace_seconds=settings.late_grace_minutes * 60)


def read_extensions(path, deadline, lessons=()):
    """{(student, lesson or ""): deadline} of an extensions CSV file (see
    the module's doc); LateWorkError naming the file and line."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise LateWorkError(f"--extensions {path}: cannot be read as UTF-8 "
                            f"text ({type(error).__name__}: {error})") \
            from None
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        raise LateWorkError(f"--extensions {path}, line {reader.line_num}: "
                            f"not CSV ({error})") from None
    _check_header(path, header)
    found, lines = {}, {}
    for line, row in rows:
        if not any(value.strip() for value in row):
            continue  # a blank line
        where = f"--extensions {path}, line {line}"
        if len(row) > len(header):
            raise LateWorkError(f"{where}: {len(row)} values, but the header "
                                f"has {len(header)} columns")
        values = dict(zip(header, (value.strip() for value in row)))
        key = _extension_key(where, values, lessons)
        if key in found:
            raise LateWorkError(
                f"{where}: a second row for {key[0]}"
                f"{' in ' + key[1] if key[1] else ''} (line {lines[key]})")
        found[key] = _extended(where, values, deadline)
        lines[key] = line
    return found


def _check_header(path, header):
    unknown = [name for name in header if name not in EXTENSION_COLUMNS]
    if not header or "student" not in header or unknown or not (
            {"extra_hours", "deadline"} & set(header)):
        raise LateWorkError(
            f"--extensions {path}, line 1: expected a header row with "
            "'student', 'extra_hours' and/or 'deadline', and optionally "
            f"'lesson'; found {', '.join(map(repr, header)) or 'nothing'}")
    if len(set(header)) != len(header):
        raise LateWorkError(f"--extensions {path}, line 1: a column is "
                            "named twice")


def _extension_key(where, values, lessons):
    student, lesson = values.get("student", ""), values.get("lesson", "")
    if not student:
        raise LateWorkError(f"{where}: no student id")
    if not STUDENT_ID.match(student):
        raise LateWorkError(f"{where}: {student!r} is not a student id "
                            "(letters, digits, '.', '-' and '_')")
    if lesson and lessons and lesson not in lessons:
        raise LateWorkError(f"{where}: unknown lesson {lesson!r}; the "
                            f"lessons are {', '.join(sorted(lessons))}")
    return student, lesson


def _extended(where, values, deadline):
    hours, own = values.get("extra_hours", ""), values.get("deadline", "")
    if bool(hours) == bool(own):
        raise LateWorkError(f"{where}: give either extra_hours or deadline "
                            "(exactly one of them)")
    if own:
        when = parse_deadline(own, f"{where}: deadline")
        if when < deadline:
            raise LateWorkError(f"{where}: deadline {own} is before "
                                "--deadline; an extension cannot shorten "
                                "it")
        return when
    try:
        number = float(hours)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise LateWorkError(f"{where}: extra_hours {hours!r} is not a "
                            "number of hours >= 0")
    return deadline + timedelta(hours=number)


# --------------------------------------------------- submission times ---

def parse_timestamp(text):
    """The aware time of a timestamp.txt: nbgrader's format or ISO 8601;
    ValueError saying why not."""
    text = text.strip()
    if not text:
        raise ValueError("it is empty")
    when = _parsed(text)
    parts = text.split()
    # nbgrader's "%Y-%m-%d %H:%M:%S.%f %Z": a date, a time, a zone name.
    if when is None and len(parts) == 3:
        when = _parsed(f"{parts[0]} {parts[1]}")
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=_named_zone(parts[2]))
        elif when is not None:
            raise ValueError(f"{_short(text)!r} has two time zones")
    if when is None:
        raise ValueError(f"{_short(text)!r} is not a time")
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _parsed(text):
    try:
        return _iso(text)
    except ValueError:
        return None


def _named_zone(name):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    offset = OFFSET.match(name)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(offset.group(2)),
                                         minutes=int(offset.group(3))))
    if name.upper() in {"UTC", "GMT", "Z"}:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {_short(name)!r}") from None


def member_time(info, zone):
    """The aware time of a zip member: its extended timestamp (UTC) if it
    has one, else its DOS date and time read in `zone`; None if neither
    is a valid time."""
    extra = info.extra or b""
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        field = extra[4:4 + size]
        if kind == EXTENDED_TIMESTAMP and len(field) >= 5 and field[0] & 1:
            seconds = struct.unpack("<i", field[1:5])[0]
            return datetime.fromtimestamp(seconds, UTC)
        extra = extra[4 + size:]
    try:
        return datetime(*info.date_time, tzinfo=zone)
    except (TypeError, ValueError):
        return None


@dataclass
class _ZipIndex:
    times: dict  # resolved unpacked path -> aware datetime or None
    stamps: dict  # resolved folder -> timestamp.txt text or Exception


def _zip_index(archive, destination, zone, max_members):
    """What the archive says about its members' times, by where
    extract_zip unpacked them (the first member of a name wins there
    too)."""
    index = _ZipIndex({}, {})
    destination = Path(destination).resolve()
    try:
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist()[:max_members]:
                if info.is_dir():
                    continue
                try:
                    target = (destination / info.filename).resolve()
                except (OSError, RuntimeError, ValueError):
                    continue
                if target.name == TIMESTAMP_NAME:
                    if target.parent not in index.stamps:
                        index.stamps[target.parent] = _zip_stamp(zipped,
                                                                 info)
                else:
                    index.times.setdefault(target, member_time(info, zone))
    except Exception:  # extract_zip reported an unreadable archive
        return index
    return index


def _zip_stamp(zipped, info):
    if info.file_size > MAX_TIMESTAMP_BYTES:
        return ValueError(f"larger than {MAX_TIMESTAMP_BYTES} bytes")
    try:
        with zipped.open(info) as member:
            return member.read(MAX_TIMESTAMP_BYTES + 1).decode("utf-8")
    except Exception as error:  # corrupt, encrypted, not UTF-8
        return ValueError(f"cannot be read ({type(error).__name__})")


def _read_stamp(path):
    """A folder's timestamp.txt text, an Exception, or None if absent.
    Read like a submission: a bounded read of a regular file only."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        return ValueError(f"cannot be opened ({error.strerror})")
    with open(descriptor, "rb") as file:
        try:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return ValueError("not a regular file")
            data = file.read(MAX_TIMESTAMP_BYTES + 1)
        except OSError as error:
            return ValueError(f"cannot be read ({error.strerror})")
    if len(data) > MAX_TIMESTAMP_BYTES:
        return ValueError(f"larger than {MAX_TIMESTAMP_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return ValueError("not UTF-8 text")


def _in_nbgrader_layout(entry):
    path = Path(entry.path)
    return path.name == f"{entry.lesson}.ipynb" and \
        path.parent.name == entry.lesson


def submission_times(entries, archive=None, unpacked=None, zone=UTC,
                     max_members=None):
    """{(student, lesson): SubmissionTime} of the gradable `entries`.

    `archive` is the zip the submissions came in (unpacked to
    `unpacked`), or None for a folder. Never raises for what a submission
    holds."""
    index = _zip_index(archive, unpacked, zone, max_members) \
        if archive is not None else None
    times = {}
    for entry in entries:
        if entry.path is None:
            continue
        path = Path(entry.path)
        notes = []
        stamp = None
        if _in_nbgrader_layout(entry):
            stamp = index.stamps.get(path.parent.resolve()) if index \
                else _read_stamp(path.parent / TIMESTAMP_NAME)
        if isinstance(stamp, str):
            try:
                times[(entry.student, entry.lesson)] = SubmissionTime(
                    parse_timestamp(stamp), TIMESTAMP_NAME)
                continue
            except ValueError as error:
                stamp = error
        if isinstance(stamp, Exception):
            notes.append(f"{TIMESTAMP_NAME} not used: {stamp}")
        if index is not None:
            when, source = index.times.get(path.resolve()), "zip"
            if when is None:
                notes.append("the zip gives no valid time for it")
        else:
            try:
                when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                source = "file"
            except (OSError, OverflowError, ValueError) as error:
                when, source = None, ""
                notes.append(f"no file time ({type(error).__name__})")
        times[(entry.student, entry.lesson)] = SubmissionTime(
            when, source if when else "", "; ".join(notes))
    return times


# ------------------------------------------------------------ applying ---

def apply(entries, times, rule):
    """Give each row its Lateness (entry.extra["lateness"]) and, when it is
    late, its penalty: score after it, status `late` for a row otherwise
    `graded`, and why in its detail. `times` from submission_times."""
    for entry in entries:
        submitted = times.get((entry.student, entry.lesson))
        if entry.path is None or submitted is None:
            # No notebook of its own: missing, bad_filename, a duplicate
            # (the time is the graded file's), ...
            continue
        row = Lateness(submitted, score_before=entry.score)
        entry.extra["lateness"] = row
        notes = [submitted.note] if submitted.note else []
        deadline = rule.deadline_for(entry.student, entry.lesson)
        if deadline is not None and submitted.when is None:
            notes.append("submission time unknown: not checked against "
                         "the deadline")
        elif deadline is not None:
            row.deadline = deadline
            row.seconds_late = max(
                0.0, (submitted.when - deadline).total_seconds())
            row.penalty_percent, why = rule.penalty(row.seconds_late)
            if why:
                notes.append(why)
            if row.penalty_percent and entry.score is not None:
                entry.score = round(
                    entry.score * (100 - row.penalty_percent) / 100, 2)
            if row.seconds_late > rule.grace_seconds and \
                    entry.status == "graded":
                entry.status = "late"
        entry.detail = "; ".join(part for part in [entry.detail, *notes]
                                 if part)


def _shown(when, zone):
    if when is None:
        return ""
    return when.astimezone(zone).isoformat(timespec="seconds")


def csv_values(entry, rule):
    """grades.csv's late-work values of a row (LATE_COLUMNS' order)."""
    row = entry.extra.get("lateness")
    if row is None:
        return ["", "", "", "", "", _number(entry.score)]
    zone = rule.deadline.tzinfo if rule.deadline else UTC
    late = row.deadline is not None
    return [_shown(row.submitted.when, zone), row.submitted.source,
            _shown(row.deadline, zone),
            f"{row.seconds_late / 3600:.2f}" if late else "",
            f"{row.penalty_percent:g}" if late else "",
            _number(row.score_before)]


LATE_COLUMNS = ["submitted_at", "time_source", "deadline", "hours_late",
                "penalty_percent", "score_before_penalty"]


def _number(value):
    return "" if value is None else f"{value:g}"


def _duration(seconds):
    """26 h 5 min as "1 d 2 h 5 min"."""
    days, minutes = divmod(int(seconds // 60), 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return " ".join(f"{value} {unit}" for value, unit in
                    ((days, "d"), (hours, "h"), (minutes, "min"))
                    if value) or "less than a minute"


def _short(text, limit=60):
    return text if len(text) <= limit else text[:limit] + "..."


def unused_extensions(rule, entries):
    """Students the extensions file names who have no row in this run."""
    present = {entry.student for entry in entries}
    return sorted({student for student, _ in rule.extensions
                   if student not in present})


# ------------------------------------------------------------ gradebook ---

def _utc_naive(when):
    """nbgrader stores UTC times without a zone (nbgrader/utils.py)."""
    return when.astimezone(UTC).replace(tzinfo=None)


def record_in_gradebook(path, entries, rule):
    """Write the rows' times, deadlines, extensions and penalties into the
    merged gradebook at `path` with nbgrader's own fields (see the
    module's doc)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{path}") as gradebook:
        if rule.deadline is not None:
            for lesson in {entry.lesson for entry in entries
                           if entry.lesson}:
                try:
                    gradebook.find_assignment(lesson).duedate = \
                        _utc_naive(rule.deadline)
                except MissingEntry:
                    continue
        for entry in entries:
            row = entry.extra.get("lateness")
            if row is None or row.submitted.when is None:
                continue
            try:
                submission = gradebook.find_submission(entry.lesson,
                                                       entry.student)
            except MissingEntry:
                continue  # not graded: an unreadable notebook
            submission.timestamp = _utc_naive(row.submitted.when)
            if row.deadline is not None and rule.deadline is not None \
                    and row.deadline != rule.deadline:
                submission.extension = row.deadline - rule.deadline
            points = 0.0
            if row.score_before is not None and entry.score is not None:
                points = round(row.score_before - entry.score, 2)
            for number, notebook in enumerate(submission.notebooks):
                notebook.late_submission_penalty = points if number == 0 \
                    else 0.0
        gradebook.db.commit()
