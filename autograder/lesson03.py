"""Checks for lesson 03: a CNN forward pass in NumPy that matches Keras.

Exercises: relu, sigmoid, softmax, max_pool2d, conv2d_layer, flatten, dense
and cnn_forward. The visible checks of the first seven compare with
expected values generated from the reference solutions
(``autograder/expected/03_cnn_from_scratch.json``). cnn_forward is checked
against Keras itself: the check builds the lesson's architecture
(Conv2D + ReLU -> MaxPooling2D(2) -> Flatten -> Dense + softmax) with seeded
random weights and compares with ``model.predict`` within 1e-5.

No TensorFlow or Keras in the learner's code
----------------------------------------------------------------------------
Every call of a learner's function goes through `_call`, which uses the two
independent detectors of `autograder.feedback` (see there for details):

1. `library_references` reads the function's bytecode before the call: the
   dotted names it loads (``tf.nn.conv2d``, ``model.predict``,
   ``keras.layers.Conv2D``), imports inside it, closures, following the
   notebook's own helper functions it calls (``cnn_forward`` ->
   ``conv2d_layer``). It names the culprit even in branches the test inputs
   never reach.
2. `LibraryWatch` runs the call under ``sys.setprofile`` and records the
   first Python or C function entered that belongs to TensorFlow, Keras,
   PyTorch, JAX, scipy.signal/ndimage, OpenCV or scikit-image, however it
   was reached (``__import__``, getattr, methods of objects passed in). It
   never raises into the learner's code, so a ``try/except`` there cannot
   swallow it.

Either way the check says so and a hidden check gives no points for it.
"""

import functools

import numpy as np

from autograder.exercise import Lesson
from autograder.feedback import (
    CheckFailure,
    FloatingWatch,
    close_array,
    compare_arrays,
    pool_arguments,
    quiet,
    raised,
    render_call,
    replayed,
    require_array,
    same_array,
    scratch_call,
)
from cnn_course.messages import t

lesson = Lesson("03_cnn_from_scratch", seed=303)
# Each exercise is declared once, in its own section below
# (`autograder.exercise`); EXERCISES, FROM_SCRATCH, hidden_<exercise>, ...
# come from the declarations (`Lesson.attribute`).
__getattr__ = lesson.attribute
FORWARD_TOLERANCE = 1e-5
POOL_SIZE = 2  # the lesson's MaxPooling2D((2, 2))

# Captured at import, before any learner code runs.
_isfinite = np.isfinite
_isin = np.isin
_isclose = np.isclose


# ------------------------------------------- no TensorFlow in the answer ---

# `_call` refuses answers that a library computes; `_raised` reads the
# learner's exception from a failure (both shared with lesson 05).
_call = scratch_call
_raised = raised


# ---------------------------------------------------------------- cases ---

@lesson.drawn_together
def inputs_drawn_together(rng):
    """The fixed inputs of the visible checks (expected values come
    later), drawn from one generator in this order."""

    def small(*shape):
        return rng.normal(size=shape).round(2)

    def integers(*shape):
        return rng.integers(-3, 4, size=shape).astype(np.float64)

    # Channel c of a pooling input holds values in [10c, 10c + 1), so a
    # value from another channel in the output is easy to recognise.
    channels = rng.random((6, 6, 3)).round(3) + 10.0 * np.arange(3)
    large = np.array([[1.0, 2, 3], [1000, 999, 0], [-1000, 0, 1000]])
    return {
        "relu": {"inputs": [np.linspace(-3, 3, 7), small(3, 4),
                            small(2, 3, 2)]},
        "sigmoid": {"inputs": [
            np.array([-1000.0, -40, -5, -1, 0, 1, 5, 40, 1000]),
            (10 * small(3, 4)).round(1)]},
        "softmax": {"inputs": [np.array([1.0, 2, 3, 4]),
                               np.array([1000.0, 999, 0, -1000]),
                               (3 * small(4, 4)).round(1),
                               np.stack([large, 2 * large[::-1]])]},
        "max_pool2d": {"cases": [
            {"x": rng.permutation(35).reshape(5, 7).astype(np.float64),
             "size": 2, "stride": None},
            {"x": channels, "size": 2, "stride": None},
            {"x": rng.permutation(42).reshape(7, 6).astype(np.float64),
             "size": 3, "stride": 2},
            {"x": channels[:4, :5, :2], "size": 2, "stride": 1},
            {"x": rng.permutation(36).reshape(6, 6).astype(np.float64),
             "size": 3, "stride": None},
        ]},
        "conv2d_layer": {"cases": [
            {"x": integers(5, 6, 2), "kernels": integers(3, 3, 2, 2),
             "bias": np.array([1.0, -2.0])},
            {"x": integers(4, 4, 1), "kernels": integers(2, 2, 1, 2),
             "bias": np.array([0.5, -1.0])},
            {"x": integers(6, 5, 3), "kernels": integers(2, 3, 3, 4),
             "bias": np.array([0.0, 1.0, 2.0, 3.0])},
        ]},
        "flatten": {"inputs": [np.arange(24.0).reshape(2, 3, 4),
                               small(3, 2, 2), small(4, 5)]},
        "dense": {"cases": [
            {"x": small(4), "W": small(4, 3), "b": small(3)},
            {"x": small(2, 4), "W": small(4, 3), "b": small(3)},
            {"x": small(3), "W": small(3, 3), "b": small(3)},
        ]},
        "cnn_forward": {"models": [
            {"seed": 31, "input_shape": [28, 28, 1], "kernel_size": [3, 3],
             "filters": 4, "classes": 10, "images": 2,
             "large_logits": False},
            {"seed": 32, "input_shape": [9, 11, 1], "kernel_size": [3, 3],
             "filters": 3, "classes": 4, "images": 2,
             "large_logits": False},
            {"seed": 33, "input_shape": [12, 12, 1], "kernel_size": [3, 3],
             "filters": 2, "classes": 5, "images": 1,
             "large_logits": True},
        ]},
        **kernel_inputs(np.random.default_rng(313)),
    }


def softmax_wrong_axis(ref, z):
    """What softmax over the first (not the last) axis gives."""
    return ref.softmax(np.swapaxes(z, 0, -1)).swapaxes(0, -1)


def conv_variants(ref, x, kernels, bias):
    """Outputs of likely mistakes, for recognising them."""
    variants = {"flipped": ref.conv2d_layer(x, kernels[::-1, ::-1], bias),
                "no_bias": ref.conv2d_layer(x, kernels,
                                            np.zeros_like(bias))}
    if kernels.shape[0] == kernels.shape[1]:
        variants["transposed_hw"] = ref.conv2d_layer(
            x, kernels.transpose(1, 0, 2, 3), bias)
    if kernels.shape[2] == kernels.shape[3]:
        variants["swapped_channels"] = ref.conv2d_layer(
            x, kernels.transpose(0, 1, 3, 2), bias)
    return variants


def _what(name, *args, **kwargs):
    return render_call(name, args, kwargs)


_quiet = quiet


def _tolerance(*arrays):
    """(atol, rtol) for comparing results computed in these dtypes."""
    if any(np.asarray(array).dtype == np.float32 for array in arrays):
        return 1e-4, 1e-4
    return 1e-6, 1e-6


def _first_nonfinite(array):
    """Index of the first nan/inf in a float array, or None."""
    if array.dtype.kind != "f":
        return None
    bad = np.argwhere(~_isfinite(array))
    return tuple(int(i) for i in bad[0]) if len(bad) else None


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
        got = require_array(_call(func, name, x), what)
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

@_quiet
def relu_problem(relu, x, want):
    what = _what("relu", x)
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
    index = _first_nonfinite(got)
    if index is None:
        return None
    value = x[index] if x.shape == got.shape else None
    at = t(" at input {value:g}", value=value) if value is not None else ""
    return t("{name} gave {got}{at}: np.exp overflowed (np.exp(1000) is "
             "inf, and inf/inf is nan). {cure}", name=name, got=got[index],
             at=at, cure=_overflow_cure(name))


@_quiet
def sigmoid_problem(sigmoid, x, want, overflow=True):
    """Message for sigmoid(x), or None; `overflow` as in `_called` (the
    hidden tests judge values only)."""
    what = _what("sigmoid", x)
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

@_quiet
def softmax_problem(softmax, z, want, wrong_axis, overflow=True):
    """Message for softmax(z), or None; `overflow` as in `_called` (the
    hidden tests judge values only: a naive softmax gives nan there)."""
    what = _what("softmax", z)
    try:
        problem, got = _called(softmax, "softmax", z, want, what, 1e-7,
                               1e-6, overflow=overflow)
    except CheckFailure as failure:
        if _raised(failure) is not None and z.ndim == 1:
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
    index = _first_nonfinite(got)
    if index is None or z.ndim < 2:
        return None
    row = index[:-1]
    exponentials = np.exp(z - z.max())
    if (exponentials[row] != 0).any():
        return None
    global_max = exponentials / exponentials.sum(axis=-1, keepdims=True)
    atol, rtol = _tolerance(z)
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


# ----------------------------------------------------------- max_pool2d ---

def _pool_call(max_pool2d, x, size, stride):
    """Call with the defaults left out where the case tests them."""
    kwargs = pool_arguments(size, stride, POOL_SIZE)
    return _what("max_pool2d", x, **kwargs), _call(
        max_pool2d, "max_pool2d", x, **kwargs)


@_quiet
def pool_problem(max_pool2d, x, size, stride, want, stride_one=None):
    before = x.copy()
    what, got = _pool_call(max_pool2d, x, size, stride)
    got = require_array(got, what)
    if not same_array(x, before):
        return t("{what} modified its input; return a new array instead.",
                 what=what)
    problem = compare_arrays(got, want, what, dtype="float")
    if problem is None:
        return None
    hint = _pool_hint(got, x, size, stride, want, stride_one)
    return f"{problem}\n{hint}" if hint else problem


def _pool_hint(got, x, size, stride, want, stride_one):
    step = size if stride is None else stride
    if stride_one is not None and close_array(got, stride_one):
        return t("Looks like stride 1: when stride is None the default "
                 "stride is size ({size}), as in Keras' MaxPooling2D.",
                 size=size)
    if stride is None and got.shape[:2] == (x.shape[0] - size + 1,
                                            x.shape[1] - size + 1):
        return t("The default stride is wrong: stride=None means stride = "
                 "size ({size}), so windows do not overlap.", size=size)
    ceil = tuple(-(-(n - size) // step) + 1 for n in x.shape[:2])
    if got.shape[:2] == ceil and ceil != want.shape[:2]:
        return t("Windows that do not fit are dropped (Keras' "
                 "padding='valid'): the output has (n - size) // stride + 1 "
                 "rows and columns.")
    if x.ndim == 3 and got.shape != want.shape:
        return t("Keep the channels separate and last: (H, W, C) pools to "
                 "(H', W', C), each channel on its own.")
    if x.ndim == 3 and got.shape == want.shape:
        for channel in range(x.shape[2]):
            foreign = ~_isin(got[..., channel], x[..., channel])
            if foreign.any():
                return t("Pooling mixes channels: output channel "
                         "{channel} holds values that occur only in other "
                         "input channels. Take each window's maximum over "
                         "rows and columns only (axis=(0, 1)), per "
                         "channel.", channel=channel)
    return None


def pool_expected(ref, data):
    """The reference's pooling, and with stride 1 where the default
    stride is tested."""
    for case in data["cases"]:
        case["expected"] = ref.max_pool2d(case["x"], case["size"],
                                          case["stride"])
        if case["stride"] is None:
            case["stride_one"] = ref.max_pool2d(case["x"], case["size"], 1)


@lesson.exercise(parameters=("x", "size", "stride"), expected=pool_expected,
                 problem=pool_problem, from_scratch=True)
def max_pool2d(max_pool2d, data):
    """Visible check of max_pool2d: sizes, strides, channels."""
    for case in data["cases"]:
        yield pool_problem(max_pool2d, case["x"], case["size"],
                           case["stride"], case["expected"],
                           case.get("stride_one"))
    return t("max_pool2d: stride defaults to size, windows that do not "
             "fit dropped, channels kept apart.")


# --------------------------------------------------------- conv2d_layer ---

def _conv_hint(name):
    """The hint for a likely conv2d_layer mistake (see `conv_variants`)."""
    return {
        "transposed_hw": t(
            "Looks like the kernels were read as (kw, kh, ...): kernels[i, "
            "j, c, f] multiplies x[row + i, col + j, c] (i down, j "
            "across)."),
        "swapped_channels": t(
            "Looks like the kernels were read as (kh, kw, C_out, C_in): "
            "Keras' layout is (kh, kw, C_in, C_out), so kernels[:, :, c, f] "
            "links input channel c to output channel f."),
        "flipped": t(
            "The kernel was flipped (a true convolution). Keras' Conv2D "
            "computes cross-correlation: no flip."),
        "no_bias": t("The bias is missing: add bias[f] to output channel "
                     "f."),
    }[name]


def _conv_layout():
    return t("Remember the shapes: x is (H, W, C_in), kernels is "
             "(kh, kw, C_in, C_out) (Keras' layout), bias is (C_out,).")


@_quiet
def conv_problem(conv2d_layer, x, kernels, bias, want, variants):
    what = _what("conv2d_layer", x, kernels, bias)
    arrays_before = [x.copy(), kernels.copy(), bias.copy()]
    try:
        got = require_array(
            _call(conv2d_layer, "conv2d_layer", x, kernels, bias), what)
    except CheckFailure as failure:
        if _raised(failure) is not None:
            return f"{failure.message}\n{_conv_layout()}"
        raise
    for array, before in zip((x, kernels, bias), arrays_before):
        if not same_array(array, before):
            return t("{what} modified its input; work on copies.",
                     what=what)
    atol, rtol = _tolerance(x, kernels)
    problem = compare_arrays(got, want, what, atol=atol, rtol=rtol,
                             dtype="float")
    if problem is None:
        return None
    height, width, c_out = want.shape
    hint = None
    if got.shape == (c_out, height, width):
        hint = t("Return channels last, (H - kh + 1, W - kw + 1, C_out), "
                 "as Keras does.")
    elif got.shape[:2] == x.shape[:2]:
        hint = t("No padding ('valid'): the output has H - kh + 1 rows and "
                 "W - kw + 1 columns.")
    elif got.shape == want.shape:
        for name, variant in variants.items():
            if variant is not None and close_array(got, variant):
                hint = _conv_hint(name)
                break
        else:
            if close_array(got, np.maximum(want, 0)):
                hint = t("No activation here: conv2d_layer returns the "
                         "linear output; ReLU is applied separately.")
    elif got.shape != want.shape:
        hint = _conv_layout()
    return f"{problem}\n{hint}" if hint else problem


def conv_expected(ref, data):
    for case in data["cases"]:
        case["expected"] = ref.conv2d_layer(case["x"], case["kernels"],
                                            case["bias"])
        case["variants"] = conv_variants(ref, case["x"], case["kernels"],
                                         case["bias"])


@lesson.exercise(parameters=("x", "kernels", "bias"), expected=conv_expected,
                 problem=conv_problem, from_scratch=True)
def conv2d_layer(conv2d_layer, data):
    """Visible check of conv2d_layer on small integer-valued inputs."""
    for case in data["cases"]:
        yield conv_problem(conv2d_layer, case["x"], case["kernels"],
                           case["bias"], case["expected"], case["variants"])
    return t("conv2d_layer: Keras kernel layout, valid, stride 1, bias "
             "per output channel, no activation.")


# -------------------------------------------------------------- flatten ---

@_quiet
def flatten_problem(flatten, x, want):
    what = _what("flatten", x)
    got = require_array(_call(flatten, "flatten", x), what)
    problem = compare_arrays(got, want, what)
    if problem is None:
        return None
    hint = None
    if got.size == want.size and got.ndim > 1:
        hint = t("Return a 1-D array: shape (H * W * C,), no batch axis.")
    elif got.shape == want.shape and x.ndim == 3 and same_array(
            got, x.transpose(2, 0, 1).reshape(-1)):
        hint = t("That is the channels-first order (all of channel 0, then "
                 "channel 1, ...). Keras' Flatten on channels-last input "
                 "walks the channel axis fastest: x[0, 0, 0], x[0, 0, 1], "
                 "...; that is x.reshape(-1).")
    elif got.shape == want.shape and same_array(got, x.ravel(order="F")):
        hint = t("That is column-major (Fortran) order; Keras' Flatten "
                 "uses row-major (C) order, x.reshape(-1).")
    return f"{problem}\n{hint}" if hint else problem


@lesson.exercise(parameters=("x",), problem=flatten_problem,
                 from_scratch=True)
def flatten():
    """Visible check of flatten: Keras' order for channels-last input."""
    return t("flatten: 1-D, in Keras' order for channels-last input.")


# ---------------------------------------------------------------- dense ---

@_quiet
def _dense_layout(W):  # noqa: N803 - the API's name
    inputs, outputs = W.shape
    return t("W has shape (n_in, n_out) in Keras' layout (here {shape}: "
             "{inputs} inputs, {outputs} outputs): compute x @ W + b, with "
             "no transpose.", shape=W.shape, inputs=inputs, outputs=outputs)


def dense_problem(dense, x, W, b, want):  # noqa: N803 - the API's name
    what = _what("dense", x, W, b)
    try:
        got = require_array(_call(dense, "dense", x, W, b), what)
    except CheckFailure as failure:
        # x @ W.T + b on a non-square W: a matmul shape error.
        error = _raised(failure)
        if (type(error).__name__ == "ValueError"
                and W.ndim == 2 and x.shape[-1] == W.shape[0]):
            return f"{failure.message}\n{_dense_layout(W)}"
        raise
    atol, rtol = _tolerance(x, W)
    problem = compare_arrays(got, want, what, atol=atol, rtol=rtol,
                             dtype="float")
    if problem is None:
        return None
    hint = None
    if got.shape == want.shape:
        if W.shape[0] == W.shape[1] and close_array(got, x @ W.T + b):
            hint = t("Looks like x @ W.T + b. {layout}",
                     layout=_dense_layout(W))
        elif close_array(got, x @ W):
            hint = t("The bias b is missing.")
    elif x.ndim == 2 and got.ndim == 1:
        hint = t("A batch (batch, n) gives a batch of outputs (batch, m).")
    return f"{problem}\n{hint}" if hint else problem


@lesson.exercise(parameters=("x", "W", "b"), problem=dense_problem,
                 from_scratch=True)
def dense():
    """Visible check of dense for one vector and a batch."""
    return t("dense: x @ W + b for one vector and for a batch.")


# ---------------------------------------------------------- cnn_forward ---

@functools.lru_cache(maxsize=16)
def _keras_model(input_shape, kernel_size, filters, classes,
                 conv_activation="relu", output_activation="softmax"):
    """The lesson's architecture (cached; weights are set per case)."""
    from cnn_course import import_tensorflow

    _, keras = import_tensorflow()
    return keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv2D(filters, kernel_size,
                            activation=conv_activation),
        keras.layers.MaxPooling2D(pool_size=(POOL_SIZE, POOL_SIZE)),
        keras.layers.Flatten(),
        keras.layers.Dense(classes, activation=output_activation),
    ])


def _pooled_shape(input_shape, kernel_size):
    return tuple((n - k + 1) // POOL_SIZE
                 for n, k in zip(input_shape[:2], kernel_size))


def random_forward_case(rng, input_shape, kernel_size, filters, classes,
                        images=2, large_logits=False,
                        negative_filter=False, weight_scale=2.0):
    """Seeded random float32 weights and images for the lesson's model.

    With `negative_filter`, filter 0's bias outweighs any sum of its
    weights times pixels (pixels are in [0, 1)): its outputs are all
    below -0.5, so a forward pass without ReLU always differs. The Dense
    weights have standard deviation weight_scale / sqrt(features): a
    small scale keeps the probabilities away from 0 and 1, where a
    mistake in the layers before would hardly change them."""
    kh, kw = kernel_size
    channels = input_shape[2]
    pooled = int(np.prod(_pooled_shape(input_shape, kernel_size)))
    features = pooled * filters
    kernels = rng.normal(0, 0.6, (kh, kw, channels, filters))
    conv_bias = rng.normal(0, 0.2, filters)
    if negative_filter:
        conv_bias[0] = -(np.abs(kernels[..., 0]).sum()
                         + rng.uniform(0.5, 1.5))
    W = rng.normal(0, weight_scale / np.sqrt(features),  # noqa: N806
                   (features, classes))
    b = rng.normal(0, 0.2, classes)
    if large_logits:
        # Logits about 2000 / classes apart, up to +-1000: exact 0s and a 1,
        # and np.exp overflows unless softmax subtracts the maximum.
        b = rng.permutation(np.linspace(-1000, 1000, classes))
    weights = [w.astype(np.float32) for w in (kernels, conv_bias, W, b)]
    pixels = rng.random((images, *input_shape))
    pixels[pixels < 0.5] = 0.0  # dark background, like MNIST
    return weights, pixels.astype(np.float32)


def keras_predict(architecture, weights, images, **activations):
    """model.predict of the lesson's architecture with these weights."""
    from cnn_course import import_tensorflow

    tf, _ = import_tensorflow()
    model = _keras_model(*architecture, **activations)
    model.set_weights(weights)
    # Each new architecture traces predict once; after five, TensorFlow
    # logs a retracing warning that says nothing about the learner's code.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        return model.predict(images, verbose=0)
    finally:
        logger.setLevel(level)


def _forward_variants(architecture, weights, image):
    """What likely mistakes give, computed by Keras: name -> probs."""
    kernels, conv_bias, W, b = weights  # noqa: N806
    input_shape, kernel_size, filters, classes = architecture
    height, width = _pooled_shape(input_shape, kernel_size)
    batch = image[None]
    variants = {}
    channels_first = W.reshape(filters, height, width, classes).transpose(
        1, 2, 0, 3).reshape(W.shape)
    variants["channels_first"] = keras_predict(
        architecture, [kernels, conv_bias, channels_first, b], batch)[0]
    if kernel_size[0] == kernel_size[1]:
        variants["transposed_hw"] = keras_predict(
            architecture, [kernels.transpose(1, 0, 2, 3), conv_bias, W, b],
            batch)[0]
    variants["flipped"] = keras_predict(
        architecture, [kernels[::-1, ::-1].copy(), conv_bias, W, b],
        batch)[0]
    variants["no_relu"] = keras_predict(architecture, weights, batch,
                                        conv_activation=None)[0]
    logits = keras_predict(architecture, weights, batch,
                           output_activation=None)[0].astype(np.float64)
    variants["logits"] = logits
    variants["sigmoid"] = 1 / (1 + np.exp(-np.clip(logits, -500, 500)))
    return variants


def _forward_hint(name):
    """The hint for a likely cnn_forward mistake (see `_forward_variants`).
    """
    if name in ("transposed_hw", "flipped"):
        return _conv_hint(name)
    return {
        "channels_first": t(
            "Looks like flatten in channels-first order: Keras' Flatten on "
            "(H, W, C) walks the channel axis fastest (x.reshape(-1)), and "
            "the Dense weights W expect that order."),
        "no_relu": t("ReLU is missing after the convolution."),
        "logits": t("Those are the logits: apply softmax to get "
                    "probabilities that sum to 1."),
        "sigmoid": t("That is sigmoid of the logits; the model's last layer "
                     "uses softmax (probabilities over the classes sum to "
                     "1)."),
    }[name]


@_quiet
def forward_problem(cnn_forward, architecture, weights, image, want):
    what = _what("cnn_forward", image, list(weights))
    try:
        got = require_array(
            _call(cnn_forward, "cnn_forward", image, list(weights)), what)
    except CheckFailure as failure:
        if _raised(failure) is not None:
            features = weights[2].shape[0]
            hint = t("weights is [kernels (kh, kw, C_in, filters), conv "
                     "bias, W ({features}, classes), b]: conv2d_layer -> "
                     "relu -> max_pool2d(size 2) -> flatten must give "
                     "{features} numbers for dense.", features=features)
            return f"{failure.message}\n{hint}"
        raise
    if got.shape == (1, *want.shape):
        return t("{what}: shape {got}, expected {want}.\nReturn the "
                 "probabilities of one image, without a batch axis.",
                 what=what, got=got.shape, want=want.shape)
    problem = compare_arrays(got, want.astype(np.float64), what,
                             atol=FORWARD_TOLERANCE, dtype="float")
    if problem is None:
        return None
    hint = None
    if got.shape == want.shape:
        index = _first_nonfinite(got)
        if index is not None:
            hint = t("Got {value}: softmax overflowed on large logits "
                     "(Keras subtracts the maximum logit first).",
                     value=got[index])
        else:
            variants = _forward_variants(architecture, weights, image)
            for name, variant in variants.items():
                if close_array(got, variant, FORWARD_TOLERANCE, 0):
                    hint = _forward_hint(name)
                    break
    return f"{problem}\n{hint}" if hint else problem


def _architecture(config):
    return (tuple(config["input_shape"]), tuple(config["kernel_size"]),
            config["filters"], config["classes"])


def forward_cases(cnn_forward, config, rng):
    """(label, run) of each image of a model built from `config`:
    `run()` compares cnn_forward with model.predict (a message or
    None)."""
    architecture = _architecture(config)
    weights, images = random_forward_case(
        rng, *architecture, images=config["images"],
        large_logits=config["large_logits"],
        negative_filter=config.get("negative_filter", False),
        weight_scale=config.get("weight_scale", 2.0))
    wants = keras_predict(architecture, weights, images)
    input_shape, kernel_size, filters, classes = architecture
    cases = []
    for number, (image, want) in enumerate(zip(images, wants)):
        def run(image=image, want=want):
            return forward_problem(cnn_forward, architecture, weights,
                                   image, want)
        label = t("image {number}, input {shape}, {filters} filters "
                  "{kernel_size}, {classes} classes", number=number + 1,
                  shape=input_shape, filters=filters,
                  kernel_size=kernel_size, classes=classes) + (
            t(", large logits") if config["large_logits"] else "")
        cases.append((label, run))
    return cases


def forward_expected(ref, data):
    """Nothing: Keras' model.predict is the expected value."""
    del ref, data


@lesson.exercise(parameters=("image", "weights"), expected=forward_expected,
                 problem=forward_problem, from_scratch=True)
def cnn_forward(cnn_forward, data):
    """Visible check: equals model.predict of the lesson's architecture
    with seeded random weights, within 1e-5."""
    for config in data["models"]:
        for _, run in forward_cases(cnn_forward, config,
                                    np.random.default_rng(config["seed"])):
            yield run()
    return t("cnn_forward: equals model.predict within {tolerance:g} on "
             "random models, large logits included.",
             tolerance=FORWARD_TOLERANCE)


# ------------------------------------------ kernel_gradient, learn_kernel ---

def kernel_inputs(rng):
    """Inputs of the visible kernel_gradient and learn_kernel cases.

    Kernels are not symmetric (a flipped gradient shows) and batches have
    more than one image (a gradient not averaged over them shows). Pixels
    are centred on 0, so that gradient descent converges in few steps.
    """
    def problem(count, height, width, kernel_shape):
        images = rng.uniform(-1, 1, (count, height, width)).round(3)
        true_kernel = rng.uniform(-1, 1, kernel_shape).round(2)
        return images, true_kernel

    gradient_cases = []
    for count, height, width, kernel_shape in ((3, 7, 6, (3, 3)),
                                               (2, 5, 8, (2, 3)),
                                               (4, 6, 6, (3, 3))):
        images, true_kernel = problem(count, height, width, kernel_shape)
        gradient_cases.append({
            "images": images, "true_kernel": true_kernel,
            "kernel": rng.uniform(-1, 1, kernel_shape).round(2)})
    learn_cases = []
    for count, size, kernel_size, learning_rate, steps in (
            (4, 8, 3, 0.05, 100), (3, 7, 2, 0.05, 20)):
        images, true_kernel = problem(count, size, size,
                                      (kernel_size, kernel_size))
        learn_cases.append({"images": images, "true_kernel": true_kernel,
                            "kernel_size": kernel_size,
                            "learning_rate": learning_rate,
                            "steps": steps})
    return {"kernel_gradient": {"cases": gradient_cases},
            "learn_kernel": {"cases": learn_cases}}


def _with_targets(ref, case):
    """A case with the feature maps its true kernel makes (the targets)."""
    case["targets"] = ref.feature_maps(case["images"], case["true_kernel"])
    return case


def _gradient_mistake(name, count):
    """The hint for a likely kernel_gradient mistake, `count` images."""
    return {
        "sign": t("That is minus the gradient: the error is prediction - "
                  "target, feature_maps(images, kernel) - targets. With "
                  "target - prediction every step of gradient descent goes "
                  "uphill."),
        "batch_sum": t("That is {count} times the gradient: the loss "
                       "averages over the N = {count} images, so divide the "
                       "sum by len(images).", count=count),
        "positions": t("Divided by the number of output positions too: the "
                       "loss sums over positions and averages over the "
                       "images only."),
        "flipped": t("The gradient is flipped (turned by 180 degrees): "
                     "gradient[i, j] pairs error[n, r, c] with images[n, r "
                     "+ i, c + j], the pixel that kernel[i, j] multiplied."),
        "twice": t("Twice the gradient: the loss has a factor 1/2 that "
                   "cancels the 2 from differentiating the square."),
        "half": t("Half the gradient: dividing by 2N keeps the loss's 1/2, "
                  "but differentiating the square gives a 2 that cancels "
                  "it. Divide the sum by N = len(images)."),
        "transposed": t("The gradient is transposed: gradient[i, j] "
                        "belongs to kernel[i, j], which multiplies "
                        "images[n, r + i, c + j] (i rows down, j columns "
                        "across)."),
        "targets_as_error": t("That is the gradient with the targets in "
                              "place of the error: the error is "
                              "feature_maps(images, kernel) - targets, the "
                              "prediction minus the target."),
        "prediction_as_error": t("That is the gradient with the prediction "
                                 "in place of the error: subtract the "
                                 "targets, error = feature_maps(images, "
                                 "kernel) - targets."),
    }[name]


def gradient_variants(ref, images, targets, kernel):
    """What kernel_gradient gives with the targets, or the prediction, in
    place of the error, from the reference `ref`."""
    return {
        "targets_as_error": -ref.kernel_gradient(
            images, targets, np.zeros(kernel.shape, dtype=kernel.dtype)),
        "prediction_as_error": ref.kernel_gradient(
            images, np.zeros_like(targets), kernel),
    }


def _gradient_hint(got, want, count, positions, variants=None):
    """Name the mistake whose result `got` is, or None. `variants` as
    `gradient_variants` gives them, where they are known."""
    candidates = {"sign": -want, "batch_sum": count * want,
                  "positions": want / positions, "flipped": want[::-1, ::-1],
                  "twice": 2 * want, "half": want / 2, "transposed": want.T,
                  **(variants or {})}
    for name, variant in candidates.items():
        variant = np.asarray(variant, dtype=np.float64)
        if variant.shape != got.shape:
            continue
        scale = max(1.0, float(np.abs(want).max()),
                    float(np.abs(variant).max()))
        atol, rtol = 1e-6 * scale, 1e-6
        if variant.shape == want.shape and close_array(variant, want, atol,
                                                       rtol):
            continue  # this mistake gives the right answer here
        if close_array(got, variant, atol, rtol):
            return _gradient_mistake(name, count)
    return None


@_quiet
def gradient_problem(kernel_gradient, images, targets, kernel, want,
                      variants=None):
    """Message for what kernel_gradient got wrong on one case, or None;
    `variants` as `gradient_variants` gives them (for hints)."""
    what = _what("kernel_gradient", images, targets, kernel)
    before = [images.copy(), targets.copy(), kernel.copy()]
    got = require_array(_call(kernel_gradient, "kernel_gradient", images,
                              targets, kernel), what)
    if not all(same_array(now, old) for now, old in
               zip((images, targets, kernel), before)):
        return t("{what} modified its input; return a new array instead.",
                 what=what)
    if got.shape != want.shape and got.shape in (targets.shape,
                                                 targets.shape[1:]):
        return t("{what}: shape {got}, expected {want}.\nThat is the shape "
                 "of the error maps; the gradient has one number per kernel "
                 "weight: sum each weight's products over the images and "
                 "positions.", what=what, got=got.shape, want=want.shape)
    problem = compare_arrays(got, want, what, dtype="float",
                             atol=1e-6 * max(1.0, float(np.abs(want).max())),
                             rtol=1e-6)
    if problem is None:
        return None
    hint = None
    if got.ndim == 2 and got.dtype.kind == "f":
        hint = _gradient_hint(got, want, len(images),
                              targets.shape[1] * targets.shape[2],
                              variants)
    return f"{problem}\n{hint}" if hint else problem


def gradient_expected(ref, data):
    for case in data["cases"]:
        _with_targets(ref, case)
        case["expected"] = ref.kernel_gradient(case["images"],
                                               case["targets"],
                                               case["kernel"])
        case["variants"] = gradient_variants(ref, case["images"],
                                             case["targets"], case["kernel"])


@lesson.exercise(parameters=("images", "targets", "kernel"),
                 expected=gradient_expected, problem=gradient_problem,
                 from_scratch=True)
def kernel_gradient(kernel_gradient, data):
    """Visible check of kernel_gradient against the reference."""
    for case in data["cases"]:
        yield gradient_problem(kernel_gradient, case["images"],
                               case["targets"], case["kernel"],
                               case["expected"], case["variants"])
    return t("kernel_gradient: the error is prediction - target, each "
             "weight paired with the pixels it multiplied, averaged over the "
             "images.")


@_quiet
def learn_problem(learn_kernel, case, want):
    """Message for what learn_kernel got wrong on one case, or None."""
    images, targets = case["images"], case["targets"]
    settings = {"kernel_size": case["kernel_size"],
                "learning_rate": case["learning_rate"],
                "steps": case["steps"]}
    what = _what("learn_kernel", images, targets, **settings)
    before = [images.copy(), targets.copy()]
    size = case["kernel_size"]
    try:
        got = require_array(_call(learn_kernel, "learn_kernel", images,
                                  targets, **settings), what)
    except CheckFailure as failure:
        if _raised(failure) is None or size == 3:
            raise
        return f"{failure.message}\n{_kernel_size_hint(size)}"
    if not all(same_array(now, old) for now, old in
               zip((images, targets), before)):
        return t("{what} modified its input; return a new array instead.",
                 what=what)
    true_kernel = case["true_kernel"]
    if got.shape == want.shape and got.dtype.kind == "f" and bool(
            _isfinite(got).all()):
        # A correct alternative (another solver, another start) may differ
        # from the reference's descent, but it is no further from the truth.
        reference_error = float(np.abs(want - true_kernel).max())
        if float(np.abs(got - true_kernel).max()) <= max(
                1.5 * reference_error, 1e-6):
            return None
    problem = compare_arrays(got, want, what, dtype="float",
                             atol=1e-6, rtol=1e-5)
    if problem is None:
        return None
    hint = None
    if got.shape == (3, 3) and want.shape != (3, 3):
        hint = _kernel_size_hint(size)
    elif got.shape == want.shape and got.dtype.kind == "f":
        largest = float(np.abs(got).max()) if got.size else 0.0
        if not bool(_isfinite(got).all()) or largest > 1e3 * max(
                1.0, float(np.abs(want).max())):
            hint = t("The kernel grew without bound ({largest}): gradient "
                     "descent went uphill. Subtract the gradient (kernel -= "
                     "learning_rate * gradient), and check that "
                     "kernel_gradient passes its check: a wrong sign, or a "
                     "gradient N times too large, makes the steps "
                     "overshoot.", largest=t("largest |weight| {value:.3g}",
                                             value=largest))
        elif not got.any():
            hint = t("The kernel is still all zeros: update it at every step "
                     "with kernel = kernel - learning_rate * "
                     "kernel_gradient(images, targets, kernel).")
        elif close_array(got[::-1, ::-1], want, 1e-4, 1e-4):
            hint = t("That is the learned kernel flipped by 180 degrees: "
                     "gradient descent learns the kernel that "
                     "feature_maps(images, kernel) uses, with no flip.")
        else:
            hint = t("Start from np.zeros((kernel_size, kernel_size)) and "
                     "take exactly `steps` steps of kernel -= learning_rate "
                     "* kernel_gradient(images, targets, kernel).")
    return f"{problem}\n{hint}" if hint else problem


def _kernel_size_hint(size):
    return t("kernel_size is {size} here: start from "
             "np.zeros((kernel_size, kernel_size)), not from a 3x3 kernel; "
             "a {size}x{size} kernel makes feature maps of (N, H - {size} "
             "+ 1, W - {size} + 1), the targets' shape.", size=size)


def learn_expected(ref, data):
    for case in data["cases"]:
        _with_targets(ref, case)
        case["expected"] = ref.learn_kernel(
            case["images"], case["targets"], case["kernel_size"],
            case["learning_rate"], case["steps"])


@lesson.exercise(parameters=("images", "targets", "kernel_size",
                             "learning_rate", "steps"),
                 expected=learn_expected, problem=learn_problem,
                 from_scratch=True)
def learn_kernel(learn_kernel, data):
    """Visible check of learn_kernel: the kernel gradient descent finds."""
    for case in data["cases"]:
        yield learn_problem(learn_kernel, case, case["expected"])
    return t("learn_kernel: gradient descent from zeros recovers the "
             "kernel that made the feature maps.")
