"""Judge functions given in this process: the tests' way to the judge.

`judge_functions(lesson, {name: func})` takes the path a graded notebook
takes, without nbgrader or a kernel: the judge lists the calls and writes
their inputs, the kernel-side recorder answers them with the given
functions and writes the answers as data, and the judge scores those.

Two things the grading command does outside the kernel are stood in for
here, in this trusted process: each test cell is timed around its
recording (`server.TIMINGS_FILE`), and a from-scratch exercise's function
fails with the from-scratch kernel's ImportError when it reaches a
blocked library (the grading command answers those exercises in a kernel
where the libraries do not exist; this process has them loaded).
"""

import atexit
import contextlib
import functools
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from autograder import recorder
from autograder.feedback import (
    FORBIDDEN_LIBRARIES,
    LibraryWatch,
    library_references,
)
from trusted_grader import sandbox
from trusted_grader.batch.from_scratch import environment_set
from trusted_grader.judging.server import TIMINGS_FILE, LessonJudge

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


def grading_environment(inputs, answers):
    """The kernel's environment variables while it records answers."""
    return environment_set({"NBGRADER_EXECUTION": "autograde",
                            recorder.INPUTS_VARIABLE: str(inputs),
                            recorder.ANSWERS_VARIABLE: str(answers)})


def without_libraries(func):
    """`func`, failing as it would in the from-scratch kernel when it
    uses a library that kernel lacks (feedback.FORBIDDEN_LIBRARIES)."""
    found = library_references(func)

    @functools.wraps(func)
    def answer(*args, **kwargs):
        if found:
            _raise_blocked(found[0])
        watch = LibraryWatch()
        with watch:
            result = func(*args, **kwargs)
        if watch.found:
            _raise_blocked(watch.found)
        return result
    return answer


def _raise_blocked(found):
    """The ImportError of the blocked package behind `found`, a library
    use as feedback names it ("tf.nn.conv2d (TensorFlow)")."""
    package = next((name for name, library in
                    FORBIDDEN_LIBRARIES.items()
                    if library in found or found.startswith(name)),
                   "tensorflow")
    raise ImportError(sandbox.blocked_import_message(package))


def record_answers(judge, functions, answers):
    """Answer the judge's calls with `functions` ({exercise: func}); write
    each test cell's duration beside the answers folder."""
    checks = judge.checks
    timings = {}
    with grading_environment(judge.inputs, answers), \
            contextlib.redirect_stdout(open(os.devnull, "w")):
        for name, func in functions.items():
            if name in checks.FROM_SCRATCH and callable(func):
                func = without_libraries(func)
            for cell in (name, f"hidden_{name}"):
                started = time.perf_counter()
                getattr(checks, cell)(func)
                cell_id = cell if cell.startswith("hidden_") \
                    else f"test_{name}"
                timings[cell_id] = time.perf_counter() - started
    (Path(answers).parent / TIMINGS_FILE).write_text(
        json.dumps(timings), encoding="utf-8")


def judge_functions(lesson, functions, seed=0, library_findings=None):
    """{cell: result} for `functions` ({exercise: func}) of `lesson`."""
    judge = lesson_judge(lesson, seed, _inputs_root())
    with tempfile.TemporaryDirectory(prefix="unit-") as unit:
        answers = Path(unit) / "answers"
        answers.mkdir()
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
