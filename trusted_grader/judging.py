"""The grading run's judge: one confined process, spoken to in JSON lines.

Started once per grading run (`trusted_grader.judge --serve`, confined by
`sandbox.judge_command`), it lists every lesson's graded calls and writes
their inputs, then judges one submission per request. Its imports, the
references and any architecture it trained stay loaded for the whole run.
If it dies or hangs on one submission's answers, that submission gets
`grading_error` and the next request starts a new judge.
"""

import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

from trusted_grader import sandbox


class JudgeFailed(RuntimeError):
    """The judge could not score a submission."""


class JudgeServer:
    """The run's judge. `start()` returns at once: kernels may start while
    it lists the calls (each waits for its lesson's inputs); the first
    `judge()` waits for it to be ready."""

    def __init__(self, lessons, seed, work, solutions, timeout):
        self.folder = Path(work) / "judge"
        self.inputs = self.folder / "inputs"
        self.units = Path(work) / "units"
        for folder in (self.units, self.inputs, *[self.inputs / lesson
                                     for lesson in lessons]):
            folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "trusted_grader.judge", "--serve",
                   "--seed", str(seed), "--inputs", str(self.inputs),
                   "--solutions", str(solutions), *lessons]
        self.command = sandbox.judge_command(
            command, readable=[self.units, Path(solutions)],
            writable=self.folder)
        self.timeout = timeout
        self.lock = threading.Lock()
        self.process = None
        self.ready = None
        self.log_path = self.folder.parent / "judge.log"

    def start(self):
        """Start the judge; it writes each lesson's inputs as it goes."""
        log = open(self.log_path, "a", encoding="utf-8")
        self.process = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=log, text=True, bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        log.close()
        self.ready = None

    def wait_ready(self):
        """Block until every lesson's inputs are written."""
        if self.ready is None:
            line = self._read_line(self.timeout)
            reply = json.loads(line)
            if not reply.get("ready"):
                raise JudgeFailed(f"the judge did not start: {line[:300]}")
            self.ready = reply
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(f"ready: {line}")
        return self.ready

    def _read_line(self, timeout):
        deadline = time.monotonic() + timeout
        stream = self.process.stdout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._stop()
                raise JudgeFailed(f"the judge took over {timeout} s")
            ready, _, _ = select.select([stream], [], [], remaining)
            if ready:
                line = stream.readline()
                if not line:
                    code = self.process.wait()
                    self.process = None
                    raise JudgeFailed(f"the judge ended (exit {code}); "
                                      f"see {self.log_path.name}")
                return line

    def judge(self, lesson, answers, library_findings, language="en"):
        """{"results": {cell: ...}, "trainings": [...], "seconds": s}."""
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                self.start()
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
            reply = json.loads(self._read_line(self.timeout))
        if "error" in reply:
            raise JudgeFailed(reply["error"])
        return reply

    def _stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def close(self):
        if self.process is not None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self._stop()
            self.process = None
