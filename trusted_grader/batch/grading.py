"""Grade a folder or zip of submissions with nbgrader, one command.

    python -m trusted_grader grade SUBMISSIONS [--jobs N] [--output DIR]

Every submitted notebook (one student's lesson) is graded
(`notebook_grading.grade_notebook`) in a private nbgrader course folder
with its own copy of the gradebook, so `--jobs N` grades N notebooks at
once without two processes ever writing one SQLite
file (nbgrader's FAQ warns against that). The notebook's kernel only
records answers to the run's hidden inputs; the run's judge processes
(`judge_client.JudgePanel`: one, or two with --jobs above 1, lesson 04's
trainings in a judge of their own) score them, and a last step writes
their points into the gradebook and their messages into the feedback.
The results are then written, by this process alone, to DIR/grades.csv,
DIR/feedback/<student>/<lesson>/<lesson>.html and DIR/gradebook.db (one
gradebook with every submission, for the formgrader's manual grading).
With `--db-url URL` that gradebook is also written into a shared database,
e.g. PostgreSQL for a formgrader on JupyterHub (`merge.publish`).

Each unit is recorded in DIR/state/ as soon as it is graded, and a later
run into DIR grades only what changed since (`resume`); a run killed
midway resumes there. With `--deadline`, late submissions get the
penalty rule of the settings (`lateness`): grades.csv's score is after it.
"""

import contextlib
import csv
import os
import secrets
import shutil
import sys
import tempfile
import threading
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ThreadPoolExecutor,
    wait,
)
from pathlib import Path

from trusted_grader import sandbox
from trusted_grader.batch import (
    judge_client,
    lateness,
    notebook_grading,
    resume,
    submissions,
)
from trusted_grader.batch.settings import GradingSettings
from trusted_grader.batch.templates import TemplateFailed, Templates
from trusted_grader.paths import lesson_ids

# `score` is after any late penalty (lateness.py); graded_at says when the
# row's grade was made (an earlier run's, when it was reused: resume.py).
CSV_COLUMNS = ["student", "lesson", "score", "max_score", "status",
               "needs_manual_grade", "detail", *lateness.LATE_COLUMNS,
               "graded_at"]
STATUSES = {
    "graded": "executed and scored",
    "late": "graded, but submitted after the deadline (the student's "
            "extension and the grace period included): score is after "
            "the late penalty; the late columns say by how much. Rows of "
            "other statuses keep them and get the same late columns",
    "timeout": "a cell ran past the per-cell time limit; scored as run",
    "kernel_died": "the kernel died (memory cap, os._exit, crash)",
    "grading_error": "nbgrader failed on this notebook; see detail",
    "missing": "the student submitted other lessons but not this one",
    "invalid_notebook": "unreadable as a notebook: not UTF-8 JSON, nested "
                        "too deep or too many values, not valid nbformat "
                        "4, metadata of the wrong types, or a broken zip "
                        "member; see detail",
    "bad_filename": "name matches neither layout, or unknown lesson",
    "duplicate": "a second file for the same student and lesson",
    "tampered": "code that interferes with grading; scored 0, see detail",
    "too_large": "a file or zip over the size limits; not read",
    "unsafe_path": "a zip member whose name points outside the zip",
}


def fill_zero_scores(entries, template):
    """0 of the lesson's points where nothing could be scored."""
    from nbgrader.api import Gradebook

    maxima = {}
    with Gradebook(f"sqlite:///{template}/gradebook.db") as gradebook:
        for assignment in gradebook.assignments:
            maxima[assignment.name] = float(assignment.max_score)
    for entry in entries:
        if entry.score is None and entry.lesson in maxima:
            entry.score, entry.max_score = 0.0, maxima[entry.lesson]


def write_csv(entries, path, rule=None):
    """grades.csv, whole or not at all: written beside it, then renamed
    (a run killed meanwhile leaves the last one). `rule`: the run's
    lateness.Policy."""
    rule = rule or lateness.Policy()
    path = Path(path)
    temporary = path.with_name(f".{path.name}.partial")
    with open(temporary, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        for entry in entries:
            writer.writerow([
                entry.student, entry.lesson,
                "" if entry.score is None else f"{entry.score:g}",
                "" if entry.max_score is None else f"{entry.max_score:g}",
                entry.status, "yes" if entry.needs_manual_grade else "no",
                entry.detail, *lateness.csv_values(entry, rule),
                entry.extra.get("graded_at", ""),
            ])
    os.replace(temporary, path)


def summary_table(entries):
    """Student x lesson: score/max and status, as printable text."""
    lessons = sorted({entry.lesson for entry in entries if entry.lesson})
    students = sorted({entry.student for entry in entries})
    cells = {(entry.student, entry.lesson): entry for entry in entries}
    header = ["student", *lessons]
    rows = []
    for student in students:
        row = [student]
        for lesson in lessons:
            entry = cells.get((student, lesson))
            if entry is None:
                row.append("")
            elif entry.score is not None:
                row.append(f"{entry.score:g}/{entry.max_score:g} "
                           f"{entry.status}")
            else:
                row.append(entry.status)
        rows.append(row)
    widths = [max(len(str(row[i])) for row in [header, *rows])
              for i in range(len(header))]
    lines = ["  ".join(str(value).ljust(width)
                       for value, width in zip(row, widths))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    unplaced = [entry for entry in entries if not entry.lesson]
    for entry in unplaced:
        lines.append(f"{entry.student}: {entry.status} ({entry.detail})")
    return "\n".join(lines)


def grade(source, settings=None, **overrides):
    """Grade every submission in `source` (folder or .zip); return entries.

    `settings` is a GradingSettings; keyword arguments override its
    traits (e.g. jobs=2).
    """

    from trusted_grader.export import merge, report

    settings = settings or GradingSettings()
    for name, value in overrides.items():
        settings.set_trait(name, value)
    notebook_grading.start_workers()
    settings.solutions = str(Path(settings.solutions).resolve())
    solutions = Path(settings.solutions)
    output = Path(settings.output).resolve()
    lessons = lesson_ids(solutions)
    # Bad late-work settings stop the run before anything is graded.
    rule = lateness.policy(settings, lessons)
    seed_origin = _choose_seed(settings, output)
    if settings.db_url:  # a wrong URL or database stops the run at once
        merge.check_database(settings.db_url)
    with tempfile.TemporaryDirectory(prefix="grading-") as scratch:
        scratch = Path(scratch)
        source, refused, archive = Path(source), [], None
        if source.is_file() and source.suffix == ".zip":
            archive = source
            source, refused = submissions.extract_zip(
                source, scratch / "unzipped", settings.limits(), lessons)
        elif not source.is_dir():
            raise FileNotFoundError(
                f"{source}: expected a folder or a .zip of submissions")
        gradable, others = submissions.collect(source, lessons,
                                               settings.limits(), refused)
        times = lateness.submission_times(
            gradable, archive, source, lateness.zip_zone(
                settings.zip_timezone), settings.max_archive_members)
        # Later lessons train more: their inputs first, their notebooks
        # first (longest job first).
        found = sorted({entry.lesson for entry in gradable}, reverse=True)
        output.mkdir(parents=True, exist_ok=True)
        with resume.UnitStore(output, settings, found) as store:
            entries = _grade_and_merge(gradable, others, store, settings,
                                       seed_origin, found)
            lateness.apply(entries, times, rule)
            lateness.record_in_gradebook(output / "gradebook.db", entries,
                                         rule)
            write_csv(entries, output / "grades.csv", rule)
            report.write_report(entries, settings, output)
            shutil.rmtree(output / "work", ignore_errors=True)
        for student in lateness.unused_extensions(rule, entries):
            print(f"note: --extensions names {student}, who has no "
                  "submission in this run", file=sys.stderr)
        if settings.db_url:  # the shared gradebook (merge.publish)
            merge.publish(output / "gradebook.db", settings.db_url)
    return entries


def _choose_seed(settings, output):
    """Set settings.seed if not given: the output folder's last run's
    seed, so that its graded units stay valid (resume.py), else a fresh
    one. Says where it came from."""
    if settings.seed is not None:
        return "given"
    settings.seed = resume.stored_seed(output)
    if settings.seed is not None:
        return "reused"
    settings.seed = secrets.randbits(31)
    return "fresh"


def _grade_and_merge(gradable, others, store, settings, seed_origin,
                     found):
    """Grade the units `store` has no record of, then merge every unit's
    gradebook into OUTPUT/gradebook.db; all rows, sorted."""
    from trusted_grader.export import merge

    output = store.output
    for name in ("feedback", "work", "logs"):
        shutil.rmtree(output / name, ignore_errors=True)
    resume.remember_seed(output, settings.seed)
    work = output / "work"
    to_grade, reused = store.split(gradable)
    judged = sorted({entry.lesson for entry in to_grade}, reverse=True)
    if settings.progress:
        where = (f"on the Dask cluster at {settings.scheduler}"
                 if settings.scheduler else "here")
        print(f"grading {len(to_grade)} notebooks {where}; "
              f"{sandbox.protection_summary()}", file=sys.stderr)
        if reused:
            print(f"{len(reused)} notebooks unchanged since their grade in "
                  f"{store.folder}: reused (--regrade grades them again)",
                  file=sys.stderr)
        origin = {"reused": ", the output folder's earlier runs' seed",
                  "fresh": ", a fresh one"}.get(seed_origin, "")
        print(f"hidden inputs from seed {settings.seed}{origin} (repeat "
              f"with --seed {settings.seed})", file=sys.stderr)

    templates = Templates(work, found, settings, store)
    try:
        if not to_grade:
            templates.start()
        elif settings.scheduler:
            from trusted_grader.batch import cluster

            # Workers judge with their own judge, which they start while
            # this builds the templates; they get them in one gradebook.
            client = cluster.connect(settings, judged)
            templates.start()
            cluster.grade_all(client, to_grade, work, settings, output,
                              judged, templates.combined(), store)
        else:
            _grade_here(to_grade, work, judged, templates, settings, output,
                        store)
        template = templates.combined()
    finally:
        templates.close()
    entries = sorted(gradable + others,
                     key=lambda e: (e.student, e.lesson, e.status))
    fill_zero_scores(entries, template)
    merge.merge_gradebooks(template, work / "units", output,
                           roots=store.merge_roots(gradable, work))
    sandbox.remove_stale_cgroups()
    return entries


def _grade_here(gradable, work, judged, templates, settings, output,
                store):
    """Grade on this machine with `settings.jobs` at once, judging the
    lessons `judged`.

    The judges start first (each lists its lessons' calls and writes
    their inputs), then the `templates` are built, and each notebook
    starts as soon as its lesson's template is ready. Notebooks do not
    wait for the judge to be ready (waiting cost 26-28 s of a 93-157 s
    run of four notebooks); a judge that has already ended without
    getting ready (an import that fails in its sandbox: it ends within
    seconds) raises judge_client.JudgeStartFailed, a RuntimeError naming
    the cause, before a notebook starts, and one that fails later
    releases the kernels waiting for inputs and stops the run
    (`JudgeServer.ready_or_starting`)."""
    judge = judge_client.JudgePanel(judged, work, settings)
    try:
        judge.start()
        templates.start()
        _grade_all(gradable, templates, work, judge, settings, output,
                   store)
    finally:
        judge.close()
        (output / "logs").mkdir(exist_ok=True)
        for log_path in judge.log_paths:
            if log_path.is_file():
                shutil.copy(log_path, output / "logs" / log_path.name)


def _run_while_judged(entry, templates, work, judge, settings, judging):
    """Run the entry's notebook once its lesson's template is ready,
    unless the judge could not start (JudgeStartFailed) or the template
    could not be made (TemplateFailed): then the notebook does not run.
    Its judging and feedback are handed to `judging` (an executor): the
    future of the unit's root, or the root if there is nothing to judge.
    """
    template = templates.of(entry.lesson)
    judge.ready_or_starting()
    root, ran = notebook_grading.run_notebook(entry, template, work,
                                              judge.inputs, settings)
    if ran is None:
        return root
    return judging.submit(notebook_grading.judge_notebook, ran, judge,
                          settings)


def _grade_all(gradable, templates, work, judge, settings, output,
               store=None):
    """Grade `gradable` with `settings.jobs` notebooks running at once
    (`templates`: a templates.Templates); each unit that ends is recorded
    in `store` (a resume.UnitStore) at once.

    A unit leaves its place among the `jobs` when its notebook has run:
    its judging and feedback follow in a thread of their own while the
    next notebook runs. Lesson 04's judge trains the first of each design
    (10-14 s), and its judgings take turns; a class's lesson-04 notebooks
    that had kept their places meanwhile left a core idle for as long."""
    from tqdm import tqdm

    bar = tqdm(total=len(gradable), unit="notebook",
               disable=not settings.progress, desc="grading")
    # Later lessons train more: start them first so that the pool's
    # workers finish together (longest job first).
    queue = sorted(gradable, key=lambda entry: entry.lesson, reverse=True)
    # Once a worker slot is free for good, the report's imports use it.
    spare = _SpareSlot(len(queue), settings.jobs)
    with ThreadPoolExecutor(max_workers=max(1, settings.jobs),
                            thread_name_prefix="notebook") as notebooks, \
            ThreadPoolExecutor(max_workers=max(1, len(queue)),
                               thread_name_prefix="judging") as judging:
        owners = {notebooks.submit(_run_while_judged, entry, templates,
                                   work, judge, settings, judging): entry
                  for entry in queue}
        pending = set(owners)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                entry = owners.pop(future)
                try:
                    root = future.result()
                except (judge_client.JudgeStartFailed, TemplateFailed):
                    # No judge or no template: nothing more can be
                    # graded. Notebooks that already run are let finish;
                    # their judging fails at once.
                    for waiting in [*owners, *pending]:
                        waiting.cancel()
                    bar.close()
                    raise
                except Exception as error:  # keep the batch going
                    entry.status = "grading_error"
                    entry.detail = f"{type(error).__name__}: {error}"
                    root = None
                if isinstance(root, Future):  # its notebook has run
                    owners[root] = entry
                    pending.add(root)
                    continue
                if root is not None:
                    notebook_grading.copy_feedback(root, entry.student,
                                                   entry, output)
                if store is not None:
                    store.save(entry, root)
                bar.update(1)
                spare.one_done()
    bar.close()


class _SpareSlot:
    """Starts the class report's imports (`report.warm_up`, in a thread of
    this idle process) as soon as fewer notebooks remain than `jobs`."""

    def __init__(self, remaining, jobs):
        self.remaining, self.jobs = remaining, max(1, jobs)
        self.started = False
        self._check()

    def one_done(self):
        self.remaining -= 1
        self._check()

    def _check(self):
        if not self.started and self.remaining < self.jobs:
            from trusted_grader.export import report

            self.started = True
            threading.Thread(target=_quietly, args=(report.warm_up,),
                             name="report-warm-up", daemon=True).start()


def _quietly(function):
    with contextlib.suppress(Exception):  # the report imports them again
        function()
