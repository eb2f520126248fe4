"""Command line: `python -m autograder expected [--check]`."""

import argparse
import sys

from autograder import expected


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder")
    commands = parser.add_subparsers(dest="command", required=True)
    expected_parser = commands.add_parser(
        "expected",
        help="regenerate the visible checks' expected values from solutions/",
    )
    expected_parser.add_argument(
        "lessons", nargs="*",
        help="lesson ids (default: every lesson with an expected file)",
    )
    expected_parser.add_argument(
        "--check", action="store_true",
        help="only report stale files; exit 1 if any",
    )
    args = parser.parse_args(argv)
    if args.command == "expected":
        if args.check:
            stale = expected.stale_lessons()
            for lesson in stale:
                print(f"stale: {expected.path_for(lesson)}")
            return 1 if stale else 0
        expected.write(args.lessons)
    return 0


if __name__ == "__main__":
    sys.exit(main())
