"""Grade a folder or zip of submissions with nbgrader, one command.

    python -m autograder grade SUBMISSIONS [--jobs N] [--output DIR]

Every submitted notebook (one student's lesson) is graded in a private
nbgrader course folder with its own copy of the gradebook, so `--jobs N`
grades N notebooks at once without two processes ever writing one SQLite
file (nbgrader's FAQ warns against that). The notebook's kernel only
records answers to the run's hidden inputs; the run's judge processes
(`judging.JudgePanel`: one, or two with --jobs above 1, lesson 04's
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
import json
import multiprocessing
import multiprocessing.forkserver
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from trusted_grader import (
    judging,
    lateness,
    resume,
    sandbox,
    submissions,
    unit,
)
from trusted_grader.settings import GradingSettings

# `score` is after any late penalty (lateness.py); graded_at says when the
# row's grade was made (an earlier run's, when it was reused: resume.py).
CSV_COLUMNS = ["student", "lesson", "score", "max_score", "status",
               "needs_manual_grade", "detail", *lateness.LATE_COLUMNS,
               "graded_at"]
KERNEL_DIED_SIGNS = ("DeadKernelError", "Kernel died", "kernel died",
                     "Kernel has died", "KernelDied")
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


def lesson_ids(solutions):
    return sorted(path.name for path in Path(solutions).iterdir()
                  if (path / f"{path.name}.ipynb").is_file())


_workers = None


def workers():
    """Forkserver whose processes start with nbgrader already imported."""
    global _workers
    if _workers is None:
        _workers = multiprocessing.get_context("forkserver")
        _workers.set_forkserver_preload(["trusted_grader.unit",
                                          "nbgrader.apps"])
    return _workers


def start_workers():
    """Start the forkserver in the background: it imports nbgrader (4 s
    of a 50 s run) while the submissions are read and the judge starts,
    instead of before the template, the first unit, can be built."""
    workers()
    threading.Thread(target=multiprocessing.forkserver.ensure_running,
                     name="forkserver-start", daemon=True).start()


def run_unit(command, spec, timeout=None):
    """Run trusted_grader.unit's COMMAND on SPEC in a worker; its result.

    Raises subprocess.TimeoutExpired (after killing the worker and its
    kernel) when it runs longer than `timeout` seconds.
    """
    root = Path(spec["root"])
    log_path = root / "worker.log"
    process = workers().Process(
        target=_unit_in_child,
        args=(command, spec, str(log_path), str(Path(sys.executable).parent)))
    process.start()
    process.join(timeout)
    if process.is_alive():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.join()
        raise subprocess.TimeoutExpired(f"trusted_grader.unit {command}",
                                        timeout)
    result_path = root / f"result-{command}.json"
    if result_path.is_file():
        result = json.loads(result_path.read_text(encoding="utf-8"))
    else:
        result = {}
    result["process_log"] = log_path.read_text(encoding="utf-8",
                                               errors="replace") \
        if log_path.is_file() else ""
    result["returncode"] = process.exitcode
    return result


def _unit_in_child(command, spec, log_path, path_prefix):
    """unit.run_in_child, in a worker that dies with the process that
    forked it. The worker leads a process group of its own (so that a
    timeout kills it with its kernel), which a `kill -9` of the grading
    command's process group does not reach: without this, a killed run's
    notebooks would go on running, and writing into the output folder,
    beside the run that resumes it. Its kernel dies with it (bubblewrap's
    --die-with-parent)."""
    _die_with_parent()
    unit.run_in_child(command, spec, log_path, path_prefix)


def _die_with_parent():
    """Linux's PR_SET_PDEATHSIG: SIGKILL when the parent process ends."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent ended before prctl took effect
        os._exit(1)


def prepare_template(work, solutions, lessons, timeout):
    """A course folder whose gradebook knows every lesson's cells."""
    template = work / "template"
    template.mkdir(parents=True)
    result = run_unit("template", {"root": str(template),
                                   "solutions": str(solutions),
                                   "lessons": lessons, "timeout": timeout})
    for lesson in lessons:
        outcome = result.get(lesson, {})
        if not outcome.get("success"):
            raise RuntimeError(
                f"nbgrader generate_assignment {lesson} failed:\n"
                f"{outcome.get('error', '')}{outcome.get('log', '')}"
                f"{result['process_log'][-2000:]}")
    return template


def grade_notebook(entry, template, work, judge, settings):
    """Autograde, judge and write feedback for one student's lesson."""
    student, lesson = entry.student, entry.lesson
    root = work / "units" / f"{student}__{lesson}"
    root.mkdir(parents=True)
    shutil.copy(template / "gradebook.db", root / "gradebook.db")
    folder = root / "submitted" / student / lesson
    folder.mkdir(parents=True)
    try:
        findings, library_use, language = check_integrity(
            entry, settings.solutions, folder / f"{lesson}.ipynb")
    except submissions.InvalidNotebook as error:  # this file only
        entry.status = "invalid_notebook"
        entry.detail = f"{entry.detail}: {error}" if entry.detail \
            else str(error)
        return root
    spec = {"root": str(root), "solutions": settings.solutions,
            "lesson": lesson, "student": student, "language": language,
            "timeout": settings.timeout, "memory_mb": settings.memory_mb,
            "inputs": str(judge.inputs / lesson), "findings": findings}
    log = []
    try:
        result = run_unit("autograde", spec, settings.notebook_timeout)
    except subprocess.TimeoutExpired:
        entry.status = "timeout"
        entry.detail = f"grading took over {settings.notebook_timeout} s"
        return root
    autograde = result.get("autograde", {})
    log += [autograde.get("log", ""), autograde.get("error", ""),
            result["process_log"], f"seconds: {result.get('seconds')}",
            f"from-scratch kernel: {result.get('from_scratch')}"]
    entry.status, entry.detail = autograde_status(
        root, student, lesson, "\n".join(log),
        autograde.get("success", False))
    if result.get("comment_error"):  # after the status: not a sign of it
        log.append("'No response.' comments not written: "
                   f"{result['comment_error']}")
    try:
        if entry.status in {"graded", "timeout"}:
            judged = judge.judge(lesson, root / "answers", library_use,
                                 language)
            log.append(f"judge: {judged['seconds']} s, trainings "
                       f"{judged.get('trainings')}")
            spec["judgement"] = judged["results"]
            # Also the class report's: the mistakes the judge named.
            entry.extra["judgement"] = judged["results"]
            spec["cell_errors"] = result.get("cell_errors", {})
            finished = run_unit("finish", spec, settings.notebook_timeout)
            log += [finished["process_log"],
                    f"seconds: {finished.get('seconds')}"]
            if "seconds" not in finished:  # no result: it did not finish
                entry.status = "grading_error"
                entry.detail = "writing the scores and feedback failed"
            elif finished.get("returncode") != 0:
                # Seen in CI: the step wrote its result, then its process
                # exited non-zero while shutting down. The work is done.
                log.append("finish: done, but its process exited with "
                           f"code {finished['returncode']}")
            if "seconds" in finished and finished.get("outputs_cut"):
                entry.detail = _join(entry.detail,
                                     f"{finished['outputs_cut']} oversized "
                                     "outputs cut")
    except judging.JudgeFailed as error:
        entry.status, entry.detail = "grading_error", f"judge: {error}"
    except subprocess.TimeoutExpired:
        entry.status = "timeout"
        entry.detail = "writing the feedback took too long"
    finally:
        write_log(work, entry, log)
    if findings and entry.status in {"graded", "timeout", "kernel_died"}:
        entry.status = "tampered"
        entry.detail = "interferes with grading: " + "; ".join(findings[:4])
        if len(findings) > 4:
            entry.detail += f"; {len(findings) - 4} more"
    if entry.status in {"graded", "timeout", "tampered"}:
        read_scores(root, student, entry)
    return root


def write_log(work, entry, parts):
    log_dir = work.parent / "logs"
    log_dir.mkdir(exist_ok=True)
    (log_dir / f"{entry.student}_{entry.lesson}.log").write_text(
        "\n".join(part for part in parts if part), encoding="utf-8")


def check_integrity(entry, solutions, target):
    """Scan the submission (trusted_grader.integrity); write a copy
    nbgrader can grade to `target`; return the findings, the static
    findings of library use in from-scratch exercises, and the language
    the notebook speaks to its learner (its feedback's language).

    The submission is read by submissions.read_notebook, as `collect` read
    it; raises submissions.InvalidNotebook, with the reason, when it
    cannot be read, scanned or written back."""
    import nbformat

    from autograder.expected import module_for
    from trusted_grader import integrity

    source = nbformat.read(
        Path(solutions) / entry.lesson / f"{entry.lesson}.ipynb",
        as_version=4)
    notebook = submissions.read_notebook(entry.path)
    try:
        findings = integrity.scan_notebook(notebook, source)
        library_use = integrity.library_findings(
            notebook, module_for(entry.lesson).FROM_SCRATCH)
        integrity.strip_unknown_grade_cells(notebook, source)
        nbformat.write(notebook, target)
    except Exception as error:  # a notebook the reader let through
        raise submissions.InvalidNotebook(
            "cannot be scanned or written back "
            f"({type(error).__name__}: {str(error)[:200]})") from error
    return findings, library_use, notebook_language(notebook)


def notebook_language(notebook):
    """"zh-CN" for the Chinese edition's notebooks (tools/release.py marks
    them), else English."""
    from autograder.messages import ENGLISH, LANGUAGES

    course = notebook.metadata.get("course")
    language = course.get("language") if isinstance(course, dict) else None
    return language if language in LANGUAGES else ENGLISH


def _join(*parts):
    return "; ".join(part for part in parts if part)


def autograde_status(root, student, lesson, log, success):
    """The entry's status from nbgrader's result, log and notebook."""
    notebook = root / "autograded" / student / lesson / f"{lesson}.ipynb"
    if any(sign in log for sign in KERNEL_DIED_SIGNS):
        return "kernel_died", "the kernel died while running the notebook"
    if "CellTimeoutError" in log or "Timeout waiting for execute" in log:
        return "timeout", "a cell exceeded the per-cell time limit"
    if not success or not notebook.is_file():
        lines = [line for line in log.splitlines() if line.strip()]
        return "grading_error", " | ".join(lines[-3:])[:500]
    import nbformat

    executed = nbformat.read(notebook, as_version=4)
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            if output.get("ename") == "CellTimeoutError":
                return "timeout", "a cell exceeded the per-cell time limit"
    return "graded", ""


def read_scores(root, student, entry):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root}/gradebook.db") as gradebook:
        submission = gradebook.find_submission(entry.lesson, student)
        entry.score = round(float(submission.score), 2)
        entry.max_score = float(submission.max_score)
        entry.needs_manual_grade = bool(submission.needs_manual_grade)


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


def copy_feedback(root, student, entry, output):
    source = root / "feedback" / student / entry.lesson / \
        f"{entry.lesson}.html"
    if source.is_file():
        target = output / "feedback" / student / entry.lesson
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target / source.name)


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

    from trusted_grader import merge, report

    settings = settings or GradingSettings()
    for name, value in overrides.items():
        settings.set_trait(name, value)
    start_workers()
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
    from trusted_grader import merge

    output, solutions = store.output, Path(settings.solutions)
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

    def make_template():
        return store.template(found, lambda: prepare_template(
            work, solutions, found, settings.timeout))

    if not to_grade:
        template = make_template()
    elif settings.scheduler:
        from trusted_grader import cluster

        # Workers judge with their own judge, which they start while
        # this builds the template for the merged gradebook.
        client = cluster.connect(settings, judged)
        template = make_template()
        cluster.grade_all(client, to_grade, work, settings, output,
                          judged, template, store)
    else:
        template = _grade_here(to_grade, work, judged, make_template,
                               settings, output, store)
    entries = sorted(gradable + others,
                     key=lambda e: (e.student, e.lesson, e.status))
    fill_zero_scores(entries, template)
    merge.merge_gradebooks(template, work / "units", output,
                           roots=store.merge_roots(gradable, work))
    sandbox.remove_stale_cgroups()
    return entries


def _grade_here(gradable, work, judged, make_template, settings, output,
                store):
    """Grade on this machine with `settings.jobs` at once, judging the
    lessons `judged`; the template."""
    judge = judging.JudgePanel(judged, work, settings)
    try:
        template = _prepare(judge, judged, make_template)
        _grade_all(gradable, template, work, judge, settings, output, store)
    finally:
        judge.close()
        (output / "logs").mkdir(exist_ok=True)
        for log_path in judge.log_paths:
            if log_path.is_file():
                shutil.copy(log_path, output / "logs" / log_path.name)
    return template


def _prepare(judge, lessons, make_template):
    """The template gradebook, built (or found in the output folder's
    state) while the judge starts (it lists the calls and writes their
    inputs). A judge that could not start by then
    (an import that fails in its sandbox: it ends within seconds) raises
    judging.JudgeStartFailed, a RuntimeError naming the cause, before any
    notebook runs. Notebooks do not wait for the judge to be ready
    (waiting cost 26-28 s of a 93-157 s run of four notebooks): one that
    fails later releases the kernels waiting for inputs and stops the run
    (`JudgeServer.ready_or_starting`)."""
    if lessons:
        judge.start()
    template = make_template()
    if lessons:
        judge.ready_or_starting()
    return template


def _grade_while_judged(entry, template, work, judge, settings):
    """grade_notebook, unless the judge could not start: then
    JudgeStartFailed, and the notebook does not run."""
    judge.ready_or_starting()
    return grade_notebook(entry, template, work, judge, settings)


def _grade_all(gradable, template, work, judge, settings, output,
               store=None):
    """Grade `gradable` with `settings.jobs` at once; each unit that ends
    is recorded in `store` (a resume.UnitStore) at once."""
    from tqdm import tqdm

    bar = tqdm(total=len(gradable), unit="notebook",
               disable=not settings.progress, desc="grading")
    # Later lessons train more: start them first so that the pool's
    # workers finish together (longest job first).
    queue = sorted(gradable, key=lambda entry: entry.lesson, reverse=True)
    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        futures = {pool.submit(_grade_while_judged, entry, template, work,
                               judge, settings): entry
                   for entry in queue}
        for future in as_completed(futures):
            entry = futures[future]
            try:
                root = future.result()
            except judging.JudgeStartFailed:
                # No judge: nothing more can be graded. Notebooks that
                # already run are let finish; their judging fails at once.
                for waiting in futures:
                    waiting.cancel()
                bar.close()
                raise
            except Exception as error:  # keep the batch going
                entry.status = "grading_error"
                entry.detail = f"{type(error).__name__}: {error}"
                root = None
            else:
                copy_feedback(root, entry.student, entry, output)
            if store is not None:
                store.save(entry, root)
            bar.update(1)
    bar.close()
