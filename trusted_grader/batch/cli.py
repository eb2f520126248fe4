"""Command line: `python -m trusted_grader grade SUBMISSIONS ...`."""

import argparse
import sys
from pathlib import Path

from trusted_grader.batch import grading, resume
from trusted_grader.batch.settings import (
    GradingSettings,
    option_choices,
    option_defaults,
    option_type,
)
from trusted_grader.export import canvas
from trusted_grader.paths import lesson_ids

GRADE_OPTIONS = ("jobs", "output", "timeout", "memory_mb", "seed",
                 "judge_timeout", "judge_start_timeout", "judge_memory_mb",
                 "own_judge",
                 "max_notebook_mb", "max_archive_mb", "max_archive_members",
                 "solutions", "scheduler", "db_url",
                 # late work (trusted_grader/batch/lateness.py)
                 "deadline", "extensions", "late_percent_per_day",
                 "late_max_percent", "late_cutoff_days", "late_rounding",
                 "late_grace_minutes", "zip_timezone")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m trusted_grader")
    commands = parser.add_subparsers(dest="command", required=True)
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
            type=option_type(name), choices=option_choices(name),
            help=f"{help_text} (default {default})")
    grade_parser.add_argument(
        "--canvas-gradebook", metavar="FILE", default=None,
        help=defaults["canvas_gradebook"][1])
    grade_parser.add_argument("--regrade", action="store_true",
                              help=defaults["regrade"][1])
    args = parser.parse_args(argv)
    settings = GradingSettings(
        **{name: getattr(args, name) for name in GRADE_OPTIONS})
    settings.canvas_gradebook = args.canvas_gradebook
    settings.regrade = args.regrade
    return run_grade(args.submissions, settings)


def run_grade(source, settings):
    export = None
    if settings.canvas_gradebook:  # a bad export stops the run at once
        try:
            export = canvas.read_export(settings.canvas_gradebook)
            canvas.check_lessons(export,
                                 lesson_ids(settings.solutions))
        except (OSError, ValueError) as error:
            print(f"canvas gradebook: {error}", file=sys.stderr)
            return 2
    try:
        entries = grading.grade(source, settings)
    except (FileNotFoundError, RuntimeError, ValueError) as error:
        print(f"grading failed: {error}", file=sys.stderr)
        return 2
    print(grading.summary_table(entries))
    print("\n" + resume.summary(entries))
    print(f"\n{len(entries)} rows written to {settings.output}/grades.csv; "
          f"feedback in {settings.output}/feedback/")
    if export is not None:
        return hand_off_to_canvas(export, entries, settings.output)
    return 0


def hand_off_to_canvas(export, entries, output):
    """Write OUTPUT/canvas_gradebook.csv and print what was filled."""
    path = Path(output) / canvas.OUTPUT_NAME
    text, report = canvas.fill(export, entries)
    try:
        canvas.write(export, text, path)
    except OSError as error:
        print(f"canvas gradebook: writing {path} failed: {error}",
              file=sys.stderr)
        return 2
    print("\n" + canvas.summary(report, path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
