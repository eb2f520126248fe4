"""Grading: one full submission, --jobs 2 against --jobs 1, the judge's
trainings for a class of one architecture, a class of 20 full submissions
on this machine and on a 2-worker Dask LocalCluster, and where a unit's
time goes."""

import ast
import shutil
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, Row, Timer, execute_notebook
from trusted_grader import grading

AUTOGRADE_BAR_SECONDS = 45
CLASS_SIZE = 10
CLASS_LESSON = "01_dense_translation"
FULL_CLASS_SIZE = 20
FULL_CLASS_BAR_SECONDS = 360
CLUSTER_BAR_RATIO = 1.10


def lay_out(folder, students, lessons):
    """Solution notebooks as submissions in nbgrader's layout."""
    for student in students:
        for lesson in lessons:
            target = Path(folder) / student / lesson
            target.mkdir(parents=True)
            shutil.copy(ROOT / "solutions" / lesson / f"{lesson}.ipynb",
                        target)


def timed_grade(students, lessons, jobs, scheduler=None, steps=None):
    """Seconds, statuses and judge trainings of one grading run; with
    `steps` (a dict), also each lesson's step seconds, from the logs."""
    with tempfile.TemporaryDirectory() as scratch:
        submissions = Path(scratch) / "submissions"
        lay_out(submissions, students, lessons)
        with Timer() as timer:
            entries = grading.grade(submissions,
                                    output=str(Path(scratch) / "out"),
                                    jobs=jobs, progress=0,
                                    scheduler=scheduler)
        trainings = judge_trainings(Path(scratch) / "out" / "logs")
        if steps is not None:
            steps.update(step_seconds(Path(scratch) / "out" / "logs"))
    statuses = {entry.status for entry in entries}
    return timer.seconds, statuses, trainings


def step_seconds(logs):
    """{lesson: {step: mean seconds}} from the per-notebook logs."""
    totals = {}
    for log in sorted(logs.glob("*_??_*.log")):
        lesson = log.stem.split("_", 1)[1]
        found = totals.setdefault(lesson, {})
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.startswith("seconds: {"):
                for step, value in ast.literal_eval(
                        line.split(" ", 1)[1]).items():
                    found.setdefault(step, []).append(value)
            elif line.startswith("judge: "):
                found.setdefault("judge", []).append(
                    float(line.split()[1]))
    return {lesson: {step: sum(values) / len(values)
                     for step, values in found.items()}
            for lesson, found in totals.items()}


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


def judge_trainings(logs):
    """The judge's trainings of a run, from the per-notebook logs."""
    found = []
    for log in sorted(logs.glob("*.log")):
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.startswith("judge: ") and "trainings [" in line:
                found += ast.literal_eval(line.split("trainings ", 1)[1])
    return found


def run(notebooks=True):
    lessons = grading.lesson_ids(ROOT / "solutions")
    full, full_status, _ = timed_grade(["solo"], lessons, jobs=2)
    class_students = [f"learner{i:02d}" for i in range(FULL_CLASS_SIZE)]
    steps = {}
    full_class, full_class_statuses, _ = timed_grade(
        class_students, lessons, jobs=2, steps=steps)
    on_cluster, cluster_statuses, _ = cluster_grade(class_students, lessons)
    ratio = on_cluster / full_class
    full_serial, _, _ = timed_grade(["solo"], lessons, jobs=1)
    students = [f"student{i:02d}" for i in range(CLASS_SIZE)]
    serial, _, _ = timed_grade(students, [CLASS_LESSON], jobs=1)
    parallel, statuses, _ = timed_grade(students, [CLASS_LESSON], jobs=2)
    robust, robust_statuses, trainings = timed_grade(
        students, ["04_keras_cnn"], jobs=2)
    trained = [entry for entry in trainings if not entry["cached"]]
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
        Row("judge_trainings_10_lesson04",
            f"{CLASS_SIZE} lesson-04 submissions of one architecture: "
            "judge trainings", len(trained), "", "== 1",
            len(trained) == 1 and robust_statuses == {"graded"}),
        Row("judge_training_seconds_10_lesson04",
            "  their seconds (judge, all trainings)",
            round(sum(entry["seconds"] for entry in trained), 2), "s"),
        Row("grade_class_lesson04_jobs2_seconds",
            f"{CLASS_SIZE} lesson-04 submissions, --jobs 2", robust, "s"),
        Row("autograde_submission_seconds",
            f"one {len(lessons)}-lesson submission, grading command, "
            "--jobs 2", full, "s", f"<= {AUTOGRADE_BAR_SECONDS}",
            full <= AUTOGRADE_BAR_SECONDS and full_status == {"graded"}),
        Row("autograde_submission_jobs1_seconds",
            f"one {len(lessons)}-lesson submission, grading command, "
            "--jobs 1", full_serial, "s"),
        Row("grade_class_jobs1_seconds",
            f"{CLASS_SIZE} lesson-01 submissions, --jobs 1", serial, "s"),
        Row("grade_class_jobs2_seconds",
            f"{CLASS_SIZE} lesson-01 submissions, --jobs 2", parallel, "s",
            "< jobs 1", parallel < serial and statuses == {"graded"}),
    ]
