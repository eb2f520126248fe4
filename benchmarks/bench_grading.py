"""Grading: one full submission, --jobs 2 against --jobs 1, the judge's
trainings for a class of one architecture. A class of 20 full submissions
is in bench_throughput."""

import ast
import shutil
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, Row, Timer
from trusted_grader.batch import from_scratch, grading
from trusted_grader.paths import lesson_ids

AUTOGRADE_BAR_SECONDS = 45
CLASS_SIZE = 10
CLASS_LESSON = "01_dense_translation"


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


def judge_trainings(logs):
    """The judge's trainings of a run, from the per-notebook logs."""
    found = []
    for log in sorted(logs.glob("*.log")):
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.startswith("judge: ") and "trainings [" in line:
                found += ast.literal_eval(line.split("trainings ", 1)[1])
    return found


def run(notebooks=True):
    lessons = lesson_ids(ROOT / "solutions")
    steps = {}
    full, full_status, _ = timed_grade(["solo"], lessons, jobs=2,
                                       steps=steps)
    full_serial, _, _ = timed_grade(["solo"], lessons, jobs=1)
    # COURSE.md's bar is for the four lessons 01-04.
    four, four_status, _ = timed_grade(["solo"], lessons[:4], jobs=2)
    students = [f"student{i:02d}" for i in range(CLASS_SIZE)]
    serial, _, _ = timed_grade(students, [CLASS_LESSON], jobs=1)
    parallel, statuses, _ = timed_grade(students, [CLASS_LESSON], jobs=2)
    robust, robust_statuses, trainings = timed_grade(
        students, ["04_keras_cnn"], jobs=2)
    trained = [entry for entry in trainings if not entry["cached"]]
    return [
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
        Row("autograde_submission_4_lessons_seconds",
            "one submission of lessons 01-04, grading command, --jobs 2",
            four, "s", f"<= {AUTOGRADE_BAR_SECONDS}",
            four <= AUTOGRADE_BAR_SECONDS and four_status == {"graded"}),
        # The from-scratch process is each such lesson's one nbgrader run,
        # in the kernel without the libraries: no second kernel, so its
        # cost is that run's, measured here.
        *[Row(f"from_scratch_run_seconds_{lesson[:2]}",
              f"  lesson {lesson[:2]}: its one run, in the library-free "
              "kernel (no second kernel)",
              round(steps.get(lesson, {}).get("autograde", float("nan")),
                    2), "s")
          for lesson in lessons if from_scratch.library_free(lesson)],
        Row("autograde_submission_jobs1_seconds",
            f"one {len(lessons)}-lesson submission, grading command, "
            "--jobs 1", full_serial, "s"),
        Row("grade_class_jobs1_seconds",
            f"{CLASS_SIZE} lesson-01 submissions, --jobs 1", serial, "s"),
        Row("grade_class_jobs2_seconds",
            f"{CLASS_SIZE} lesson-01 submissions, --jobs 2", parallel, "s",
            "< jobs 1", parallel < serial and statuses == {"graded"}),
    ]
