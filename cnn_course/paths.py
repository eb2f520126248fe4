"""Where the course's parts are, defined once for every package: this is
the lowest of them, so the checks and the grader read it from here."""

from pathlib import Path

# The clone of the course (the packages are installed in editable mode).
COURSE_ROOT = Path(__file__).resolve().parent.parent
DATA = COURSE_ROOT / "data"
