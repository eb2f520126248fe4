"""`python -m trusted_grader grade SUBMISSIONS ...`: the grading command."""

import os
import sys

from trusted_grader.batch.cli import main
from trusted_grader.paths import COURSE_ROOT

if __name__ == "__main__":
    # The processes it starts (nbgrader, each kernel's launcher, the
    # judge) import the course from the folder this command came from,
    # not from wherever an editable install of another clone points.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(COURSE_ROOT), os.environ.get("PYTHONPATH")]))
    sys.exit(main())
