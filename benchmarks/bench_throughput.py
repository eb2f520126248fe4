"""Throughput: a class of 20 full submissions graded with --jobs 2 and on a
2-worker Dask LocalCluster, and where one grading unit's time goes."""

from benchmarks.bench_grading import timed_grade
from benchmarks.common import ROOT, Row, execute_notebook
from trusted_grader import grading

FULL_CLASS_SIZE = 20
FULL_CLASS_BAR_SECONDS = 360
CLUSTER_BAR_RATIO = 1.10


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


def run(notebooks=True):
    lessons = grading.lesson_ids(ROOT / "solutions")
    class_students = [f"learner{i:02d}" for i in range(FULL_CLASS_SIZE)]
    steps = {}
    full_class, full_class_statuses, _ = timed_grade(
        class_students, lessons, jobs=2, steps=steps)
    on_cluster, cluster_statuses, _ = cluster_grade(class_students, lessons)
    ratio = on_cluster / full_class
    for where, statuses in (("--jobs 2", full_class_statuses),
                            ("LocalCluster", cluster_statuses)):
        if statuses != {"graded"}:  # a bar is then not met: say why
            print(f"{where}: statuses {sorted(statuses)}")
    return [
        Row("grade_full_class_jobs2_seconds",
            f"{FULL_CLASS_SIZE} {len(lessons)}-lesson submissions, --jobs 2",
            full_class, "s", f"<= {FULL_CLASS_BAR_SECONDS}",
            full_class <= FULL_CLASS_BAR_SECONDS
            and full_class_statuses == {"graded"}),
        Row("grade_full_class_cluster_seconds",
            "  the same on a 2-worker Dask LocalCluster", on_cluster, "s"),
        Row("grade_full_class_cluster_ratio",
            "  LocalCluster / --jobs 2", ratio, "",
            f"<= {CLUSTER_BAR_RATIO}",
            ratio <= CLUSTER_BAR_RATIO and cluster_statuses == {"graded"}),
        *breakdown_rows(steps, lessons),
    ]
