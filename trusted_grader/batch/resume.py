"""Resumable, incremental grading runs: what OUTPUT/state/ keeps.

Each student's lesson (a "unit") that finishes is recorded at once, and
atomically, in OUTPUT/state/units/<student>__<lesson>/: its result
(record.json: status, scores, detail, when it was graded, and its key),
its gradebook (for the merged gradebook), its autograded notebook, its
feedback, its JSON results and its log. The record is written in
state/incoming/ and renamed into place, so a run killed at any moment,
even with `kill -9`, leaves each unit either recorded whole or not at
all.

A later run into the same OUTPUT grades only the units without a record
of the same key: the key is the SHA-256 of the submitted notebook's bytes
and of the lesson's course fingerprint, which covers

- the lesson's folder in solutions/ (every file in it);
- the grader: every file but Markdown of trusted_grader/ (but the
  modules that only use finished grades, AFTER_GRADING), autograder/ and
  cnn_course/, nbgrader_config.py and data/, and the versions of Python,
  nbgrader, Jupyter's kernel packages, NumPy, TensorFlow and Keras;
- the settings that can change a score (SCORE_SETTINGS) and the seed.

So a changed notebook is regraded, a changed solution regrades its
lesson's units only, and a changed grader regrades everything. Records
of `grading_error` units are never reused (the next run tries again);
`--regrade` grades every unit again. grades.csv, the feedback folder, the
logs and the merged gradebook are rebuilt from the records of the run's
units at the end of every run; late-work penalties are computed then, so
a changed deadline or penalty rule needs no regrading. The run's
template gradebooks are kept too (state/template/<lesson>/), each keyed
by its lesson's fingerprint.

The seed: a run without --seed reuses the seed of the output folder's
last run (state/run.json), so that its records stay valid; the first run
into a folder draws a fresh one. A run with --seed uses that seed, and a
seed different from the records' regrades them.

One run at a time may use an output folder: the state is locked while a
run lasts (state/lock), and a second run stops at once with an error.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sys
import uuid
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from trusted_grader.paths import COURSE_ROOT

FORMAT = 1
STATE = "state"
RECORD = "record.json"
LOG = "unit.log"
# Settings that can change what a notebook scores. The rest (jobs, where
# it runs, size limits, the late-work rule) cannot.
SCORE_SETTINGS = ("seed", "timeout", "memory_mb", "notebook_timeout",
                  "judge_timeout", "judge_memory_mb")
GRADER_PARTS = ("trusted_grader", "autograder", "cnn_course", "data",
                "nbgrader_config.py")
# Modules that only use grades made already (the command line, the
# merged and shared gradebooks, the Canvas file, late penalties, these
# records, the class report and its look-alike search, which read the
# recorded judgements): changing them regrades nothing. A module that
# comes to take part in making a grade must leave this list.
AFTER_GRADING = ("trusted_grader/batch/cli.py",
                 "trusted_grader/batch/lateness.py",
                 "trusted_grader/batch/resume.py",
                 "trusted_grader/export/canvas.py",
                 "trusted_grader/export/merge.py",
                 "trusted_grader/export/report.py",
                 "trusted_grader/export/mistakes.py",
                 "trusted_grader/export/similarity.py")
PACKAGES = ("nbgrader", "nbformat", "nbclient", "nbconvert",
            "jupyter_client", "ipykernel", "numpy", "tensorflow", "keras")
# What a unit's folder holds that later steps read: the merge (the
# gradebook, the autograded notebook), the feedback, and its JSON results.
KEPT = ("gradebook.db", "autograded", "feedback")
NOT_REUSED = ("grading_error",)
ENTRY_FIELDS = ("status", "detail", "score", "max_score",
                "needs_manual_grade")
# entry.extra keys that belong to one run, not to the unit's grade.
RUN_KEYS = ("lateness", "reused", "graded_at")


class OutputInUse(RuntimeError):
    """Another grading run is using the output folder."""


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def unit_name(student, lesson):
    return f"{student}__{lesson}"


# ---------------------------------------------------------------- seed ---

def stored_seed(output):
    """The seed of the last run into `output`, or None."""
    try:
        seed = json.loads((Path(output) / STATE / "run.json").read_text(
            encoding="utf-8"))["seed"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return seed if isinstance(seed, int) else None


def remember_seed(output, seed):
    _write_atomically(Path(output) / STATE / "run.json",
                      json.dumps({"format": FORMAT, "seed": seed}))


def _write_atomically(path, text):
    """`text` at `path`, whole or not at all (even through a crash)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


# --------------------------------------------------------- fingerprints ---

def _hash_tree(digest, path, root):
    """Every file below `path` (names and bytes), in a fixed order."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(
        item for item in path.rglob("*") if item.is_file()
        and "__pycache__" not in item.parts
        and ".ipynb_checkpoints" not in item.parts)
    for item in files:
        if str(item.relative_to(root)) in AFTER_GRADING or \
                item.suffix == ".md":  # documentation grades nothing
            continue
        digest.update(str(item.relative_to(root)).encode() + b"\0")
        with open(item, "rb") as file:
            for chunk in iter(lambda: file.read(2**20), b""):
                digest.update(chunk)
        digest.update(b"\0")


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def grader_fingerprint():
    """SHA-256 of the grader's code, data and packages, as they are now
    (about 12 MB read: 0.05 s)."""
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    digest.update(f"python {sys.version}\n".encode())
    for package in PACKAGES:
        digest.update(f"{package} {_version(package)}\n".encode())
    for part in GRADER_PARTS:
        if (COURSE_ROOT / part).exists():
            _hash_tree(digest, COURSE_ROOT / part, COURSE_ROOT)
    return digest.hexdigest()


def course_fingerprints(settings, lessons):
    """{lesson: SHA-256 of its solutions, the grader and the score
    settings}."""
    score_settings = json.dumps({name: getattr(settings, name)
                                 for name in SCORE_SETTINGS},
                                sort_keys=True)
    prints, grader = {}, grader_fingerprint()
    for lesson in lessons:
        digest = hashlib.sha256(grader.encode())
        digest.update(score_settings.encode())
        folder = Path(settings.solutions) / lesson
        _hash_tree(digest, folder, folder.parent)
        prints[lesson] = digest.hexdigest()
    return prints


def _notebook_hash(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(2**20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------- store ---

class UnitStore:
    """The output folder's unit records (see the module's doc).

    Use as a context manager: it holds the folder's lock meanwhile.
    """

    def __init__(self, output, settings, lessons):
        self.output = Path(output)
        self.folder = self.output / STATE
        self.units = self.folder / "units"
        self.incoming = self.folder / "incoming"
        self.regrade = bool(settings.regrade)
        self.fingerprints = course_fingerprints(settings, lessons)
        self.keys = {}  # (student, lesson): (key, notebook hash)
        self.current = {}  # (student, lesson): record folder of this key
        self._lock = None

    def __enter__(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.folder / "lock", "a")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise OutputInUse(
                f"another grading run is using {self.output}; wait for it "
                "to end, or give this one another --output") from None
        # What a killed run left half-written.
        shutil.rmtree(self.incoming, ignore_errors=True)
        self.incoming.mkdir()
        self.units.mkdir(exist_ok=True)
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.incoming, ignore_errors=True)
        self._lock.close()

    def key(self, entry):
        """The unit's key: its notebook's and its course's fingerprint."""
        found = self.keys.get((entry.student, entry.lesson))
        if found is None:
            notebook = _notebook_hash(entry.path)
            course = self.fingerprints[entry.lesson]
            key = hashlib.sha256(f"{notebook} {course}".encode()).hexdigest()
            found = self.keys[(entry.student, entry.lesson)] = (key,
                                                               notebook)
        return found[0]

    def _record(self, entry):
        """The unit's record if it may stand for this run's grade."""
        folder = self.units / unit_name(entry.student, entry.lesson)
        try:
            record = json.loads((folder / RECORD).read_text(
                encoding="utf-8"))
            if record["format"] != FORMAT or record["key"] != \
                    self.key(entry) or record["student"] != entry.student \
                    or record["lesson"] != entry.lesson or \
                    record["entry"]["status"] in NOT_REUSED:
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not (folder / "gradebook.db").is_file():
            return None
        return record

    def split(self, gradable):
        """(to grade, reused): each entry with a valid record of its key
        gets its result, feedback and log back from it."""
        to_grade, reused = [], []
        for entry in gradable:
            record = None if self.regrade else self._record(entry)
            if record is None:
                to_grade.append(entry)
                continue
            folder = self.units / unit_name(entry.student, entry.lesson)
            for name in ENTRY_FIELDS:
                setattr(entry, name, record["entry"][name])
            entry.extra.update(record.get("extra", {}))
            entry.extra["reused"] = True
            entry.extra["graded_at"] = record["graded_at"]
            self._publish(folder, entry)
            self.current[(entry.student, entry.lesson)] = folder
            reused.append(entry)
        return to_grade, reused

    def _publish(self, folder, entry):
        """The unit's feedback and log into OUTPUT, where a run puts
        them."""
        if (folder / "feedback").is_dir():
            shutil.copytree(folder / "feedback", self.output / "feedback",
                            dirs_exist_ok=True)
        if (folder / LOG).is_file():
            logs = self.output / "logs"
            logs.mkdir(exist_ok=True)
            shutil.copy(folder / LOG,
                        logs / f"{entry.student}_{entry.lesson}.log")

    def save(self, entry, root):
        """Record a unit that was just graded in folder `root` (not for a
        grading_error, which the next run tries again)."""
        entry.extra["graded_at"] = _now()
        if entry.status in NOT_REUSED or root is None or \
                not (Path(root) / "gradebook.db").is_file():
            return
        name = unit_name(entry.student, entry.lesson)
        staging = self.incoming / f"{name}.{uuid.uuid4().hex}"
        staging.mkdir()
        for item in Path(root).iterdir():
            if item.name in KEPT and item.is_dir():
                shutil.copytree(item, staging / item.name)
            elif item.is_file() and (item.name in KEPT
                                     or item.suffix == ".json"):
                shutil.copy(item, staging / item.name)
        log = self.output / "logs" / f"{entry.student}_{entry.lesson}.log"
        if log.is_file():
            shutil.copy(log, staging / LOG)
        key = self.key(entry)
        notebook = self.keys[(entry.student, entry.lesson)][1]
        _write_atomically(staging / RECORD, json.dumps({
            "format": FORMAT, "student": entry.student,
            "lesson": entry.lesson, "key": key,
            "notebook_sha256": notebook,
            "course": self.fingerprints[entry.lesson],
            "graded_at": entry.extra["graded_at"],
            "entry": {name: getattr(entry, name) for name in ENTRY_FIELDS},
            "extra": _kept_extra(entry.extra)}, indent=1))
        target = self.units / name
        old = None
        if target.exists():
            old = self.incoming / f"{name}.old.{uuid.uuid4().hex}"
            os.rename(target, old)
        os.rename(staging, target)  # from here on, the unit is recorded
        _sync_folder(self.units)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self.current[(entry.student, entry.lesson)] = target

    def merge_roots(self, gradable, work):
        """The folders whose gradebooks the merge reads: each unit's
        record, or, for a unit not recorded (a grading_error), its work
        folder."""
        roots = []
        for entry in gradable:
            recorded = self.current.get((entry.student, entry.lesson))
            working = Path(work) / "units" / unit_name(entry.student,
                                                       entry.lesson)
            if recorded is not None:
                roots.append(recorded)
            elif working.is_dir():
                roots.append(working)
        return sorted(roots)

    def template(self, lesson, build):
        """The template course folder of `lesson`: built by `build()` (a
        folder holding gradebook.db) once, then kept in
        state/template/<lesson>/ and found there by later runs, as long
        as the lesson's fingerprint is the same."""
        digest = hashlib.sha256(
            f"{lesson}:{self.fingerprints[lesson]}".encode()).hexdigest()
        kept = self.folder / "template" / lesson
        cache = kept / digest / "gradebook.db"
        if cache.is_file():
            return cache.parent
        folder = Path(build())
        if not (folder / "gradebook.db").is_file():
            return folder  # nbgrader made no gradebook
        shutil.rmtree(kept, ignore_errors=True)
        cache.parent.mkdir(parents=True)
        for old in (self.folder / "template").iterdir():
            # One gradebook of all lessons, as earlier versions kept it.
            if len(old.name) == 64 and old.name.isalnum():
                shutil.rmtree(old, ignore_errors=True)
        temporary = cache.with_name(f".gradebook.{uuid.uuid4().hex}")
        shutil.copy(folder / "gradebook.db", temporary)
        os.replace(temporary, cache)
        return folder


def _kept_extra(extra):
    """entry.extra without what belongs to one run, and only what JSON can
    hold (the record is JSON)."""
    kept = {}
    for name, value in extra.items():
        if name in RUN_KEYS:
            continue
        with contextlib.suppress(TypeError, ValueError):
            json.dumps(value)
            kept[name] = value
    return kept


def _sync_folder(folder):
    """Make a rename in `folder` survive a power cut, not only a kill."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def summary(entries):
    """One line: how many notebooks were graded now and how many reused."""
    gradable = [entry for entry in entries if "graded_at" in entry.extra]
    reused = sum(bool(entry.extra.get("reused")) for entry in gradable)
    return (f"{len(gradable) - reused} notebooks graded in this run, "
            f"{reused} reused from earlier runs (unchanged notebook and "
            "course; --regrade grades them again)")
