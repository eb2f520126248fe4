"""The from-scratch exercises' answers, from a kernel without libraries.

Lessons 02, 03 and 05 ask for convolutions, pooling, activations and
their gradients written with NumPy alone. Whether a function used
TensorFlow, Keras, SciPy, PyTorch or JAX is not asked of the student's
kernel (whose code can hide any call from any detector inside it): the
notebook of such a lesson runs in a kernel confined like the others but
in which those packages do not exist (`feedback.FORBIDDEN_LIBRARIES`:
each is covered by a package whose import raises ImportError), so its
answers come from that kernel only.

Every exercise of those lessons is from scratch, so nbgrader's one run is
the library-free one and answers every test cell (`library_free`). A
demonstration cell the learner changed to use TensorFlow then shows the
ImportError in the feedback; no point depends on it. A lesson that mixed
from-scratch exercises with others would need a second run for them;
none does, and `library_free` refuses one.

Each test cell of the library-free run is timed by the grader, outside
the kernel (`demo_cells.GradingExecute.timings_file`); the judge reads
those durations (`server.TIMINGS_FILE`) for the speed cases, never the
kernel's own clock.
"""

import contextlib
import json
import os
from pathlib import Path


def exercises_of(lesson):
    """The lesson's from-scratch exercises (autograder's FROM_SCRATCH)."""
    from autograder.expected import module_for

    return tuple(module_for(lesson).FROM_SCRATCH)


def library_free(lesson):
    """Whether `lesson`'s notebook runs in the kernel without the
    libraries: it does when its exercises are from scratch, which are
    then all of them. Raises ValueError for a lesson that mixes them
    with exercises that may use the libraries."""
    from autograder.expected import module_for

    module = module_for(lesson)
    scratch, others = set(module.FROM_SCRATCH), \
        set(module.EXERCISES) - set(module.FROM_SCRATCH)
    if scratch and others:
        raise ValueError(
            f"{lesson} mixes from-scratch exercises with others "
            f"({', '.join(sorted(others))}): its notebook runs in one "
            "kernel, with or without the libraries. Declare them all "
            "from scratch or none.")
    return bool(scratch)


def timings_path(root):
    """Where the library-free run's test-cell durations go: beside the
    answers folder, out of the kernel's reach."""
    from trusted_grader.judging.server import TIMINGS_FILE

    return Path(root) / TIMINGS_FILE


def timings(root):
    """{grade_id: seconds} the library-free run wrote, {} if none."""
    path = timings_path(root)
    return json.loads(path.read_text(encoding="utf-8")) \
        if path.is_file() else {}


@contextlib.contextmanager
def environment_set(values):
    """os.environ with `values` set while the block runs, then as it was."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
