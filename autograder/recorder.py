"""The kernel's part in grading: answer the grader's calls, score nothing.

When nbgrader autogrades, the grader (outside the kernel) has written the
inputs of every graded call to the folder named by `INPUTS_VARIABLE`. A
test cell then only calls the learner's function on those inputs and writes
what came back (values as data, see `autograder.answers`) to the folder
named by `ANSWERS_VARIABLE`. A trusted judge, in another process after the
kernel has ended, compares the answers with the reference and decides the
points. Nothing here knows an expected value or a point.

Outside grading, test cells run the visible checks as usual, and hidden
test cells say that they run when the instructor grades. Every declared
exercise's test-cell functions do this (`autograder.exercise`).
"""

import contextlib
import io
import os
import time
import warnings

import numpy as np

from autograder import answers
from autograder.feedback import (
    CheckFailure,
    FloatingWatch,
    LibraryWatch,
    library_references,
)
from cnn_course.messages import t

INPUTS_VARIABLE = "COURSE_GRADING_INPUTS"
ANSWERS_VARIABLE = "COURSE_GRADING_ANSWERS"
MAX_MESSAGE = 2000
# The grader writes a lesson's inputs while its kernels start; this file
# says they are complete. A test cell waits for it at most this long.
READY = "ready"
# ... and this one that the grader could not make them.
FAILED = "failed"
READY_WAIT_SECONDS = 300

# Captured at import, before any learner code runs.
_array_equal = np.array_equal


def recording():
    """True while nbgrader autogrades with the grader's inputs present."""
    return (os.environ.get("NBGRADER_EXECUTION") == "autograde"
            and bool(os.environ.get(INPUTS_VARIABLE))
            and bool(os.environ.get(ANSWERS_VARIABLE)))


def _load_model(path):
    from cnn_course import import_tensorflow

    keras = import_tensorflow()[1]
    with warnings.catch_warnings():
        # The saved optimizer state of the grader's probe models is unused.
        warnings.simplefilter("ignore")
        return keras.saving.load_model(path, safe_mode=True)


def _arrays_in(args, kwargs):
    """(position, array) for every array argument: "0", "1", "images"."""
    found = [(str(i), value) for i, value in enumerate(args)
             if isinstance(value, np.ndarray)]
    found += [(key, value) for key, value in kwargs.items()
              if isinstance(value, np.ndarray)]
    return found


def answer_call(func, args, kwargs, writer, from_scratch=False):
    """Call `func` once; what happened, as data for the judge."""
    before = [(where, array.copy()) for where, array in
              _arrays_in(args, kwargs)]
    library = None
    if from_scratch:
        found = library_references(func)
        library = found[0] if found else None
    watch = LibraryWatch() if from_scratch else contextlib.nullcontext()
    value, error = None, None
    # Which floating-point errors NumPy signalled (an np.exp that
    # overflowed even where the result came out right), as the visible
    # checks see them.
    floating = FloatingWatch()
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(), \
                contextlib.redirect_stderr(io.StringIO()), watch, floating:
            warnings.simplefilter("ignore")
            value = func(*args, **kwargs)
    except Exception as exception:
        error = {"type": answers._type_name(exception),
                 "message": str(exception)[:MAX_MESSAGE]}
    seconds = time.perf_counter() - start
    if from_scratch and library is None and watch.found:
        library = watch.found
    now = dict(_arrays_in(args, kwargs))
    mutated = {where: writer.encode(now[where])
               for where, old in before
               if where in now and not _unchanged(now[where], old)}
    return {"value": writer.encode(value), "error": error,
            "mutated": mutated, "library": library,
            "seconds": round(seconds, 6), "floating": floating.errors}


def _unchanged(now, old):
    return now.shape == old.shape and now.dtype == old.dtype and \
        _array_equal(now, old, equal_nan=now.dtype.kind == "f")


def wait_for_inputs(folder):
    deadline = time.monotonic() + READY_WAIT_SECONDS
    while not os.path.exists(os.path.join(folder, READY)):
        if os.path.exists(os.path.join(folder, FAILED)):
            raise CheckFailure(t("The grader could not prepare this "
                                 "notebook's inputs; ask your instructor."))
        if time.monotonic() > deadline:
            raise CheckFailure(t("The grader's inputs for this notebook "
                                 "did not arrive; ask your instructor."))
        time.sleep(0.1)


def record(cell, func, name, from_scratch=False):
    """Answer every call the grader listed for `cell`; write the answers."""
    wait_for_inputs(os.environ[INPUTS_VARIABLE])
    inputs = answers.Reader(os.environ[INPUTS_VARIABLE], cell,
                            load_model=_load_model)
    writer = answers.Writer(os.environ[ANSWERS_VARIABLE], cell)
    data = {"exercise": name, "callable": callable(func),
            "type": answers._type_name(func), "answers": [],
            "complete": False}
    try:
        if callable(func):
            for call in inputs.data["calls"]:
                args = inputs.decode(call["args"])
                kwargs = inputs.decode(call["kwargs"])
                data["answers"].append(
                    answer_call(func, args, kwargs, writer, from_scratch))
        data["complete"] = True
    finally:
        writer.write(data)
    print(t("{name}: {count} answers recorded; the grader "
            "scores them after the notebook has run.",
            name=name, count=len(data["answers"])))


def hidden_cell(name, scratch):
    """The hidden test cell's function of exercise `name`: when graded,
    it answers the grader's calls; else it says when hidden tests run."""
    def hidden(func, points=None):
        if recording():
            return record(f"hidden_{name}", func, name, scratch)
        if os.environ.get("NBGRADER_EXECUTION") == "autograde":
            # Plain `nbgrader autograde` would give this cell its points
            # for running without an error.
            raise CheckFailure(t(
                "Hidden tests of {name} are judged outside the notebook: "
                "grade with `python -m trusted_grader grade`, not plain "
                "`nbgrader autograde`.", name=name))
        print(t("Hidden tests of {name} run when your instructor grades "
                "this notebook.", name=name))
        return None
    hidden.__name__ = hidden.__qualname__ = f"hidden_{name}"
    hidden.__doc__ = (f"Hidden tests of {name}: when graded, answer the "
                      "grader's calls; the judge scores them.")
    return hidden
