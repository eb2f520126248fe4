"""Lesson 03, part 2, the activations: relu, sigmoid, softmax."""

import numpy as np

from autograder.feedback import (
    CheckFailure,
    FloatingWatch,
    close_array,
    compare_arrays,
    quiet,
    raised,
    replayed,
    require_array,
    same_array,
    scratch_call,
)
from autograder.lesson03.common import (
    call_text,
    first_nonfinite,
    lesson,
    tolerances,
)
from cnn_course.messages import t

# Captured at import, before any learner code runs.
_isclose = np.isclose


def softmax_wrong_axis(ref, z):
    """What softmax over the first (not the last) axis gives."""
    return ref.softmax(np.swapaxes(z, 0, -1)).swapaxes(0, -1)



def _called(func, name, x, want, what, atol, rtol, dtype="float",
            overflow=False):
    """Call an element-wise function; message about its result or None,
    plus the result (a plain ndarray) for hints, None when the function
    changed its input (that message needs no hint).

    With `overflow`, right values computed through a floating-point
    overflow fail too, but only in the learner's own kernel, where the
    overflow is measured here: a hint about the RuntimeWarning they see.
    The judge decides by values alone (what a kernel reports about its
    own floating-point flags earns or costs nothing), so a replayed
    answer is never failed for it."""
    before = x.copy()
    with FloatingWatch() as floating:
        got = require_array(scratch_call(func, name, x), what)
    if not same_array(x, before):
        return t("{what} modified its input; return a new array "
                 "instead.", what=what), None
    problem = compare_arrays(got, want, what, atol=atol, rtol=rtol,
                             dtype=dtype)
    if problem is None and overflow and not replayed(func) and \
            "overflow" in floating.errors:
        problem = _hidden_overflow(name, what)
    return problem, got



# ----------------------------------------------------------------- relu ---

@quiet
def relu_problem(relu, x, want):
    what = call_text("relu", x)
    problem, got = _called(relu, "relu", x, want, what, 0, 0)
    if problem is None or got is None:
        return problem
    hint = None
    if got.dtype == bool:
        hint = t("That is the mask x > 0: keep the positive values "
                 "themselves (np.maximum(x, 0)).")
    elif got.shape == x.shape:
        if close_array(got, x):
            hint = t("Negative values must become 0.")
        elif close_array(got, np.abs(x)):
            hint = t("Negative values must become 0, not positive.")
    return f"{problem}\n{hint}" if hint else problem


@lesson.exercise(parameters=("x",), problem=relu_problem,
                 from_scratch=True)
def relu():
    """Visible check of relu on fixed arrays of 1, 2 and 3 dimensions."""
    return t("relu: negatives become 0, positives stay, any shape, input "
             "untouched.")


# -------------------------------------------------------------- sigmoid ---

def _overflow_cure(name):
    """How to keep np.exp of `name` ("sigmoid" or "softmax") finite."""
    if name == "sigmoid":
        return t("Rearrange so that np.exp only sees numbers <= 0, e.g. "
                 "with np.exp(-np.abs(x)).")
    return t("Subtract each row's maximum first (keepdims=True): the "
             "result is the same, and np.exp then sees numbers <= 0.")


def _hidden_overflow(name, what):
    """Right values computed through an overflow (a RuntimeWarning the
    learner sees in the notebook): the exercise asks for none. `what`
    names the call, as in every message of a case."""
    if name == "sigmoid":
        text = t(
            "{what}: right values, but np.exp overflowed to inf on the way "
            "(NumPy's "
            "RuntimeWarning \"overflow encountered in exp\"): they come out "
            "right only because 1 / (1 + inf) is 0.\n"
            "np.exp(1000) is inf (in float64 anything above about 709 is), "
            "and the equivalent form np.exp(x) / (1 + np.exp(x)) gives inf "
            "/ inf = nan at x = 1000. np.where computes both of its "
            "branches, so an overflow in the branch it drops counts too.",
            what=what)
    else:
        text = t(
            "{what}: right values, but np.exp overflowed to inf on the way "
            "(NumPy's RuntimeWarning \"overflow encountered in exp\"); with "
            "other logits that inf gives inf / inf = nan.", what=what)
    return f"{text}\n{_overflow_cure(name)}"


def _overflow_hint(name, got, x):
    index = first_nonfinite(got)
    if index is None:
        return None
    value = x[index] if x.shape == got.shape else None
    at = t(" at input {value:g}", value=value) if value is not None else ""
    return t("{name} gave {got}{at}: np.exp overflowed (np.exp(1000) is "
             "inf, and inf/inf is nan). {cure}", name=name, got=got[index],
             at=at, cure=_overflow_cure(name))


@quiet
def sigmoid_problem(sigmoid, x, want, overflow=True):
    """Message for sigmoid(x), or None; `overflow` as in `_called` (the
    hidden tests judge values only)."""
    what = call_text("sigmoid", x)
    problem, got = _called(sigmoid, "sigmoid", x, want, what, 1e-7, 1e-6,
                           overflow=overflow)
    if problem is None or got is None or \
            _hidden_overflow("sigmoid", what) in problem:
        return problem
    if got.shape == want.shape:
        hint = _overflow_hint("sigmoid", got, x)
        if hint is None and close_array(got, 1 - want, 1e-7, 1e-6):
            hint = t("That is sigmoid(-x): sigmoid(x) = 1 / (1 + exp(-x)).")
        if hint:
            return f"{problem}\n{hint}"
    return problem


@lesson.exercise(parameters=("x",), problem=sigmoid_problem,
                 from_scratch=True)
def sigmoid():
    """Visible check of sigmoid, including inputs of +-1000."""
    return t("sigmoid: right values, finite and exact for +-1000.")


# -------------------------------------------------------------- softmax ---

@quiet
def softmax_problem(softmax, z, want, wrong_axis, overflow=True):
    """Message for softmax(z), or None; `overflow` as in `_called` (the
    hidden tests judge values only: a naive softmax gives nan there)."""
    what = call_text("softmax", z)
    try:
        problem, got = _called(softmax, "softmax", z, want, what, 1e-7,
                               1e-6, overflow=overflow)
    except CheckFailure as failure:
        if raised(failure) is not None and z.ndim == 1:
            hint = t("z may be one vector (1-D) or a batch: work along the "
                     "last axis (axis=-1).")
            return f"{failure.message}\n{hint}"
        raise
    if problem is None or got is None or \
            _hidden_overflow("softmax", what) in problem:
        return problem
    hint = None
    if got.shape == want.shape:
        hint = _global_max_hint(got, z) or _overflow_hint(
            "softmax", got, z) or _softmax_hint(got, z, wrong_axis)
    return f"{problem}\n{hint}" if hint else problem


def _global_max_hint(got, z):
    """Recognise one maximum subtracted for a whole batch (z - z.max()):
    in a row far below it every np.exp underflows to 0, and 0/0 is nan."""
    index = first_nonfinite(got)
    if index is None or z.ndim < 2:
        return None
    row = index[:-1]
    exponentials = np.exp(z - z.max())
    if (exponentials[row] != 0).any():
        return None
    global_max = exponentials / exponentials.sum(axis=-1, keepdims=True)
    atol, rtol = tolerances(z)
    if not _isclose(got, global_max, atol=atol, rtol=rtol,
                    equal_nan=True).all():
        return None
    place = ", ".join(str(i) for i in row)
    return t("Row z[{place}] (maximum {row_max:g}) lies far below the "
             "maximum of the whole array ({overall_max:g}), which was "
             "subtracted from every row: every np.exp(z - z.max()) in that "
             "row underflowed to 0, and 0/0 is nan. Subtract each row's own "
             "maximum: z.max(axis=-1, keepdims=True).", place=place,
             row_max=z[row].max(), overall_max=z.max())


def _softmax_hint(got, z, wrong_axis):
    """Recognise softmax over the wrong axis or without keepdims."""
    if z.ndim > 1:
        if wrong_axis is not None and close_array(got, wrong_axis):
            return t("Normalised over the wrong axis: each row (the last "
                     "axis) must sum to 1. Use axis=-1 with keepdims=True.")
        per_row = np.exp(z - z.max(axis=-1, keepdims=True))
        overall = np.exp(z - z.max())
        if z.shape[-1] == z.shape[-2] and (
                close_array(got, per_row / per_row.sum(axis=-1))
                or close_array(got, overall / overall.sum(axis=-1))):
            return t("Summed without keepdims=True, so row i was divided "
                     "by the sum of another row. Use keepdims=True.")
        if close_array(got, overall / overall.sum()):
            return t("Normalised over the whole array: each row (the last "
                     "axis) must sum to 1 on its own.")
    sums = got.sum(axis=-1)
    if not close_array(sums, np.ones_like(sums), 1e-6, 1e-6):
        return t("Each row (the last axis) must sum to 1.")
    return None


def softmax_expected(ref, case):
    """The reference's softmax, and over the wrong axis where there are
    two."""
    case["expected"] = [ref.softmax(z) for z in case["inputs"]]
    case["wrong_axis"] = [softmax_wrong_axis(ref, z) if z.ndim > 1 else None
                          for z in case["inputs"]]


@lesson.exercise(parameters=("z",), expected=softmax_expected,
                 problem=softmax_problem, from_scratch=True)
def softmax(softmax, case):
    """Visible check of softmax on vectors and batches, with +-1000."""
    for z, want, wrong_axis in zip(case["inputs"], case["expected"],
                                   case["wrong_axis"]):
        yield softmax_problem(softmax, z, want, wrong_axis)
    return t("softmax: along the last axis, rows sum to 1, finite and "
             "exact for +-1000.")
