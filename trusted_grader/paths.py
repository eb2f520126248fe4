"""Where the course's parts are: defined once for the trusted side."""

from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = COURSE_ROOT / "solutions"
# What a student's kernel may import and read (read-only in the sandbox).
KERNEL_PACKAGES = ("autograder", "cnn_course")
DATA = COURSE_ROOT / "data"
