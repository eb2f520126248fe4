"""Write the visible checks' expected values from the reference solutions.

    python tools/expected_values.py [LESSON ...]   # rewrite the files
    python tools/expected_values.py --check        # exit 1 if one is stale

The files are ``autograder/expected/<lesson>.json``, read by
`autograder.expected`; a maintainer's tool (it reads solutions/), never
run while grading.
"""

import argparse
import sys

from autograder import expected
from trusted_grader.judging import reference


def build(lesson):
    """Visible cases with expected values computed by the reference."""
    module = expected.module_for(lesson)
    return expected.encode(module.build_expected(reference.load(lesson)))


def render(data):
    import json

    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def write(lesson_ids=None):
    """Write the expected files of `lesson_ids` (default: all existing)."""
    expected.EXPECTED_DIR.mkdir(exist_ok=True)
    for lesson in lesson_ids or expected.lessons():
        path = expected.path_for(lesson)
        path.write_text(render(build(lesson)), encoding="utf-8")
        print(f"wrote {path}")


def stale_lessons():
    """Lessons whose expected file differs from what the reference gives.

    Numbers may differ in their last digits (FLOAT_TOLERANCE): BLAS sums in
    another order on another processor, and no check compares that
    finely.
    """
    import json

    stale = []
    for lesson in expected.lessons():
        path = expected.path_for(lesson)
        current = json.loads(path.read_text(encoding="utf-8")) \
            if path.exists() else None
        if not _same(current, json.loads(render(build(lesson)))):
            stale.append(lesson)
    return stale


# Relative difference allowed between a stored and a fresh float.
FLOAT_TOLERANCE = 1e-9


def _same(stored, fresh):
    """Equal JSON values, floats within FLOAT_TOLERANCE of each other."""
    import math

    if isinstance(stored, float) or isinstance(fresh, float):
        return isinstance(stored, (int, float)) and \
            isinstance(fresh, (int, float)) and \
            not isinstance(stored, bool) and not isinstance(fresh, bool) \
            and math.isclose(stored, fresh, rel_tol=FLOAT_TOLERANCE,
                             abs_tol=1e-300)
    if isinstance(stored, dict) and isinstance(fresh, dict):
        return stored.keys() == fresh.keys() and all(
            _same(stored[key], fresh[key]) for key in stored)
    if isinstance(stored, list) and isinstance(fresh, list):
        return len(stored) == len(fresh) and all(
            _same(a, b) for a, b in zip(stored, fresh))
    return type(stored) is type(fresh) and stored == fresh


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python tools/expected_values.py",
        description="regenerate the visible checks' expected values from "
                    "solutions/")
    parser.add_argument(
        "lessons", nargs="*",
        help="lesson ids (default: every lesson with an expected file)")
    parser.add_argument("--check", action="store_true",
                        help="only report stale files; exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_lessons()
        for lesson in stale:
            print(f"stale: {lesson}")
        return 1 if stale else 0
    write(args.lessons)
    return 0


if __name__ == "__main__":
    sys.exit(main())
