"""`grade --scheduler ADDRESS`: units graded on a real Dask cluster.

A `LocalCluster` (a scheduler and 2 worker processes, each under a
nanny, talking over TCP on loopback) grades a small lesson-01 class. The
grades equal those of the local pool for the same seed, and a worker
killed while it grades loses nothing.
"""

import glob
import os
import signal
import subprocess
import sys
import tempfile
import time

import nbformat
import pytest
from helpers import GRADED_LESSON, cell, lesson_notebook, partly_correct

LESSON = GRADED_LESSON
SEED = "11"


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True,
            protocol="tcp", host="127.0.0.1",
            dashboard_address=None) as local_cluster:
        yield local_cluster


@pytest.fixture(scope="module")
def submissions(root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    notebooks = {"ada": lesson_notebook(root, "solutions"),
                 "bea": partly_correct(root),
                 "cy": lesson_notebook(root, "notebooks")}
    for student, notebook in notebooks.items():
        nbformat.write(notebook, folder / f"{student}_{LESSON}.ipynb")
    (folder / f"fay_{LESSON}.ipynb").write_text("{ not json",
                                                encoding="utf-8")
    return folder


def grading_command(source, output, *options):
    return [sys.executable, "-m", "trusted_grader", "grade", str(source),
            "--output", str(output), "--seed", SEED, *options]


def rows_of(output):
    import csv

    with open(output / "grades.csv", newline="", encoding="utf-8") as file:
        return {(row["student"], row["lesson"]):
                (row["score"], row["max_score"], row["status"])
                for row in csv.DictReader(file)}


def grade(root, source, output, *options):
    result = subprocess.run(grading_command(source, output, *options),
                            cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, rows_of(output)


@pytest.fixture(scope="module")
def local_rows(root, submissions, tmp_path_factory):
    return grade(root, submissions, tmp_path_factory.mktemp("local"),
                 "--jobs", "2")[1]


def test_cluster_grades_like_the_local_pool(root, cluster, submissions,
                                            local_rows, tmp_path):
    result, rows = grade(root, submissions, tmp_path,
                         "--scheduler", cluster.scheduler_address)
    assert rows == local_rows
    assert rows[("ada", LESSON)][:3] == ("10", "12", "graded")
    assert rows[("fay", LESSON)][2] == "invalid_notebook"
    assert "Dask cluster" in result.stderr
    for student in ("ada", "bea", "cy"):
        feedback = tmp_path / "feedback" / student / LESSON / f"{LESSON}.html"
        assert feedback.is_file()
    assert (tmp_path / "gradebook.db").is_file()
    # The class report, with the mistake the judge named on a worker.
    assert (tmp_path / "report.html").is_file()
    assert "Looks like np.roll" in (tmp_path / "report" / "mistakes.csv") \
        .read_text(encoding="utf-8")
    # The cluster's units are recorded as the local pool's are: a run here
    # into the same folder grades nothing again, and writes the same rows.
    again, rerun_rows = grade(root, submissions, tmp_path)
    assert rerun_rows == rows
    assert "0 notebooks graded in this run, 3 reused" in again.stdout


def _profiling(dask_worker):
    callback = dask_worker.periodic_callbacks.get("profile")
    return callback is not None and callback.is_running()


def _start_profiling(dask_worker):
    """As a fresh worker (an earlier run on this cluster stopped it)."""
    dask_worker.periodic_callbacks["profile"].start()
    return _profiling(dask_worker)


def test_grading_stops_the_workers_profiler(root, cluster, submissions,
                                            tmp_path):
    """Units run in their own processes; the worker's statistical profiler
    only costs CPU time (distributed enables it by default)."""
    from distributed import Client

    with Client(cluster) as client:
        before = client.run(_start_profiling)
        grade(root, submissions, tmp_path,
              "--scheduler", cluster.scheduler_address)
        after = client.run(_profiling)
    assert set(before.values()) == {True}
    assert set(after.values()) == {False}


def _grading_workers(worker_pids):
    """The cluster's worker processes that are grading right now."""
    busy = set()
    for task in glob.glob(os.path.join(tempfile.gettempdir(),
                                       "grading-worker-*", "submissions",
                                       "*")):
        folder = os.path.basename(os.path.dirname(os.path.dirname(task)))
        pid = int(folder.split("-")[2])
        if pid in worker_pids:
            busy.add(pid)
    return busy


def test_a_worker_killed_mid_run_loses_nothing(root, cluster, submissions,
                                               local_rows, tmp_path):
    from distributed import Client

    with Client(cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
    process = subprocess.Popen(
        grading_command(submissions, tmp_path, "--scheduler",
                        cluster.scheduler_address),
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        busy = _grading_workers(worker_pids)
        if busy:
            killed = min(busy)
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.2)
    stdout, stderr = process.communicate(timeout=900)
    assert process.returncode == 0, stdout + stderr
    assert killed is not None, "no worker was seen grading"
    assert rows_of(tmp_path) == local_rows


SCHEDULER_ATTACK = """\
from pathlib import Path

from distributed import Client

try:
    client = Client({address!r}, timeout=5)
    # On every worker, outside any sandbox: it could rewrite the grading.
    client.run(Path({marker!r}).touch)
    print("scheduler reached")
except Exception as error:
    print("scheduler unreachable:", type(error).__name__)
"""


def test_a_kernel_cannot_reach_the_scheduler(root, cluster, tmp_path):
    """Student code on a worker cannot become a Dask client: the
    sandbox's network namespace has its own loopback."""
    marker = tmp_path / "workers-ran-student-code"
    notebook = lesson_notebook(root, "notebooks")
    cell(notebook, "mean_image").source = SCHEDULER_ATTACK.format(
        address=cluster.scheduler_address, marker=str(marker))
    folder = tmp_path / "class"
    folder.mkdir()
    nbformat.write(notebook, folder / f"eve_{LESSON}.ipynb")
    output = tmp_path / "out"
    _, rows = grade(root, folder, output,
                    "--scheduler", cluster.scheduler_address)
    assert not marker.exists()
    assert rows[("eve", LESSON)][0] == "0"
    feedback = (output / "feedback" / "eve" / LESSON /
                f"{LESSON}.html").read_text(encoding="utf-8")
    assert "scheduler unreachable: OSError" in feedback
