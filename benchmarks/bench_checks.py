"""The visible checks: every one answers in under 5 seconds.

For each lesson's check module (`autograder.lessonNN`) and each exercise in
its `EXERCISES`, times the visible check a learner's test cell runs,
`check.<name>(<name>)`, on the lesson's reference solution (read from the
solution notebook by `trusted_grader.judging.reference`), outside grading
and with its printout suppressed. TensorFlow is imported first, as a notebook's
setup cell does, so each figure is the check's own time.
"""

import contextlib
import importlib
import io
import os

from benchmarks.common import ROOT, Row, Timer
from trusted_grader.judging import reference

BAR_SECONDS = 5


def check_modules():
    names = sorted(path.stem for path in (ROOT / "autograder").glob(
        "lesson[0-9][0-9].py"))
    return [importlib.import_module(f"autograder.{name}") for name in names]


def time_check(check, solution):
    """Seconds of one visible check, and whether it passed."""
    passed = True
    with Timer() as timer, contextlib.redirect_stdout(io.StringIO()):
        try:
            check(solution)
        except Exception:  # a failing check is reported, not raised
            passed = False
    return timer.seconds, passed


def run(notebooks=True):
    from cnn_course import import_tensorflow

    import_tensorflow()
    env_before = os.environ.pop("NBGRADER_EXECUTION", None)
    rows = []
    try:
        for module in check_modules():
            ref = reference.load(module.LESSON)
            short = module.LESSON[:2]
            for name in module.EXERCISES:
                seconds, passed = time_check(getattr(module, name),
                                             getattr(ref, name))
                rows.append(Row(
                    f"check_{short}_{name}_seconds",
                    f"lesson {short} visible check of {name}"
                    + ("" if passed else " (FAILED)"),
                    seconds, "s", f"< {BAR_SECONDS}",
                    passed and seconds < BAR_SECONDS))
    finally:
        if env_before is not None:
            os.environ["NBGRADER_EXECUTION"] = env_before
    slowest = max(rows, key=lambda row: row.value)
    all_met = all(row.met for row in rows)
    rows.append(Row("visible_check_max_seconds",
                    f"slowest of {len(rows)} visible checks "
                    f"({slowest.key[len('check_'):-len('_seconds')]})",
                    slowest.value, "s", f"< {BAR_SECONDS}", all_met))
    return rows
