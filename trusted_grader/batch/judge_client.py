"""The grading run's judge: one confined process, spoken to in JSON lines.

This is the grading command's end of a pipe whose other end is
`trusted_grader.judging.server`. Started once per grading run (`python -m
trusted_grader.judging.server --serve`, confined by `sandbox.judge_command`,
its address space capped at the settings' `judge_memory_mb`), the judge lists
every lesson's graded calls and writes their inputs, then judges one submission
per request. Its imports, the references and any architecture it trained stay
loaded for the whole run.

Bounds: a request that takes over `judge_timeout` seconds, or that the
judge dies on (a memory cap hit in TensorFlow ends the process), or that
runs it out of memory, raises JudgeFailed: that submission gets
`grading_error`, and the next request starts a new judge, which checks
the inputs its predecessor wrote instead of rewriting them. A judge that
cannot start (it ends or hangs before its ready line: an import that
fails in its sandbox, a reference that fails its own check, inputs that
do not match the calls) raises JudgeStartFailed, which stops the run:
no submission could be judged. Notebooks need not wait for the judge to
be ready (`ready_or_starting`): one that dies at once is reported before
any notebook starts, and one that fails later marks every lesson's
inputs FAILED, so that kernels waiting for them stop at once.
"""

import concurrent.futures
import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

from autograder.recorder import FAILED, READY
from trusted_grader import sandbox

# How much of the end of judge.log is searched for the cause of a death.
LOG_TAIL_BYTES = 20_000


class JudgeFailed(RuntimeError):
    """The judge could not score a submission (that one: grading_error)."""


class JudgeStartFailed(RuntimeError):
    """The judge could not start; no submission can be judged."""


class _JudgeEnded(JudgeFailed):
    """The judge's process ended."""


class JudgeServer:
    """The run's judge. `start()` returns at once; `wait_ready()` blocks
    until it has written (or checked) every lesson's inputs, and the
    first `judge()` waits for that too. Thread-safe: requests are
    answered one at a time.

    `settings` (a GradingSettings) gives the seed, the solutions and the
    judge's bounds (judge_timeout, judge_start_timeout, judge_memory_mb).
    """

    def __init__(self, lessons, work, settings, name="judge"):
        self.settings = settings
        self.lessons = list(lessons)
        # Judges of one run share the inputs folder (each writes only its
        # own lessons' subfolders) and keep logs of their own.
        self.folder = Path(work) / "judge"
        self.inputs = self.folder / "inputs"
        self.units = Path(work) / "units"
        for folder in (self.units, self.inputs, *[self.inputs / lesson
                                     for lesson in lessons]):
            folder.mkdir(parents=True, exist_ok=True)
        solutions = Path(settings.solutions)
        command = [sys.executable, "-m", "trusted_grader.judging.server",
                   "--serve", "--seed", str(settings.seed),
                   "--inputs", str(self.inputs),
                   "--solutions", str(solutions),
                   "--memory-mb", str(settings.judge_memory_mb), *lessons]
        self.command = sandbox.judge_command(
            command, readable=[self.units, solutions], writable=self.folder)
        self.lock = threading.RLock()
        # bubblewrap's --die-with-parent (PR_SET_PDEATHSIG) kills the
        # judge when the *thread* that started it ends, so every judge is
        # started from this one thread, which lives until close(); a
        # grading thread that restarts a judge and then ends would
        # otherwise kill it under another thread's request.
        self.name = name
        self.launcher = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"{name}-launcher")
        self.process = None
        self.ready = None
        self.failure = None  # the JudgeStartFailed, once it happened
        self.watcher = None
        self.starts = 0
        self.log_path = self.folder.parent / f"{name}.log"
        self.log_offset = 0
        # Where the grader finds the judge's log (grading copies it).
        self.log_hint = f"see logs/{self.log_path.name}"

    def start(self):
        """Start the judge; it writes each lesson's inputs as it goes."""
        with self.lock:
            self.starts += 1
            with open(self.log_path, "a", encoding="utf-8") as log:
                if self.starts > 1:
                    log.write(f"--- judge started again ({self.starts})\n")
                log.flush()
                self.log_offset = log.tell()
                self.process = self.launcher.submit(
                    subprocess.Popen, self.command, stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=log, text=True,
                    bufsize=1, env={**os.environ, "PYTHONUNBUFFERED": "1",
                                    **sandbox.JUDGE_ENVIRONMENT}).result()
            self.ready = None

    def wait_ready(self):
        """The judge's ready line, once every lesson's inputs are written
        or checked. Starts a judge if none runs (the last one was stopped
        or died after it was ready). JudgeStartFailed if it ends, hangs
        past judge_start_timeout or says anything else, and from then on
        at every call."""
        with self.lock:
            if self.failure is not None:
                raise self.failure
            if self.process is None or (self.ready is not None and
                                        self.process.poll() is not None):
                self._stop()
                self.start()
            if self.ready is None:
                try:
                    line = self._read_line(
                        self.settings.judge_start_timeout,
                        "to start (judge_start_timeout)")
                    reply = json.loads(line)
                    if not isinstance(reply, dict) or \
                            reply.get("ready") is not True:
                        raise JudgeFailed(f"it said {line[:300]!r}")
                except (JudgeFailed, ValueError) as error:
                    self._stop()
                    self.failure = JudgeStartFailed(
                        f"the judge could not start: {error}")
                    self._mark_inputs_failed()
                    raise self.failure from None
                self.ready = reply
                with open(self.log_path, "a", encoding="utf-8") as log:
                    log.write(f"ready: {line}")
            return self.ready

    def ready_or_starting(self):
        """Return at once unless the judge has already ended without
        getting ready: then JudgeStartFailed (before any notebook runs).
        Otherwise its ready line is awaited in the background, so that
        notebooks start meanwhile; if it cannot start after all, each
        lesson's inputs are marked FAILED (kernels waiting for them stop
        at once) and every `judge()` raises JudgeStartFailed."""
        if self.failure is not None:
            raise self.failure
        if self.ready is not None or self.watcher is not None:
            return  # ready, or awaited: never wait for a judging here
        with self.lock:
            if self.failure is not None:
                raise self.failure
            if self.process is not None and self.ready is None and \
                    self.process.poll() is not None:
                self.wait_ready()  # what it printed; raises if not ready
                return
            if self.watcher is None and self.ready is None:
                self.watcher = threading.Thread(
                    target=self._wait_in_background, daemon=True,
                    name="judge-start")
                self.watcher.start()

    def _wait_in_background(self):
        with self.lock:
            if self.process is None or self.ready is not None:
                return  # closed meanwhile: start no judge from here
            try:
                self.wait_ready()
            except JudgeStartFailed:
                pass  # kept in self.failure: the next judge() raises it

    def _mark_inputs_failed(self):
        """FAILED in each lesson's inputs folder without READY."""
        try:
            for folder in (self.inputs / lesson for lesson in self.lessons):
                if folder.is_dir() and not (folder / READY).exists():
                    (folder / FAILED).write_text(
                        str(self.failure)[:500], encoding="utf-8")
        except OSError:
            pass  # the run's folder is being removed

    def _read_line(self, timeout, doing):
        """The judge's next line; JudgeFailed (the judge stopped) if it
        takes over `timeout` seconds or the judge ends."""
        deadline = time.monotonic() + timeout
        process = self.process
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._stop()
                raise JudgeFailed(f"the judge took over {timeout} s "
                                  f"{doing} and was stopped")
            ready, _, _ = select.select([process.stdout], [], [],
                                        remaining)
            if ready:
                line = process.stdout.readline()
                if not line:
                    code = process.wait()
                    if self.process is process:
                        self.process = None
                    raise _JudgeEnded(f"the judge ended (exit {code}): "
                                      f"{self.cause()}")
                return line

    def cause(self):
        """What ended the judge, from its log since it started: the
        exception of its last traceback (type and message), else the last
        line it wrote (a signal's, as a rule)."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(self.log_offset,
                             os.path.getsize(self.log_path) -
                             LOG_TAIL_BYTES))
                text = log.read().decode("utf-8", "replace")
        except OSError:
            text = ""
        lines = [line.rstrip() for line in text.splitlines()
                 if line.strip() and not line.startswith("ready: ")]
        if "Traceback (most recent call last):" in lines:
            last = len(lines) - lines[::-1].index(
                "Traceback (most recent call last):")
            # The frames are indented; the exception line is not.
            lines = lines[last:]
            start = next((number for number, line in enumerate(lines)
                          if not line.startswith(" ")), len(lines) - 1)
            found = " | ".join(line.strip() for line in lines[start:])
        else:
            found = lines[-1].strip() if lines else ""
        return f"{found[:500]} ({self.log_hint})" if found \
            else self.log_hint

    def judge(self, lesson, answers, library_findings, language="en"):
        """{"results": {cell: ...}, "trainings": [...], "seconds": s}.

        JudgeFailed if this submission could not be judged (the judge is
        then stopped; the next call starts a new one); JudgeStartFailed if
        no judge can start."""
        with self.lock:
            self.wait_ready()
            request = {"lesson": lesson, "answers": str(answers),
                       "library_findings": library_findings,
                       "language": language}
            try:
                self.process.stdin.write(json.dumps(request) + "\n")
                self.process.stdin.flush()
            except OSError as error:
                self._stop()
                raise JudgeFailed(f"the judge is gone: {error}") from None
            try:
                line = self._read_line(self.settings.judge_timeout,
                                       "on this notebook (judge_timeout)")
            except JudgeFailed as error:
                # A cap hit in native code (TensorFlow) ends the process.
                cap = ""
                if isinstance(error, _JudgeEnded) and \
                        self.settings.judge_memory_mb:
                    cap = (" (its address space is capped at "
                           f"{self.settings.judge_memory_mb} MiB)")
                raise JudgeFailed(f"{error}{cap}; a fresh judge takes the "
                                  "next notebook") from None
            try:
                reply = json.loads(line)
            except ValueError:
                self._stop()
                raise JudgeFailed(f"the judge said {line[:300]!r}") \
                    from None
            if reply.get("restart"):
                # It ran out of memory and ends: the next call starts a
                # fresh judge rather than write to this one.
                self._stop()
        if reply.get("restart"):
            raise JudgeFailed(
                "the judge ran out of memory on this notebook (its "
                f"address space is capped at "
                f"{self.settings.judge_memory_mb} MiB, judge_memory_mb): "
                f"{reply.get('error')}; a fresh judge takes the next "
                "notebook")
        if "error" in reply:
            raise JudgeFailed(reply["error"])
        return reply

    def _stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def close(self):
        """End the judge (without the lock: a thread may be waiting for
        its ready line, and sees it end)."""
        process, self.process = self.process, None
        if process is not None:
            try:
                process.stdin.close()
                process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
        # Its thread ends once idle; a judge started after close() (a
        # server is reusable) gets a new one.
        self.launcher.shutdown(wait=False)
        self.launcher = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"{self.name}-launcher")


class JudgePanel:
    """The run's judges, with JudgeServer's interface for the grading run.

    When notebooks are graded in parallel (`settings.jobs` > 1), the
    lesson named by `settings.own_judge`, whose judging trains the
    submitted models (lesson 04: 9-14 s per new design), gets a judge
    process of its own: judgings of the other lessons, 0.1-2 s each,
    never queue behind its trainings (one 0.1 s lesson-02 judging waited
    8.3 s in a one-submission run). Every other lesson shares one judge.
    """

    def __init__(self, lessons, work, settings):
        alone = settings.own_judge
        groups = [list(lessons)]
        if settings.jobs > 1 and alone in lessons and len(lessons) > 1:
            groups = [[lesson for lesson in lessons if lesson != alone],
                      [alone]]
        self.servers = [
            JudgeServer(group, work, settings,
                        name="judge" if number == 0 else f"judge-{group[0]}")
            for number, group in enumerate(groups)]
        self.inputs = self.servers[0].inputs
        self._by_lesson = {lesson: server for server in self.servers
                           for lesson in server.lessons}

    def start(self):
        for server in self.servers:
            server.start()

    def ready_or_starting(self):
        for server in self.servers:
            server.ready_or_starting()

    def judge(self, lesson, answers, library_findings, language="en"):
        return self._by_lesson[lesson].judge(lesson, answers,
                                             library_findings, language)

    def close(self):
        for server in self.servers:
            server.close()

    @property
    def log_paths(self):
        return [server.log_path for server in self.servers]
