"""`python -m autograder grade ...`: the trusted grading command.

The command lives in `trusted_grader` (the kernel never imports it); this
module only keeps the course's documented command name.
"""

import sys

from trusted_grader.cli import main

if __name__ == "__main__":
    sys.exit(main())
