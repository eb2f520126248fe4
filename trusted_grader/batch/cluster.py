"""Grading units on a Dask cluster: `grade ... --scheduler ADDRESS`.

The coordinator (the `grade` command) sends each student's lesson to the
cluster as data: the submission's bytes, the run's settings and seed, and a
fingerprint of the solutions. A worker grades it exactly as the local pool does
(`notebook_grading.run_notebook` in the sandboxed kernel, then
`judge_notebook`: a judge, then the
feedback) and returns the results as data: the entry's status and scores, the
unit's gradebook, the autograded notebook, the feedback HTML and the log.
Workers therefore need the same course checkout and requirements, but no shared
filesystem. The coordinator merges the returned units as it merges local ones.

Each worker process keeps one judge per grading run (same seed, so the
same hidden inputs as every other worker) and the coordinator's template
gradebook, sent with the units; a worker started with `--nthreads 1`
runs one notebook at a time: once it has run, its judging and feedback
leave the worker's thread pool (Dask's `secede`) and the next notebook
starts meanwhile.

Failures: the scheduler moves the units of a worker that dies to another
worker. A unit whose task fails anyway (it raised, or it was on workers
that died too often) is sent once more; a second failure gives it
`grading_error`. The coordinator keeps the first result of each unit
only, so no grade is written twice. A worker whose judge cannot start
says so (before it runs the unit's notebook if the judge has already
ended), and the run stops with that cause (`judge_client.JudgeStartFailed`):
the course or the worker's environment is broken, and nothing could be
judged there.

The coordinator records each returned unit in the output folder's state
at once (`resume.UnitStore.save`), as the local pool does, so a run on a
cluster resumes and re-runs like a local one, and the two reuse each
other's grades.
"""

import atexit
import contextlib
import os
import shutil
import socket
import sys
import tempfile
import threading
import uuid
from pathlib import Path

from trusted_grader import paths, sandbox
from trusted_grader.judging.reference import solutions_fingerprint

ATTEMPTS = 2
_state_lock = threading.Lock()
_states = {}


class SolutionsMismatch(RuntimeError):
    """A worker's solutions differ from the coordinator's."""


# --------------------------------------------------------- worker side ---

class _WorkerRun:
    """One grading run's judge and template on this worker process."""

    def __init__(self, settings, lessons):
        from trusted_grader.batch import judge_client

        self.settings = settings
        # The pid in the name tells which worker process grades what.
        self.base = Path(tempfile.mkdtemp(
            prefix=f"grading-worker-{os.getpid()}-"))
        self.work = self.base / "work"
        self.work.mkdir()
        self.judge = judge_client.JudgeServer(lessons, self.work, settings)
        self.judge.log_hint = (f"the judge's log on {socket.gethostname()}"
                               f": {self.judge.log_path}")
        self.judge.start()
        # The coordinator's, sent with the units: building one here would
        # cost every worker nbgrader's generate_assignment of every lesson.
        self.template = self.work / "template"
        self.template.mkdir()
        atexit.register(self.close)

    def receive_template(self, template):
        path = self.template / "gradebook.db"
        if not path.exists():
            path.write_bytes(template)

    def close(self):
        self.judge.close()
        shutil.rmtree(self.base, ignore_errors=True)


def _worker_solutions(requested):
    """The coordinator's solutions path if this machine has it, else this
    checkout's own (workers run from their own copy of the course)."""
    return requested if Path(requested).is_dir() else str(paths.SOLUTIONS)


def _allow_child_processes():
    """Dask runs workers as daemonic processes, which multiprocessing
    forbids to start children; a grading unit needs them (the forkserver
    of `notebook_grading.run_unit`). The same as starting the workers with
    DASK_DISTRIBUTED__WORKER__DAEMON=False."""
    import multiprocessing

    process = multiprocessing.current_process()
    if process.daemon:
        process._config["daemon"] = False


def _worker_run(request):
    from trusted_grader.batch.settings import GradingSettings

    _allow_child_processes()

    settings = GradingSettings(**request["settings"])
    settings.solutions = _worker_solutions(settings.solutions)
    lessons = tuple(request["lessons"])
    found = solutions_fingerprint(settings.solutions, lessons)
    if found != request["fingerprint"]:
        raise SolutionsMismatch(
            f"the worker's solutions ({settings.solutions}) differ from "
            "the coordinator's: start workers from the same course "
            "checkout")
    key = (settings.seed, lessons, found, settings.judge_memory_mb,
           settings.judge_timeout, settings.judge_start_timeout)
    with _state_lock:
        # A judge that could not start is tried again by a later run.
        if key not in _states or _states[key].judge.failure is not None:
            for old in _states.values():
                old.close()
            _states.clear()
            _states[key] = _WorkerRun(settings, lessons)
        run = _states[key]
    if "template" in request:
        run.receive_template(request["template"])
    return run


def _stop_profiler(worker):
    """Stop the worker's statistical profiler, which samples its threads
    100 times a second: here they only wait for a unit's processes, and
    the sampling cost a grading worker about a third of its own CPU time
    (the same as starting it with DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED
    =False)."""
    for name in ("profile", "profile-cycle"):
        callback = worker.periodic_callbacks.get(name)
        if callback is not None:
            callback.stop()


def _warm_up(request, dask_worker=None):
    """Start this worker's judge and its units' forkserver now (sent by
    `connect` to every worker while the coordinator builds the template,
    so that their start-up overlaps it)."""
    from trusted_grader.batch import notebook_grading

    if dask_worker is not None:
        _stop_profiler(dask_worker)
    _worker_run(request)
    notebook_grading.start_workers(background=False)


def grade_remotely(request):
    """Grade one student's lesson on this worker; its results, as data.

    `request` holds the student, the lesson, the notebook's bytes, the
    run's settings (trait values), its lessons and the solutions'
    fingerprint.
    """
    from trusted_grader.batch import judge_client, notebook_grading
    from trusted_grader.batch.submissions import Entry

    run = _worker_run(request)
    student, lesson = request["student"], request["lesson"]
    task = run.base / "submissions" / uuid.uuid4().hex
    task.mkdir(parents=True)
    notebook = task / f"{lesson}.ipynb"
    notebook.write_bytes(request["notebook"])
    entry = Entry(student, lesson, path=notebook)
    unit = run.work / "units" / f"{student}__{lesson}"
    shutil.rmtree(unit, ignore_errors=True)  # a retry on this worker
    try:
        # A judge that already failed to start stops the run before the
        # notebook runs; one still starting releases its kernel if it
        # fails (see judge_client.JudgeServer.ready_or_starting).
        run.judge.ready_or_starting()
        root, ran = notebook_grading.run_notebook(
            entry, run.template, run.work, run.judge.inputs, run.settings)
        if ran is not None:
            # Its judging and feedback leave the worker's place to the
            # next notebook, as the local pool does (grading._grade_all).
            _leave_the_pool()
            root = notebook_grading.judge_notebook(ran, run.judge,
                                                   run.settings)
        return {"entry": {name: getattr(entry, name) for name in
                          ("status", "detail", "score", "max_score",
                           "needs_manual_grade", "extra")},
                "files": _unit_files(root),
                "log": _read(run.base / "logs" /
                             f"{student}_{lesson}.log"),
                "worker": f"{socket.gethostname()}:{os.getpid()}",
                "protection": sandbox.protection_summary()}
    except judge_client.JudgeStartFailed as error:
        raise judge_client.JudgeStartFailed(
            f"on worker {socket.gethostname()}:{os.getpid()}: {error}") \
            from None
    finally:
        shutil.rmtree(task, ignore_errors=True)
        shutil.rmtree(unit, ignore_errors=True)


def _leave_the_pool():
    """Dask's secede: this task's thread leaves the worker's pool, which
    starts the next task meanwhile (nothing outside a worker)."""
    from distributed import secede

    with contextlib.suppress(ValueError):  # not in a worker's task
        secede()


def _unit_files(root):
    """{relative path: bytes} of what the coordinator merges and copies."""
    files = {}
    for folder in ("autograded", "feedback"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                files[str(path.relative_to(root))] = path.read_bytes()
    gradebook = root / "gradebook.db"
    if gradebook.is_file():
        files["gradebook.db"] = gradebook.read_bytes()
    return files


def _read(path):
    return path.read_text(encoding="utf-8", errors="replace") \
        if path.is_file() else ""


# ---------------------------------------------------- coordinator side ---

def _run_request(settings, lessons):
    return {"settings": dict(settings.trait_values()),
            "lessons": list(lessons),
            "fingerprint": solutions_fingerprint(settings.solutions, lessons)}


def connect(settings, lessons):
    """A client of the cluster at settings.scheduler, its workers already
    starting their judges. A worker that fails to warm up is left alone:
    its first unit then says why."""
    from distributed import Client

    client = Client(settings.scheduler, timeout="60s")
    client.run(_warm_up, _run_request(settings, lessons),
               on_error="ignore")
    return client


def grade_all(client, gradable, work, settings, output, lessons, template,
              store=None):
    """Grade `gradable` entries through `client` (from `connect`);
    `template` is the run's template course folder. Each unit that ends is
    recorded in `store` (a resume.UnitStore) at once, as locally. Closes
    the client."""
    from distributed import as_completed
    from tqdm import tqdm

    from trusted_grader.batch import judge_client, notebook_grading

    request_base = {
        **_run_request(settings, lessons),
        "template": (Path(template) / "gradebook.db").read_bytes(),
    }
    bar = tqdm(total=len(gradable), unit="notebook",
               disable=not settings.progress, desc="grading (dask)")
    attempts = {}
    futures = {}
    protections = set()

    def submit(entry):
        attempts[id(entry)] = attempts.get(id(entry), 0) + 1
        request = {**request_base, "student": entry.student,
                   "lesson": entry.lesson,
                   "notebook": Path(entry.path).read_bytes()}
        future = client.submit(
            grade_remotely, request, pure=False,
            key=f"grade-{entry.student}-{entry.lesson}-"
                f"{attempts[id(entry)]}-{uuid.uuid4().hex[:8]}")
        futures[future] = entry
        return future

    try:
        # Later lessons train more: longest jobs first, as locally.
        queue = sorted(gradable, key=lambda entry: entry.lesson,
                       reverse=True)
        pending = as_completed([submit(entry) for entry in queue])
        for future in pending:
            entry = futures.pop(future)
            try:
                result = future.result()
            except judge_client.JudgeStartFailed:
                raise  # nothing can be judged there: the run stops
            except Exception as error:  # the task failed: retry once
                if attempts[id(entry)] < ATTEMPTS:
                    pending.add(submit(entry))
                    continue
                entry.status = "grading_error"
                entry.detail = (f"failed {ATTEMPTS} times on the cluster: "
                                f"{type(error).__name__}: {error}"[:500])
                notebook_grading.write_log(work, entry, [entry.detail])
                root = None
            else:
                root = _accept(result, entry, work, output)
                protections.add(result["protection"])
            if store is not None:
                store.save(entry, root)
            bar.update(1)
    finally:
        bar.close()
        client.close()
    if settings.progress:
        for line in sorted(protections):
            print(f"on the workers: {line}", file=sys.stderr)


def _accept(result, entry, work, output):
    """Write one unit's returned results where the local pool puts them."""
    from trusted_grader.batch import notebook_grading

    for name, value in result["entry"].items():
        if name == "extra":
            entry.extra.update(value)
        else:
            setattr(entry, name, value)
    root = work / "units" / f"{entry.student}__{entry.lesson}"
    shutil.rmtree(root, ignore_errors=True)
    for relative, data in result["files"].items():
        target = (root / relative).resolve()
        if not target.is_relative_to(root.resolve()):
            continue  # a worker never sends this; do not trust it either
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    notebook_grading.write_log(work, entry, [result["log"]])
    notebook_grading.copy_feedback(root, entry.student, entry, output)
    return root
