"""Grade one notebook (a unit): scan, autograde, judge, write feedback.

The same on this machine (`grading`) and on a Dask worker
(`cluster.grade_remotely`): both call `run_notebook` (the scan, then the
notebook in its sandboxed kernel), then `judge_notebook` (the run's judge,
`judge_client`, scores the recorded answers; the finish step writes them
into the unit's gradebook and feedback; the scores are read back), each
nbgrader step (`unit`) in a process forked from a server that has
nbgrader imported (`preload`). Between the two, the caller may let
another notebook run (`grade_notebook` does both in turn). Neither the
run as a whole nor the cluster is known here.
"""

import contextlib
import json
import multiprocessing
import multiprocessing.forkserver
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import NamedTuple

from trusted_grader.batch import judge_client, submissions, unit

KERNEL_DIED_SIGNS = ("DeadKernelError", "Kernel died", "kernel died",
                     "Kernel has died", "KernelDied")

_workers = None


def workers():
    """Forkserver whose processes start with nbgrader already imported
    and its first-use costs paid (`preload`)."""
    global _workers
    if _workers is None:
        _workers = multiprocessing.get_context("forkserver")
        _workers.set_forkserver_preload(["trusted_grader.batch.unit",
                                          "nbgrader.apps",
                                          "trusted_grader.batch.preload"])
    return _workers


def start_workers(background=True):
    """Start the forkserver; by default in the background: it imports
    nbgrader (4 s of a 50 s run) while the submissions are read and the
    judge starts, instead of before the template, the first unit, can be
    built."""
    workers()
    if not background:
        multiprocessing.forkserver.ensure_running()
        return
    threading.Thread(target=multiprocessing.forkserver.ensure_running,
                     name="forkserver-start", daemon=True).start()


def run_unit(command, spec, timeout=None):
    """Run trusted_grader.batch.unit's COMMAND on SPEC in a worker; its result.

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
        raise subprocess.TimeoutExpired(f"trusted_grader.batch.unit {command}",
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


def grade_notebook(entry, template, work, judge, settings):
    """Autograde, judge and write feedback for one student's lesson."""
    root, ran = run_notebook(entry, template, work, judge.inputs, settings)
    return root if ran is None else judge_notebook(ran, judge, settings)


class Ran(NamedTuple):
    """A unit whose notebook has run, waiting for its judging."""

    entry: object
    root: Path
    work: Path
    spec: dict
    result: dict
    log: list
    findings: list
    library_use: object


def run_notebook(entry, template, work, inputs, settings):
    """The unit's notebook run in its sandboxed kernel (`inputs`: the
    judges' inputs folder): (root, Ran), or (root, None) when there is
    nothing to judge (an unreadable notebook, a run over its time)."""
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
        return root, None
    spec = {"root": str(root), "settings": settings.trait_values(),
            "lesson": lesson, "student": student, "language": language,
            "inputs": str(Path(inputs) / lesson), "findings": findings}
    log = []
    try:
        result = run_unit("autograde", spec, settings.notebook_timeout)
    except subprocess.TimeoutExpired:
        entry.status = "timeout"
        entry.detail = f"grading took over {settings.notebook_timeout} s"
        return root, None
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
    return root, Ran(entry, root, work, spec, result, log, findings,
                     library_use)


def judge_notebook(ran, judge, settings):
    """The judge's scores and messages for a unit whose notebook has run
    (`run_notebook`), written into its gradebook and feedback; its root."""
    entry, root, spec, log = ran.entry, ran.root, ran.spec, ran.log
    lesson, findings = entry.lesson, ran.findings
    try:
        if entry.status in {"graded", "timeout"}:
            judged = judge.judge(lesson, root / "answers", ran.library_use,
                                 spec["language"])
            log.append(f"judge: {judged['seconds']} s, trainings "
                       f"{judged.get('trainings')}")
            spec["judgement"] = judged["results"]
            # Also the class report's: the mistakes the judge named.
            entry.extra["judgement"] = judged["results"]
            spec["cell_errors"] = ran.result.get("cell_errors", {})
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
    except judge_client.JudgeFailed as error:
        entry.status, entry.detail = "grading_error", f"judge: {error}"
    except subprocess.TimeoutExpired:
        entry.status = "timeout"
        entry.detail = "writing the feedback took too long"
    finally:
        write_log(ran.work, entry, log)
    if findings and entry.status in {"graded", "timeout", "kernel_died"}:
        entry.status = "tampered"
        entry.detail = "interferes with grading: " + "; ".join(findings[:4])
        if len(findings) > 4:
            entry.detail += f"; {len(findings) - 4} more"
    if entry.status in {"graded", "timeout", "tampered"}:
        read_scores(root, entry.student, entry)
    return root


def write_log(work, entry, parts):
    log_dir = work.parent / "logs"
    log_dir.mkdir(exist_ok=True)
    (log_dir / f"{entry.student}_{entry.lesson}.log").write_text(
        "\n".join(part for part in parts if part), encoding="utf-8")


def check_integrity(entry, solutions, target):
    """Scan the submission (trusted_grader.batch.integrity); write a copy
    nbgrader can grade to `target`; return the findings, the static
    findings of library use in from-scratch exercises, and the language
    the notebook speaks to its learner (its feedback's language).

    The submission is read by submissions.read_notebook, as `collect` read
    it; raises submissions.InvalidNotebook, with the reason, when it
    cannot be read, scanned or written back."""
    import nbformat

    from autograder.expected import module_for
    from trusted_grader.batch import integrity

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
    from cnn_course.messages import ENGLISH, LANGUAGES

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


def copy_feedback(root, student, entry, output):
    source = root / "feedback" / student / entry.lesson / \
        f"{entry.lesson}.html"
    if source.is_file():
        target = output / "feedback" / student / entry.lesson
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target / source.name)


