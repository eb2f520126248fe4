"""Command line: `python -m autograder grade ...` and `... expected`."""

import argparse
import sys

from trusted_grader import expected_files, grading
from trusted_grader.settings import GradingSettings, option_defaults

GRADE_OPTIONS = ("jobs", "output", "timeout", "memory_mb", "seed",
                 "judge_timeout", "max_notebook_mb", "max_archive_mb",
                 "max_archive_members")


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
    defaults = option_defaults()
    for name in GRADE_OPTIONS:
        default, help_text = defaults[name]
        grade_parser.add_argument(
            "--" + name.replace("_", "-"), dest=name, default=default,
            type=int if name != "output" else str,
            help=f"{help_text} (default {default})")
    args = parser.parse_args(argv)
    if args.command == "grade":
        settings = GradingSettings(
            **{name: getattr(args, name) for name in GRADE_OPTIONS})
        return run_grade(args.submissions, settings)
    if args.command == "expected":
        if args.check:
            stale = expected_files.stale_lessons()
            for lesson in stale:
                print(f"stale: {lesson}")
            return 1 if stale else 0
        expected_files.write(args.lessons)
    return 0


def run_grade(source, settings):
    try:
        entries = grading.grade(source, settings)
    except (FileNotFoundError, RuntimeError, ValueError) as error:
        print(f"grading failed: {error}", file=sys.stderr)
        return 2
    print(grading.summary_table(entries))
    print(f"\n{len(entries)} rows written to {settings.output}/grades.csv; "
          f"feedback in {settings.output}/feedback/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
