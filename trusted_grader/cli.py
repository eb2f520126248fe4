"""Command line: `python -m autograder expected [--check]`."""

import argparse
import sys

from autograder import expected, grading


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
    grade_parser = commands.add_parser(
        "grade", help="grade a folder or .zip of submissions",
        description=grading.__doc__.split("\n\n")[0],
    )
    grade_parser.add_argument("submissions",
                              help="folder or .zip of submissions")
    grade_parser.add_argument("--jobs", type=int, default=1,
                              help="students graded in parallel (default 1)")
    grade_parser.add_argument("--output", default="grading",
                              help="results folder (default grading/)")
    grade_parser.add_argument("--timeout", type=int, default=120,
                              help="seconds per cell (default 120)")
    grade_parser.add_argument("--memory-mb", type=int, default=6144,
                              help="address-space cap per notebook, MiB")
    args = parser.parse_args(argv)
    if args.command == "grade":
        return run_grade(args)
    if args.command == "expected":
        if args.check:
            stale = expected.stale_lessons()
            for lesson in stale:
                print(f"stale: {expected.path_for(lesson)}")
            return 1 if stale else 0
        expected.write(args.lessons)
    return 0


def run_grade(args):
    try:
        entries = grading.grade(args.submissions, output=args.output,
                                jobs=args.jobs, timeout=args.timeout,
                                memory_mb=args.memory_mb)
    except (FileNotFoundError, RuntimeError, ValueError) as error:
        print(f"grading failed: {error}", file=sys.stderr)
        return 2
    print(grading.summary_table(entries))
    print(f"\n{len(entries)} rows written to {args.output}/grades.csv; "
          f"feedback in {args.output}/feedback/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
