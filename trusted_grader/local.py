"""Judge functions given in this process: the tests' way to the judge.

`judge_functions(lesson, {name: func})` takes the path a graded notebook
takes, without nbgrader or a kernel: the judge lists the calls and writes
their inputs, the kernel-side recorder answers them with the given
functions and writes the answers as data, and the judge scores those.
"""

import atexit
import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from autograder import recorder
from trusted_grader.judge import LessonJudge

_judges = {}


def lesson_judge(lesson, seed, folder):
    """A judge with its calls listed and their inputs in FOLDER."""
    key = (lesson, seed)
    if key not in _judges:
        # One folder per seed: each judge's inputs stay as it wrote them.
        _judges[key] = LessonJudge(lesson, seed,
                                   Path(folder) / f"inputs-{seed}")
        _judges[key].collect()
    return _judges[key]


@contextlib.contextmanager
def grading_environment(inputs, answers):
    names = {"NBGRADER_EXECUTION": "autograde",
             recorder.INPUTS_VARIABLE: str(inputs),
             recorder.ANSWERS_VARIABLE: str(answers)}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def record_answers(judge, functions, answers):
    """Answer the judge's calls with `functions` ({exercise: func})."""
    checks = judge.checks
    with grading_environment(judge.inputs, answers), \
            contextlib.redirect_stdout(open(os.devnull, "w")):
        for name, func in functions.items():
            getattr(checks, name)(func)
            getattr(checks, f"hidden_{name}")(func)


def judge_functions(lesson, functions, seed=0, library_findings=None):
    """{cell: result} for `functions` ({exercise: func}) of `lesson`."""
    judge = lesson_judge(lesson, seed, _inputs_root())
    with tempfile.TemporaryDirectory(prefix="answers-") as answers:
        record_answers(judge, functions, answers)
        return judge.judge(answers, library_findings)


_roots = []


def _inputs_root():
    """One folder per process for the judges' inputs, kept while it runs
    (each judge keeps its listed calls for the process's lifetime)."""
    if not _roots:
        _roots.append(tempfile.mkdtemp(prefix="judge-inputs-"))
        atexit.register(shutil.rmtree, _roots[0], True)
    return _roots[0]


def points(results, name):
    """Points of exercise `name`: (visible, hidden)."""
    return (results[f"test_{name}"]["score"],
            results[f"hidden_{name}"]["score"])
