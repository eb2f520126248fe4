"""`python -m autograder grade ...`: the old name of the grading command.

The command belongs to the trusted side (`python -m trusted_grader
grade`), which this kernel-side package never imports: this module only
replaces its own process with that command, arguments unchanged.
"""

import os
import sys

if __name__ == "__main__":
    command = [sys.executable, "-m", "trusted_grader", *sys.argv[1:]]
    os.execv(sys.executable, command)
