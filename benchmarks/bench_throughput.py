"""Throughput: a class of 20 full four-lesson submissions (01-04, as
COURSE.md's bar says) graded with --jobs 2 and on a 2-worker Dask
LocalCluster, and where one grading unit's time goes.

The two modes alternate over ROUNDS rounds (local first in odd rounds,
the cluster first in even ones), and each figure is a median: one pair of
runs differed by more than the bar from run-to-run noise alone.
BENCH_THROUGHPUT_ROUNDS sets the number of rounds (default 3, ~30 min).
"""

import os
import statistics

from benchmarks.bench_grading import timed_grade
from benchmarks.common import ROOT, Row, execute_notebook
from trusted_grader.paths import lesson_ids

FULL_CLASS_SIZE = 20
FULL_CLASS_BAR_SECONDS = 360
CLUSTER_BAR_RATIO = 1.10
ROUNDS = int(os.environ.get("BENCH_THROUGHPUT_ROUNDS", "3"))


def notebook_seconds(lesson):
    """The notebook alone in a kernel, grading budget (no nbgrader)."""
    path = ROOT / "solutions" / lesson / f"{lesson}.ipynb"
    return execute_notebook(path, grading=True)


def cluster_grade(students, lessons):
    """The same run through a 2-worker Dask LocalCluster (TCP loopback)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        return timed_grade(students, lessons, jobs=2,
                           scheduler=cluster.scheduler_address)


def breakdown_rows(steps, lessons):
    rows = []
    for lesson in lessons:
        found = steps.get(lesson, {})
        short = lesson[:2]
        in_kernel = notebook_seconds(lesson)
        autograde = found.get("autograde", 0.0)
        rows += [
            Row(f"unit_{short}_autograde_seconds",
                f"  {lesson}, mean unit of that class: autograde step "
                "(nbgrader, sandboxed kernel)",
                autograde, "s"),
            Row(f"unit_{short}_notebook_seconds",
                "    of which the notebook itself in a kernel (grading "
                "budget)", in_kernel, "s"),
            Row(f"unit_{short}_judge_seconds", "    judge",
                found.get("judge", 0.0), "s"),
            Row(f"unit_{short}_finish_seconds",
                "    finish (scores into the gradebook, feedback)",
                found.get("finish", 0.0), "s"),
        ]
    return rows


def alternating_rounds(students, lessons, rounds, steps):
    """([local seconds], [cluster seconds], local statuses, cluster
    statuses); `steps` gets the first local run's step breakdown."""
    local, cluster, local_statuses, cluster_statuses = [], [], set(), set()
    for number in range(rounds):
        order = ("local", "cluster") if number % 2 == 0 else \
            ("cluster", "local")
        for mode in order:
            if mode == "local":
                seconds, statuses, _ = timed_grade(
                    students, lessons, jobs=2,
                    steps=None if local else steps)
                local.append(seconds)
                local_statuses |= statuses
            else:
                seconds, statuses, _ = cluster_grade(students, lessons)
                cluster.append(seconds)
                cluster_statuses |= statuses
        print(f"throughput round {number + 1}/{rounds}: --jobs 2 "
              f"{local[-1]:.1f} s, LocalCluster {cluster[-1]:.1f} s, "
              f"ratio {cluster[-1] / local[-1]:.3f}", flush=True)
    return local, cluster, local_statuses, cluster_statuses


def round_rows(local, cluster):
    rows = []
    for number, (mine, theirs) in enumerate(zip(cluster, local), 1):
        rows += [
            Row(f"grade_full_class_round{number}_jobs2_seconds",
                f"    round {number}: --jobs 2", theirs, "s"),
            Row(f"grade_full_class_round{number}_cluster_seconds",
                f"    round {number}: LocalCluster", mine, "s"),
        ]
    return rows


def run(notebooks=True):
    # COURSE.md's bar is for full four-lesson submissions (01-04).
    lessons = lesson_ids(ROOT / "solutions")[:4]
    class_students = [f"learner{i:02d}" for i in range(FULL_CLASS_SIZE)]
    steps = {}
    local, cluster, full_class_statuses, cluster_statuses = \
        alternating_rounds(class_students, lessons, ROUNDS, steps)
    full_class = statistics.median(local)
    on_cluster = statistics.median(cluster)
    # Paired: each round's two runs saw the same state of the machine.
    ratio = statistics.median(
        mine / theirs for mine, theirs in zip(cluster, local))
    for where, statuses in (("--jobs 2", full_class_statuses),
                            ("LocalCluster", cluster_statuses)):
        if statuses != {"graded"}:  # a bar is then not met: say why
            print(f"{where}: statuses {sorted(statuses)}")
    return [
        Row("grade_full_class_jobs2_seconds",
            f"{FULL_CLASS_SIZE} {len(lessons)}-lesson submissions, --jobs 2 "
            f"(median of {ROUNDS})", full_class, "s",
            f"<= {FULL_CLASS_BAR_SECONDS}",
            full_class <= FULL_CLASS_BAR_SECONDS
            and full_class_statuses == {"graded"}),
        Row("grade_full_class_cluster_seconds",
            "  the same on a 2-worker Dask LocalCluster (median)",
            on_cluster, "s"),
        Row("grade_full_class_cluster_ratio",
            "  LocalCluster / --jobs 2 (median of the rounds' ratios)",
            ratio, "",
            f"<= {CLUSTER_BAR_RATIO}",
            ratio <= CLUSTER_BAR_RATIO and cluster_statuses == {"graded"}),
        *round_rows(local, cluster),
        *breakdown_rows(steps, lessons),
    ]
