"""`python -m trusted_grader grade SUBMISSIONS ...`: the grading command."""

import sys

from trusted_grader.batch.cli import main

if __name__ == "__main__":
    sys.exit(main())
