"""Collect a check's calls before grading; replay recorded answers after.

The checks in `autograder.lessonNN` (visible) and
`trusted_grader.judging.hidden` (hidden) call a learner's function and compare
what it returns with the reference. To judge outside the kernel, the same check
code runs twice in a trusted process, with stand-ins for the learner's
function:

1. Before the kernel starts, with a `Collector`: it notes each call's
   arguments (the inputs the kernel will be given) and returns the
   reference's answer so that the check runs on as if all were right.
2. After the kernel has answered those calls, with a `Replay`: it finds
   the kernel's recorded answer by the call's arguments and returns it
   (or raises the recorded exception, or changes the arguments in place as
   the learner's function did), so that the check judges the recorded
   answer exactly as it would have judged the live one.

Calls are matched by a fingerprint of their arguments, so a check that
stops early, or takes another branch for a wrong answer, still finds the
answers of the calls it does make. The check code's random inputs come
from a seeded generator, so both runs make the same inputs.
"""

import builtins
import contextlib
import hashlib

import numpy as np

from autograder import answers
from autograder.feedback import CheckFailure, render_call
from cnn_course.messages import t

_collecting = False


@contextlib.contextmanager
def collection():
    """While collecting, checks may skip work that only judging needs."""
    global _collecting
    _collecting, previous = True, _collecting
    try:
        yield
    finally:
        _collecting = previous


def collecting():
    return _collecting


def _feed(digest, value, depth=0):
    if depth > answers.MAX_DEPTH + 2:
        digest.update(b"<deep>")
        return
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        array = np.ascontiguousarray(value)
        digest.update(f"A{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}{len(value)}[".encode())
        for item in value:
            _feed(digest, item, depth + 1)
        digest.update(b"]")
    elif isinstance(value, dict):
        digest.update(f"dict{len(value)}{{".encode())
        for key, item in value.items():
            _feed(digest, key, depth + 1)
            _feed(digest, item, depth + 1)
        digest.update(b"}")
    elif answers._is_keras_model(value):
        digest.update(b"model")
        for layer in value.layers:
            digest.update(type(layer).__name__.encode())
        for weights in value.get_weights():
            _feed(digest, np.asarray(weights), depth + 1)
    else:
        digest.update(f"{type(value).__name__}:{value!r}".encode())


def call_key(args, kwargs):
    """A fingerprint of a call's arguments."""
    digest = hashlib.sha256()
    _feed(digest, tuple(args))
    _feed(digest, dict(sorted(kwargs.items())))
    return digest.hexdigest()


class Collector:
    """Stands in for the learner's function while the calls are listed."""

    is_collector = True

    def __init__(self, reference_function, writer):
        self.reference_function = reference_function
        self.writer = writer
        self.keys, self.calls = [], []

    def __call__(self, *args, **kwargs):
        key = call_key(args, kwargs)
        if key not in self.keys:
            self.keys.append(key)
            self.calls.append({"args": self.writer.encode(list(args)),
                               "kwargs": self.writer.encode(dict(kwargs))})
        return self.reference_function(*args, **kwargs)

    def write(self, exercise):
        self.writer.write({"exercise": exercise, "calls": self.calls})


def blocked_library(recorded):
    """"tensorflow (TensorFlow)" if a recorded answer failed because a
    package blocked in the from-scratch kernel could not be imported
    (feedback.FORBIDDEN_LIBRARIES), else None.

    Only an answer's own error says so: a kernel that claims it falsely
    loses its own points, nothing more.
    """
    from autograder.feedback import FORBIDDEN_LIBRARIES
    from trusted_grader.sandbox import BLOCKED_MARK

    for answer in recorded if isinstance(recorded, list) else []:
        error = answer.get("error") if isinstance(answer, dict) else None
        if not isinstance(error, dict) or error.get("type") not in (
                "ImportError", "ModuleNotFoundError"):
            continue
        package, _, rest = str(error.get("message", "")).partition(" ")
        library = FORBIDDEN_LIBRARIES.get(package.split(".")[0])
        if library and rest.startswith(BLOCKED_MARK):
            return f"{package} ({library})"
    return None


def exception_class(name):
    """The builtin exception of that name, or a stand-in class named so."""
    found = getattr(builtins, str(name), None)
    if isinstance(found, type) and issubclass(found, Exception):
        return found
    safe = answers.unsupported(name).__class__.__name__
    return type(safe, (Exception,), {})


class Replay:
    """Stands in for the learner's function while its answers are judged.

    `record` is the kernel's answers file for one test cell (decoded JSON),
    `reader` decodes its values, `keys` are the fingerprints of the calls
    in the order the grader listed them. `seconds` is how long the whole
    test cell ran, measured by the grader outside the kernel (None if it
    was not measured).

    Nothing the kernel says about itself decides a point: the replay never
    reads the recorded durations, floating-point flags or library
    sightings. An answer that reports an in-place change of its arguments
    fails that call; the judge's own arrays (which may be shared by every
    submission in the run) are never written.
    """

    is_replay = True

    def __init__(self, name, record, reader, keys, seconds=None):
        self.__name__ = name
        self.record, self.reader = record, reader
        self.index = {key: number for number, key in enumerate(keys)}
        # From-scratch answers come from a kernel in which the libraries
        # do not exist: an answer that needed one failed to import it.
        self.library_use = blocked_library(record.get("answers", []))
        # No outside measurement: the call counts as too slow.
        self.last_seconds = float("inf") if seconds is None \
            else float(seconds)
        # Stability is judged by values, not by the kernel's flags.
        self.last_floating = []
        self.returned = []  # (arguments, value) of every replayed call

    def __call__(self, *args, **kwargs):
        number = self.index.get(call_key(args, kwargs))
        recorded = self.record.get("answers", [])
        if number is None or number >= len(recorded):
            raise CheckFailure(t(
                "{name}: no answer was recorded for this call "
                "(the test cell stopped before it, or an earlier call "
                "changed its inputs).", name=self.__name__))
        answer = recorded[number]
        if not isinstance(answer, dict):
            raise CheckFailure(t("the recorded answers are malformed"))
        mutated = answer.get("mutated")
        if mutated:
            raise CheckFailure(t(
                "{call} modified its input in place: leave the arguments "
                "unchanged and return a new array.",
                call=render_call(self.__name__, args, kwargs)))
        error = answer.get("error")
        if error:
            if not isinstance(error, dict):
                error = {"type": "Exception", "message": str(error)}
            raise exception_class(error.get("type"))(
                str(error.get("message", "")))
        value = self.reader.decode(answer.get("value"))
        self.returned.append((args, kwargs, value))
        return value

    def degenerate(self):
        """A message if every array it returned is trivial, else None.

        Trivial: a constant array (zeros included) or one of the call's
        own array arguments unchanged. Needs two or more array answers.
        """
        arrays = [(args, kwargs, value) for args, kwargs, value
                  in self.returned if isinstance(value, np.ndarray)
                  and value.size > 1]
        if len(arrays) < 2:
            return None
        kinds = set()
        for args, kwargs, value in arrays:
            inputs = [item for item in (*args, *kwargs.values())
                      if isinstance(item, np.ndarray)]
            if any(item.shape == value.shape and
                   np.array_equal(item, value) for item in inputs):
                kinds.add("its input unchanged")
            elif value.dtype.kind in "biuf" and \
                    np.all(value == value.flat[0]):
                kinds.add("zeros" if value.flat[0] == 0
                          else "a constant array")
            else:
                return None
        shown = t(" or ").join(_kind_text(kind) for kind in sorted(kinds))
        return t("{name} returned {kinds} for every input: no points for "
                 "this exercise.", name=self.__name__, kinds=shown)


def _kind_text(kind):
    """A kind of trivial answer, for the learner."""
    if kind == "zeros":
        return t("zeros")
    if kind == "a constant array":
        return t("a constant array")
    return t("its input unchanged")
