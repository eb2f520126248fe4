"""Merge the per-student gradebooks of a grading run into one.

Each notebook was graded in a private course folder with its own SQLite
gradebook; here, in a single process, their scores and comments are copied
into OUTPUT/gradebook.db and their autograded notebooks into
OUTPUT/autograded/, so that nbgrader's formgrader (run from the course
folder, whose nbgrader_config.py points at grading/) can show every
submission for manual grading.
"""

import shutil
import warnings
from pathlib import Path

from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

GRADE_FIELDS = ("auto_score", "manual_score", "extra_credit",
                "needs_manual_grade")
COMMENT_FIELDS = ("auto_comment", "manual_comment")


def merge_gradebooks(template, units_dir, output):
    output = Path(output)
    merged = output / "gradebook.db"
    merged.unlink(missing_ok=True)
    shutil.copy(Path(template) / "gradebook.db", merged)
    shutil.rmtree(output / "autograded", ignore_errors=True)
    if not Path(units_dir).is_dir():
        return merged
    with Gradebook(f"sqlite:///{merged}") as target:
        for root in sorted(Path(units_dir).iterdir()):
            source_db = root / "gradebook.db"
            if not source_db.is_file():
                continue
            with Gradebook(f"sqlite:///{source_db}") as source, \
                    warnings.catch_warnings():
                # nbgrader's add_submission autoflushes half-built rows and
                # SQLAlchemy warns; the rows are complete at commit.
                warnings.simplefilter("ignore", SAWarning)
                copy_submissions(source, target)
            autograded = root / "autograded"
            if autograded.is_dir():
                shutil.copytree(autograded, output / "autograded",
                                dirs_exist_ok=True)
    return merged


def copy_submissions(source, target):
    for student in source.students:
        target.update_or_create_student(student.id)
        for submission in student.submissions:
            lesson = submission.assignment.name
            target.add_submission(lesson, student.id,
                                  timestamp=submission.timestamp)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    merged = target.find_grade(grade.name, notebook.name,
                                               lesson, student.id)
                    for name in GRADE_FIELDS:
                        setattr(merged, name, getattr(grade, name))
                for comment in notebook.comments:
                    merged = target.find_comment(comment.name, notebook.name,
                                                 lesson, student.id)
                    for name in COMMENT_FIELDS:
                        setattr(merged, name, getattr(comment, name))
    target.db.commit()
