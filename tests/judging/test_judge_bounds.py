"""The judge is bounded: memory, time per notebook, inputs, start-up.

Most tests drive `judge_client.JudgeServer` (the grading command's judge, in
its sandbox) on lesson 02, whose judge starts in seconds, with answers
recorded from the reference solutions as a kernel records them:

- inputs are written whole, and a judge started again in the same run
  (here with two requests at a time, the judge killed between them)
  checks them instead of rewriting them: a reader never sees a partial
  file, and honest answers keep every point;
- inputs changed on disk stop a restarted judge;
- a judge over its address-space cap gives that submission an error and
  a fresh judge takes the next one;
- a notebook over the time bound likewise.

A judge that cannot import stops the grading command within seconds,
before any notebook runs.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import local_judge
import nbformat
import numpy as np
import pytest
from helpers import GRADED_LESSON, LESSON02, ROLL_SHIFT, cell, lesson_notebook

from autograder import answers
from trusted_grader.batch import judge_client
from trusted_grader.batch.settings import GradingSettings
from trusted_grader.judging import reference
from trusted_grader.judging import server as judge_module
from trusted_grader.judging.server import lesson_module
from trusted_grader.paths import SOLUTIONS

LESSON = LESSON02  # the quickest judge to start
SEED = 5


def settings(**values):
    return GradingSettings(seed=SEED, solutions=str(SOLUTIONS), **values)


@pytest.fixture
def server_of(tmp_path):
    """Makes JudgeServers for LESSON; closes them after the test."""
    servers = []

    def make(**values):
        work = tmp_path / f"work{len(servers)}"
        server = judge_client.JudgeServer([LESSON], work, settings(**values))
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def honest_answers(server, student):
    """The reference's answers to the server's calls, as a kernel writes
    them, in a unit folder the judge can read."""
    server.wait_ready()
    ref = reference.load(LESSON)
    functions = {name: getattr(ref, name)
                 for name in lesson_module(LESSON).EXERCISES}
    folder = server.units / student / "answers"
    folder.mkdir(parents=True)
    stand_in = SimpleNamespace(checks=lesson_module(LESSON),
                               inputs=server.inputs / LESSON)
    local_judge.record_answers(stand_in, functions, folder)
    return folder


def assert_every_point(reply):
    results = reply["results"]
    assert results
    for name, result in results.items():
        assert result["score"] == result["max_score"], (name, result)


def judge_process(server):
    """The pid of the server's judge (the Python process in its
    sandbox)."""
    marker = str(server.inputs).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as file:
                command = file.read().split(b"\0")
        except OSError:
            continue
        if command[1:3] == [b"-m", b"trusted_grader.judging.server"] and \
                marker in command:
            return int(entry)
    raise AssertionError("no judge process found")


def ended(pid, seconds=10):
    """True once process `pid` is gone (within `seconds`)."""
    deadline = time.monotonic() + seconds
    while os.path.exists(f"/proc/{pid}"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def status_value(pid, name):
    """A /proc/PID/status value in kB (VmPeak, VmHWM, ...)."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as file:
        for line in file:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise AssertionError(name)


def snapshot(folder):
    """{name: (inode, mtime in ns, size)} of every file in `folder`."""
    return {path.name: (path.stat().st_ino, path.stat().st_mtime_ns,
                        path.stat().st_size)
            for path in sorted(folder.iterdir())}


class InputReader(threading.Thread):
    """Reads and decodes every input file set of a lesson in a loop, as
    kernels do, counting reads that fail."""

    def __init__(self, folder):
        super().__init__(daemon=True)
        self.folder = folder
        self.cells = sorted(path.stem for path in folder.glob("*.json")
                            if path.name != judge_module.MANIFEST)
        self.reads = self.failures = 0
        self.errors = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for name in self.cells:
                self.reads += 1
                try:
                    reader = answers.Reader(self.folder, name)
                    for call in reader.data["calls"]:
                        reader.decode(call["args"])
                        reader.decode(call["kwargs"])
                except Exception as error:
                    self.failures += 1
                    self.errors.append(f"{type(error).__name__}: {error}")


# ------------------------------------------------------- the inputs ---

def test_input_files_are_never_seen_half_written(tmp_path):
    """One thread rewrites a file set again and again (what a restarted
    judge did), another reads it: with the atomic writer no read fails;
    the same race against plain in-place writes does fail (the test can
    see the problem it guards against)."""
    rng = np.random.default_rng(0)
    contents = [{"calls": [{"args": [rng.normal(size=(64, 64)) * scale],
                            "kwargs": {}}]} for scale in (1.0, 2.0)]

    def atomic(folder, number):
        writer = answers.Writer(folder, "cell")
        data = {"calls": [{"args": writer.encode(call["args"]),
                           "kwargs": writer.encode(call["kwargs"])}
                          for call in contents[number]["calls"]]}
        writer.write(data)

    def in_place(folder, number):
        writer = answers.Writer(folder, "cell")
        data = {"calls": [{"args": writer.encode(call["args"]),
                           "kwargs": writer.encode(call["kwargs"])}
                          for call in contents[number]["calls"]]}
        np.savez(folder / "cell.npz", **writer.arrays)
        (folder / "cell.json").write_text(json.dumps(data),
                                          encoding="utf-8")

    def race(write, folder):
        folder.mkdir()
        write(folder, 0)
        reader = InputReader(folder)
        reader.start()
        deadline = time.monotonic() + 3
        number = 0
        while time.monotonic() < deadline or reader.reads < 200:
            number = 1 - number
            write(folder, number)
        reader.stop.set()
        reader.join()
        return reader

    whole = race(atomic, tmp_path / "atomic")
    assert whole.reads >= 200
    assert whole.failures == 0, whole.errors[:3]
    assert sorted(path.name for path in (tmp_path / "atomic").iterdir()) \
        == ["cell.json", "cell.npz"]  # no temporary file is left
    assert race(in_place, tmp_path / "in_place").failures > 0


def test_a_judge_outlives_the_thread_that_started_it(server_of):
    """bubblewrap's --die-with-parent kills the judge when the *thread*
    that started it ends (PR_SET_PDEATHSIG follows threads): a judge
    started (or restarted) by a grading thread that then ends must go on
    answering the other threads."""
    server = server_of()
    starter = threading.Thread(target=server.wait_ready)
    starter.start()
    starter.join()
    answers = honest_answers(server, "ada")
    time.sleep(1)
    assert server.process.poll() is None
    assert_every_point(server.judge(LESSON, answers, {}))
    assert server.starts == 1


def test_a_restarted_judge_checks_the_inputs_instead_of_rewriting(
        server_of):
    """Two notebooks judged at a time while the judge is killed again and
    again between requests: every request is answered with every point,
    each new judge verifies the inputs, no input file is rewritten, and a
    kernel reading them meanwhile never fails."""
    server = server_of()
    assert server.wait_ready()["inputs"] == {LESSON: "written"}
    folder = server.inputs / LESSON
    assert (folder / judge_module.MANIFEST).is_file()
    before = snapshot(folder)
    answer_folders = [honest_answers(server, student)
                      for student in ("ada", "bea")]
    reader = InputReader(folder)
    reader.start()
    replies, errors = [], []

    def grade(answer_folder):
        for _ in range(4):
            try:
                replies.append(server.judge(LESSON, answer_folder, {}))
            except Exception as error:
                errors.append(error)
            time.sleep(0.2)

    graders = [threading.Thread(target=grade, args=(answer_folder,))
               for answer_folder in answer_folders]
    for thread in graders:
        thread.start()
    kills = 0
    while any(thread.is_alive() for thread in graders) and kills < 2:
        time.sleep(0.5)
        with server.lock:  # between two requests, as a crash would be
            if server.process is not None and server.ready is not None:
                os.kill(judge_process(server), signal.SIGKILL)
                server.process.wait()
                kills += 1
    for thread in graders:
        thread.join()
    reader.stop.set()
    reader.join()
    assert errors == []
    assert len(replies) == 8
    for reply in replies:
        assert_every_point(reply)
    assert kills == 2 and server.starts == 3
    assert server.ready["inputs"] == {LESSON: "verified"}
    log = server.log_path.read_text(encoding="utf-8")
    assert log.count('"verified"') == 2
    assert snapshot(folder) == before
    assert reader.reads > 0
    assert reader.failures == 0, reader.errors[:3]


def test_changed_inputs_stop_a_restarted_judge(server_of):
    server = server_of()
    server.wait_ready()
    folder = server.inputs / LESSON
    target = folder / "hidden_conv2d.npz"
    with np.load(target) as archive:
        arrays = {key: archive[key] + 1 for key in archive.files}
    np.savez(target, **arrays)
    server._stop()
    started = time.monotonic()
    with pytest.raises(judge_client.JudgeStartFailed) as failure:
        server.wait_ready()
    message = str(failure.value)
    assert "InputsMismatch" in message and "hidden_conv2d.npz" in message
    assert time.monotonic() - started < 60
    # From then on every request fails at once: the run stops.
    with pytest.raises(judge_client.JudgeStartFailed):
        server.judge(LESSON, server.units, {})


# ------------------------------------------------------------ bounds ---

def test_a_judge_over_its_memory_cap_fails_that_notebook_only(server_of):
    """Under its address-space cap a judge judges honest answers; answers
    that need more memory to read give that notebook JudgeFailed (its
    grading_error), and the next notebook gets a fresh judge and every
    point."""
    roomy = server_of()
    honest = honest_answers(roomy, "ada")
    assert_every_point(roomy.judge(LESSON, honest, {}))
    peak_kb = status_value(judge_process(roomy), "VmPeak")
    roomy.close()
    cap_mb = peak_kb // 1024 + 256
    server = server_of(judge_memory_mb=cap_mb)
    honest = honest_answers(server, "ada")
    with open(f"/proc/{judge_process(server)}/limits",
              encoding="utf-8") as file:
        limits = file.read()
    assert f"Max address space         {cap_mb * 2**20}" in limits
    # 20 MB of "{}," decodes to millions of dicts: about 500 MB.
    bomb = server.units / "bomb" / "answers"
    shutil.copytree(honest, bomb)
    count = (answers.MAX_JSON_BYTES - 100) // 3
    (bomb / "hidden_conv2d.json").write_text(
        "[" + "{}," * (count - 1) + "{}]", encoding="utf-8")
    assert_every_point(server.judge(LESSON, honest, {}))
    with pytest.raises(judge_client.JudgeFailed) as failure:
        server.judge(LESSON, bomb, {})
    assert "ran out of memory" in str(failure.value)
    assert f"{cap_mb} MiB" in str(failure.value)
    assert_every_point(server.judge(LESSON, honest, {}))
    assert server.starts == 2
    assert server.ready["inputs"] == {LESSON: "verified"}


def test_a_notebook_over_the_time_bound_fails_alone(server_of):
    """A request the judge does not answer within judge_timeout (here the
    judge is paused) gives that notebook JudgeFailed; the judge is
    killed and the next notebook is judged in full by a fresh one."""
    server = server_of(judge_timeout=3)
    honest = honest_answers(server, "ada")
    assert_every_point(server.judge(LESSON, honest, {}))
    paused = judge_process(server)
    os.kill(paused, signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(judge_client.JudgeFailed) as failure:
        server.judge(LESSON, honest, {})
    assert 3 <= time.monotonic() - started < 30
    assert "took over 3 s" in str(failure.value)
    assert "judge_timeout" in str(failure.value)
    assert ended(paused)  # killed, not left over
    assert_every_point(server.judge(LESSON, honest, {}))
    assert server.ready["inputs"] == {LESSON: "verified"}


# ------------------------------------------------------- start-up ---

def test_a_judge_that_dies_while_starting_releases_waiting_kernels(
        server_of):
    """Notebooks start while the judge lists the calls; if it dies then
    (killed here), a kernel waiting for its inputs stops within a second
    and every request raises JudgeStartFailed (the run stops)."""
    from autograder.feedback import CheckFailure
    from autograder.recorder import wait_for_inputs

    server = server_of()
    server.start()
    server.ready_or_starting()  # alive: awaited in the background
    assert server.ready is None
    waited = {}

    def kernel():
        try:
            wait_for_inputs(str(server.inputs / LESSON))
        except CheckFailure as failure:
            waited["message"] = failure.message
        waited["ended"] = time.monotonic()

    waiting = threading.Thread(target=kernel)
    waiting.start()
    time.sleep(0.5)  # the judge imports NumPy and TensorFlow for longer
    assert server.ready is None
    os.kill(judge_process(server), signal.SIGKILL)
    killed = time.monotonic()
    waiting.join(timeout=60)
    assert "could not prepare" in waited["message"]
    assert waited["ended"] - killed < 5
    with pytest.raises(judge_client.JudgeStartFailed) as failure:
        server.judge(LESSON, server.units, {})
    assert "the judge ended (exit" in str(failure.value)
    assert time.monotonic() - killed < 10

@pytest.fixture
def broken_course(root, tmp_path):
    """(solutions, submissions): solutions whose lesson-01 reference
    imports a module that does not exist, and three lesson-01
    submissions."""
    solutions = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS / GRADED_LESSON, solutions / GRADED_LESSON)
    path = solutions / GRADED_LESSON / f"{GRADED_LESSON}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    setup = cell(notebook, "setup")
    setup.source = "import no_such_module_for_the_judge\n" + setup.source
    nbformat.write(notebook, path)
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    for student in ("ada", "bea", "cy"):
        nbformat.write(lesson_notebook(root, "solutions"),
                       submissions / f"{student}_{GRADED_LESSON}.ipynb")
    return solutions, submissions


def grade_broken(root, broken_course, output, *options):
    """Run the grading command on `broken_course`; (result, seconds)."""
    solutions, submissions = broken_course
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "trusted_grader", "grade", str(submissions),
         "--output", str(output), "--solutions", str(solutions),
         "--seed", str(SEED), *options],
        cwd=root, capture_output=True, text=True, timeout=600)
    return result, time.monotonic() - started


def assert_stopped_for_the_import(result, seconds, output, limit=60):
    assert result.returncode == 2, result.stdout + result.stderr
    assert seconds < limit
    assert "grading failed: " in result.stderr
    assert "the judge could not start" in result.stderr
    assert "No module named 'no_such_module_for_the_judge'" in \
        result.stderr
    assert not (output / "grades.csv").exists()
    logs = output / "logs"
    graded = [path.name for path in logs.iterdir()] if logs.is_dir() else []
    assert [name for name in graded if name != "judge.log"] == []


def test_a_judge_that_cannot_import_stops_the_run_at_once(
        root, broken_course, tmp_path):
    """The judge fails to import a module its lesson's reference needs:
    the grading command stops within seconds, exit 2, naming the cause,
    and no notebook was run."""
    output = tmp_path / "output"
    result, seconds = grade_broken(root, broken_course, output,
                                   "--jobs", "2")
    assert_stopped_for_the_import(result, seconds, output)
    assert (output / "logs" / "judge.log").is_file()


def test_a_reference_that_fails_its_check_stops_the_run(
        root, broken_course, tmp_path):
    """A judge that fails later, while it lists the calls (here the
    reference's shift_image fails its own check), may find notebooks
    already running: their kernels stop waiting for inputs at once, the
    queued notebooks never run, and the command stops naming the cause."""
    solutions, _ = broken_course
    path = solutions / GRADED_LESSON / f"{GRADED_LESSON}.ipynb"
    notebook = lesson_notebook(root, "solutions")
    cell(notebook, "shift_image").source = ROLL_SHIFT
    nbformat.write(notebook, path)
    output = tmp_path / "output"
    result, seconds = grade_broken(root, broken_course, output,
                                   "--jobs", "2")
    assert result.returncode == 2, result.stdout + result.stderr
    assert seconds < 180
    assert "grading failed: the judge could not start" in result.stderr
    assert "the reference fails its own check" in result.stderr
    assert not (output / "grades.csv").exists()
    graded = [path.name for path in (output / "logs").iterdir()
              if path.name != "judge.log"]
    assert len(graded) <= 2  # at most the two that had started (--jobs 2)


def test_on_dask_a_judge_that_cannot_import_stops_the_run(
        root, broken_course, tmp_path):
    """The same on a Dask cluster: the worker's judge fails before the
    notebook runs, and the coordinator stops with the worker's cause."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True,
            protocol="tcp", host="127.0.0.1",
            dashboard_address=None) as cluster:
        output = tmp_path / "output"
        result, seconds = grade_broken(
            root, broken_course, output,
            "--scheduler", cluster.scheduler_address)
    # The coordinator builds the template gradebook first: on two busy
    # cores alone that took up to 31 s.
    assert_stopped_for_the_import(result, seconds, output, limit=120)
    assert "on worker " in result.stderr
