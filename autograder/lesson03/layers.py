"""Lesson 03, part 3, the layers: max_pool2d, conv2d_layer, flatten,
dense."""

import numpy as np

from autograder.feedback import (
    CheckFailure,
    close_array,
    compare_arrays,
    pool_arguments,
    quiet,
    raised,
    require_array,
    same_array,
    scratch_call,
)
from autograder.lesson03.common import POOL_SIZE, call_text, lesson, tolerances
from cnn_course.messages import t

# Captured at import, before any learner code runs.
_isin = np.isin


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


# ----------------------------------------------------------- max_pool2d ---

def _pool_call(max_pool2d, x, size, stride):
    """Call with the defaults left out where the case tests them."""
    kwargs = pool_arguments(size, stride, POOL_SIZE)
    return call_text("max_pool2d", x, **kwargs), scratch_call(
        max_pool2d, "max_pool2d", x, **kwargs)


@quiet
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

def conv_hint(name):
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


@quiet
def conv_problem(conv2d_layer, x, kernels, bias, want, variants):
    what = call_text("conv2d_layer", x, kernels, bias)
    arrays_before = [x.copy(), kernels.copy(), bias.copy()]
    try:
        got = require_array(scratch_call(
            conv2d_layer, "conv2d_layer", x, kernels, bias), what)
    except CheckFailure as failure:
        if raised(failure) is not None:
            return f"{failure.message}\n{_conv_layout()}"
        raise
    for array, before in zip((x, kernels, bias), arrays_before):
        if not same_array(array, before):
            return t("{what} modified its input; work on copies.",
                     what=what)
    atol, rtol = tolerances(x, kernels)
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
                hint = conv_hint(name)
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

@quiet
def flatten_problem(flatten, x, want):
    what = call_text("flatten", x)
    got = require_array(scratch_call(flatten, "flatten", x), what)
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

@quiet
def _dense_layout(W):  # noqa: N803 - the API's name
    inputs, outputs = W.shape
    return t("W has shape (n_in, n_out) in Keras' layout (here {shape}: "
             "{inputs} inputs, {outputs} outputs): compute x @ W + b, with "
             "no transpose.", shape=W.shape, inputs=inputs, outputs=outputs)


def dense_problem(dense, x, W, b, want):  # noqa: N803 - the API's name
    what = call_text("dense", x, W, b)
    try:
        got = require_array(scratch_call(dense, "dense", x, W, b), what)
    except CheckFailure as failure:
        # x @ W.T + b on a non-square W: a matmul shape error.
        error = raised(failure)
        if (type(error).__name__ == "ValueError"
                and W.ndim == 2 and x.shape[-1] == W.shape[0]):
            return f"{failure.message}\n{_dense_layout(W)}"
        raise
    atol, rtol = tolerances(x, W)
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
