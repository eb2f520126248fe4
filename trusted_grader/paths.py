"""Where the course's parts are, for the trusted side (the course root and
data/ are cnn_course's, defined once there)."""

from pathlib import Path

from cnn_course.paths import COURSE_ROOT, DATA

SOLUTIONS = COURSE_ROOT / "solutions"
# What a student's kernel may import and read (read-only in the sandbox).
KERNEL_PACKAGES = ("autograder", "cnn_course")
__all__ = ["COURSE_ROOT", "DATA", "SOLUTIONS", "KERNEL_PACKAGES",
           "lesson_ids"]


def lesson_ids(solutions=SOLUTIONS):
    """The course's lessons: the folders of `solutions` that hold a
    notebook of their own name, sorted."""
    return sorted(path.name for path in Path(solutions).iterdir()
                  if (path / f"{path.name}.ipynb").is_file())
