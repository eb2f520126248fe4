"""Grading: one full submission, and --jobs 2 against --jobs 1."""

import shutil
import tempfile
from pathlib import Path

from trusted_grader import grading
from benchmarks.common import ROOT, Row, Timer

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


def timed_grade(students, lessons, jobs):
    with tempfile.TemporaryDirectory() as scratch:
        submissions = Path(scratch) / "submissions"
        lay_out(submissions, students, lessons)
        with Timer() as timer:
            entries = grading.grade(submissions, Path(scratch) / "out",
                                    jobs=jobs, progress=False)
    statuses = {entry.status for entry in entries}
    return timer.seconds, statuses


def run(notebooks=True):
    lessons = grading.lesson_ids(ROOT / "solutions")
    full, full_status = timed_grade(["solo"], lessons, jobs=2)
    full_serial, _ = timed_grade(["solo"], lessons, jobs=1)
    students = [f"student{i:02d}" for i in range(CLASS_SIZE)]
    serial, _ = timed_grade(students, [CLASS_LESSON], jobs=1)
    parallel, statuses = timed_grade(students, [CLASS_LESSON], jobs=2)
    return [
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
