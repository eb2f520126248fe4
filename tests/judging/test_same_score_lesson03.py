"""Lesson 03: same code, same score, whatever the seed; no points without
real work; numerical stability judged by values.

Issue 20, items 3 and 4 (and item 2's "stability by values"):

- The structure of every hidden case (shapes, dtypes, channel counts,
  kernel and pool sizes, strides, batch sizes, learning rates, steps) is
  fixed; only values come from the run's seed, drawn so that each known
  mistake shows (or does not) whatever they are. So the course's own
  wrong versions (imported from the check tests) and more realistic ones
  get the same hidden score *and* the same visible cell score under three
  seeds, and correct alternatives keep every point under each.
- A visible point needs a passing hidden case on inputs the kernel has
  never seen. A "lookup" submission that returns the answers of every
  input known in advance (the visible cases, the hidden tests' constants)
  and raises ValueError for anything else scores exactly 0.
- The judge decides stability by values, never by the floating-point
  flags a kernel reports. 1 / (1 + np.exp(-x)) overflows for x < -709.8
  but its values are right (0.0 where the true value is below 5.6e-309;
  0.5 * (1 + np.tanh(x / 2)), a correct alternative, is off wherever it
  is, and more): it keeps its points, wrapped in np.errstate or not. A
  naive softmax gives nan on large logits and loses points.
"""

import numpy as np
import pytest
from helpers import LESSON03, failure_of, judged
from test_lesson03_checks import (
    conv_channels_first,
    conv_einsum,
    conv_flipped,
    conv_loops,
    conv_swapped_channels,
    conv_transposed_hw,
    conv_window_sum,
    conv_with_relu,
    conv_without_bias,
    dense_1d_only,
    dense_always_transposed,
    dense_loops,
    dense_transposed,
    dense_without_bias,
    flatten_channels_first,
    flatten_fortran,
    flatten_keeps_batch_axis,
    flatten_loops,
    forward_from,
    pool_default_stride_one,
    pool_keeps_partial_windows,
    pool_loops,
    pool_mixes_channels,
    pool_vectorized,
    relu_abs,
    relu_in_place,
    relu_loop,
    relu_mask,
    relu_where,
    sigmoid_clipped,
    sigmoid_loop,
    sigmoid_of_minus_x,
    sigmoid_one_division,
    sigmoid_overflows,
    sigmoid_tanh,
    sigmoid_textbook,
    sigmoid_where_both_branches,
    softmax_axis0,
    softmax_axis1,
    softmax_global_max,
    softmax_loop,
    softmax_naive,
    softmax_no_keepdims,
    softmax_whole_array,
)
from test_lesson03_kernel_checks import (
    gradient_einsum,
    gradient_error_map,
    gradient_flipped,
    gradient_per_image,
    gradient_positions,
    gradient_sign,
    gradient_summed,
    gradient_twice,
    learn_flipped,
    learn_least_squares,
    learn_never_updates,
    learn_one_step_short,
    learn_reference_style,
    learn_uphill,
)

from autograder import lesson03 as check
from trusted_grader.judging import reference
from trusted_grader.judging.hidden import lesson03 as hidden_tests
from trusted_grader.judging.replay import call_key
from trusted_grader.judging.server import cell_points

LESSON = LESSON03
SEEDS = (4, 5, 6)
# The learner's learn_kernel calls the notebook's kernel_gradient; the
# ones built here call the given gradient function.
feature_maps = reference.load(LESSON).feature_maps


# ------------------------------------------- more realistic mistakes ---

def relu_leaky(x):
    return np.where(x > 0, x, 0.01 * x)


def relu_clipped_at_one(x):
    return np.clip(x, 0, 1)


def sigmoid_textbook_quiet(x):
    """The naive formula with NumPy's overflow warning switched off."""
    with np.errstate(all="ignore"):
        return 1 / (1 + np.exp(-x))


def sigmoid_overflows_quiet(x):
    with np.errstate(all="ignore"):
        return np.exp(x) / (1 + np.exp(x))


def sigmoid_tanh_without_half(x):
    return 0.5 * (1 + np.tanh(x))


def softmax_naive_quiet(z):
    with np.errstate(all="ignore"):
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)


def softmax_clipped(z):
    """Keeps np.exp finite by clipping the logits instead of shifting."""
    e = np.exp(np.clip(z, -500, 500))
    return e / e.sum(axis=-1, keepdims=True)


def pool_zero_start(x, size=2, stride=None):
    """Each window's maximum, starting from 0 instead of its first value:
    windows of negative values give 0."""
    return np.maximum(pool_loops(x, size, stride), 0)


def pool_ignores_stride(x, size=2, stride=None):
    return pool_loops(x, size, size)


def pool_average(x, size=2, stride=None):
    stride = stride or size
    rows = (x.shape[0] - size) // stride + 1
    cols = (x.shape[1] - size) // stride + 1
    out = np.zeros((rows, cols) + x.shape[2:])
    for r in range(rows):
        for c in range(cols):
            out[r, c] = x[r * stride:r * stride + size,
                          c * stride:c * stride + size].mean(axis=(0, 1))
    return out


def pool_square_output(x, size=2, stride=None):
    """Uses the number of rows for the columns too."""
    stride = stride or size
    rows = (x.shape[0] - size) // stride + 1
    out = np.zeros((rows, rows) + x.shape[2:])
    for r in range(rows):
        for c in range(rows):
            out[r, c] = x[r * stride:r * stride + size,
                          c * stride:c * stride + size].max(axis=(0, 1))
    return out


def conv_first_channel_only(x, kernels, bias):
    """Input channels not summed: only channel 0 counts."""
    return conv_loops(x[..., :1], kernels[:, :, :1], bias)


def flatten_rows_and_columns_swapped(x):
    if x.ndim == 3:
        return x.transpose(1, 0, 2).reshape(-1)
    return x.T.reshape(-1)


def dense_first_bias_only(x, W, b):  # noqa: N803
    return x @ W + b[0]


def gradient_transposed(images, targets, kernel):
    return gradient_einsum(images, targets, kernel).T


def descent(gradient, kernel_size, learning_rate, steps, images, targets):
    """Gradient descent from zeros with the given gradient function."""
    kernel = np.zeros((kernel_size, kernel_size))
    for _ in range(steps):
        kernel = kernel - learning_rate * gradient(images, targets, kernel)
    return kernel


def learn_ignores_kernel_size(images, targets, kernel_size=3,
                              learning_rate=0.003, steps=500):
    return descent(gradient_einsum, 3, learning_rate, steps, images,
                   targets)


def learn_ignores_steps(images, targets, kernel_size=3,
                        learning_rate=0.003, steps=500):
    return descent(gradient_einsum, kernel_size, learning_rate, 500,
                   images, targets)


def learn_ignores_learning_rate(images, targets, kernel_size=3,
                                learning_rate=0.003, steps=500):
    return descent(gradient_einsum, kernel_size, 0.003, steps, images,
                   targets)


def learner_with(gradient):
    """learn_kernel written right, on top of a wrong kernel_gradient."""
    def learn_kernel(images, targets, kernel_size=3, learning_rate=0.003,
                     steps=500):
        return descent(gradient, kernel_size, learning_rate, steps, images,
                       targets)
    learn_kernel.__name__ = f"learn_with_{gradient.__name__}"
    return learn_kernel


class Forward:
    """A cnn_forward assembled from pieces (reference ones unless given),
    built on first use: the reference solutions load TensorFlow."""

    def __init__(self, name, **pieces):
        self.__name__, self.pieces, self.built = name, pieces, None

    def __call__(self, image, weights):
        if self.built is None:
            ref = reference.load(LESSON)
            kwargs = {"conv": ref.conv2d_layer, "pool": ref.max_pool2d,
                      "flat": ref.flatten, "soft": ref.softmax,
                      "relu": ref.relu}
            kwargs.update({key: getattr(ref, value) if isinstance(
                value, str) else value for key, value in
                self.pieces.items()})
            self.built = forward_from(**kwargs)
        return self.built(image, weights)


def forward_weights_in_wrong_order(image, weights):
    W, b, kernels, conv_bias = weights  # noqa: N806 - the wrong order
    return REFERENCE_FORWARD(image, [kernels, conv_bias, W, b])


REFERENCE_FORWARD = Forward("reference")


def pool_stride_one(maps, size=2):
    return pool_loops(maps, size, 1)


# (exercise, student function)
MISTAKES = [
    ("relu", relu_in_place), ("relu", relu_mask), ("relu", relu_abs),
    ("relu", relu_leaky), ("relu", relu_clipped_at_one),
    ("sigmoid", sigmoid_overflows), ("sigmoid", sigmoid_overflows_quiet),
    ("sigmoid", sigmoid_of_minus_x), ("sigmoid", sigmoid_tanh_without_half),
    ("softmax", softmax_naive), ("softmax", softmax_naive_quiet),
    ("softmax", softmax_axis0), ("softmax", softmax_no_keepdims),
    ("softmax", softmax_whole_array), ("softmax", softmax_axis1),
    ("softmax", softmax_global_max), ("softmax", softmax_clipped),
    ("max_pool2d", pool_default_stride_one),
    ("max_pool2d", pool_mixes_channels),
    ("max_pool2d", pool_keeps_partial_windows),
    ("max_pool2d", pool_zero_start), ("max_pool2d", pool_ignores_stride),
    ("max_pool2d", pool_average), ("max_pool2d", pool_square_output),
    ("conv2d_layer", conv_transposed_hw),
    ("conv2d_layer", conv_swapped_channels),
    ("conv2d_layer", conv_flipped), ("conv2d_layer", conv_without_bias),
    ("conv2d_layer", conv_with_relu), ("conv2d_layer", conv_channels_first),
    ("conv2d_layer", conv_first_channel_only),
    ("flatten", flatten_channels_first), ("flatten", flatten_fortran),
    ("flatten", flatten_keeps_batch_axis),
    ("flatten", flatten_rows_and_columns_swapped),
    ("dense", dense_1d_only), ("dense", dense_transposed),
    ("dense", dense_always_transposed), ("dense", dense_without_bias),
    ("dense", dense_first_bias_only),
    ("cnn_forward", Forward("channels_first", flat=flatten_channels_first)),
    ("cnn_forward", Forward("transposed_hw", conv=conv_transposed_hw)),
    ("cnn_forward", Forward("flipped", conv=conv_flipped)),
    ("cnn_forward", Forward("naive_softmax", soft=softmax_naive)),
    ("cnn_forward", Forward("naive_softmax_quiet", soft=softmax_naive_quiet)),
    ("cnn_forward", Forward("no_relu", relu=None)),
    ("cnn_forward", Forward("logits", soft=None)),
    ("cnn_forward", Forward("sigmoid_output", soft="sigmoid")),
    ("cnn_forward", Forward("pool_stride_one", pool=pool_stride_one)),
    ("cnn_forward", forward_weights_in_wrong_order),
    ("kernel_gradient", gradient_sign), ("kernel_gradient", gradient_summed),
    ("kernel_gradient", gradient_flipped),
    ("kernel_gradient", gradient_positions),
    ("kernel_gradient", gradient_twice),
    ("kernel_gradient", gradient_error_map),
    ("kernel_gradient", gradient_transposed),
    ("learn_kernel", learn_uphill), ("learn_kernel", learn_never_updates),
    ("learn_kernel", learn_flipped), ("learn_kernel", learn_one_step_short),
    ("learn_kernel", learn_ignores_kernel_size),
    ("learn_kernel", learn_ignores_steps),
    ("learn_kernel", learn_ignores_learning_rate),
    ("learn_kernel", learner_with(gradient_summed)),
    ("learn_kernel", learner_with(gradient_positions)),
    ("learn_kernel", learner_with(gradient_flipped)),
]

# Not a mistake of learn_kernel: a right descent on a gradient twice too
# large (kernel_gradient loses its points for it) converges to the same
# kernel in fewer steps, never further from the true kernel.
SAME_SCORE = [("learn_kernel", learner_with(gradient_twice))]

# Correct alternatives, and answers whose values are right even though
# np.exp overflows on the way.
CORRECT = [
    ("relu", relu_loop), ("relu", relu_where),
    ("sigmoid", sigmoid_tanh), ("sigmoid", sigmoid_one_division),
    ("sigmoid", sigmoid_loop), ("sigmoid", sigmoid_clipped),
    ("sigmoid", sigmoid_textbook), ("sigmoid", sigmoid_textbook_quiet),
    ("sigmoid", sigmoid_where_both_branches),
    ("softmax", softmax_loop),
    ("max_pool2d", pool_loops), ("max_pool2d", pool_vectorized),
    ("conv2d_layer", conv_loops), ("conv2d_layer", conv_einsum),
    ("conv2d_layer", conv_window_sum),
    ("flatten", flatten_loops), ("flatten", np.ravel),
    ("dense", dense_loops),
    ("cnn_forward", Forward("loops", conv=conv_loops, pool=pool_loops,
                            flat=flatten_loops, soft=softmax_loop,
                            relu=relu_loop)),
    ("cnn_forward", Forward("vectorized", conv=conv_einsum,
                            pool=pool_vectorized)),
    ("kernel_gradient", gradient_einsum),
    ("kernel_gradient", gradient_per_image),
    ("learn_kernel", learn_reference_style),
    ("learn_kernel", learn_least_squares),
]


def _id(entry):
    name, func = entry
    return f"{name}-{func.__name__}"


def scores(name, func, seed):
    """(hidden points, visible cell points) the judge gives `func`."""
    results = judged(check, name, func, seed)
    return (results[f"hidden_{name}"]["score"],
            results[f"test_{name}"]["score"])


def maximum(name):
    points = cell_points(LESSON)
    return points[f"hidden_{name}"], points[f"test_{name}"]


# ------------------------------------------------ same code, same score ---

@pytest.mark.parametrize("entry", MISTAKES + SAME_SCORE, ids=_id)
def test_mistakes_score_the_same_under_every_seed(entry):
    name, func = entry
    by_seed = {seed: scores(name, func, seed) for seed in SEEDS}
    assert len(set(by_seed.values())) == 1, by_seed
    hidden, _ = by_seed[SEEDS[0]]
    if entry in MISTAKES:
        assert hidden < maximum(name)[0]  # the mistake costs points


@pytest.mark.parametrize("seed", SEEDS)
def test_correct_alternatives_keep_every_point(seed):
    got = {_id(entry): scores(*entry, seed) for entry in CORRECT}
    assert {key: value for key, value in got.items()
            if value != maximum(key.split("-")[0])} == {}


# ------------------------------------------ stability judged by values ---

def test_the_naive_sigmoid_keeps_its_points_wrapped_or_not():
    for seed in SEEDS:
        assert scores("sigmoid", sigmoid_textbook, seed) == scores(
            "sigmoid", sigmoid_textbook_quiet, seed) == maximum("sigmoid")
    # No line about an overflow: the kernel's floating-point record
    # neither earns nor costs a point.
    results = judged(check, "sigmoid", sigmoid_textbook, SEEDS[0])
    for cell in ("test_sigmoid", "hidden_sigmoid"):
        assert "overflow" not in results[cell]["output"]


def test_the_learner_still_hears_about_the_overflow():
    # In the learner's own kernel the visible check measures it: a hint.
    message = failure_of(check.sigmoid, sigmoid_textbook)
    assert "only because 1 / (1 + inf) is 0" in message


def test_a_naive_softmax_loses_points_by_value():
    for seed in SEEDS:
        naive = scores("softmax", softmax_naive, seed)
        assert naive == scores("softmax", softmax_naive_quiet, seed)
        hidden, visible = naive
        assert hidden < maximum("softmax")[0] and visible == 0
    output = judged(check, "softmax", softmax_naive_quiet, SEEDS[0])[
        "hidden_softmax"]["output"]
    assert "got nan" in output and "right values, but" not in output


def test_overflowing_sigmoid_forms_lose_points_by_value():
    for seed in SEEDS:
        wrapped = scores("sigmoid", sigmoid_overflows_quiet, seed)
        assert wrapped == scores("sigmoid", sigmoid_overflows, seed)
        assert wrapped == (0.5, 0.0)  # the extreme cases give nan


# ------------------------------------------------- points need real work ---

def lookup_of_known_inputs(name):
    """A function that answers only inputs known before grading: the
    visible cases (the reference's answers, recorded while the visible
    check runs here) and the hidden tests' constants; ValueError for
    anything else."""
    function = getattr(reference.load(LESSON), name)
    known = {}

    def remember(*args, **kwargs):
        answer = function(*args, **kwargs)
        known[call_key(args, kwargs)] = answer
        return answer

    getattr(check, name)(remember)
    for x in hidden_tests.KNOWN_INPUTS.get(name, []):
        remember(x)

    def lookup(*args, **kwargs):
        key = call_key(args, kwargs)
        if key not in known:
            raise ValueError("not a case I know")
        return known[key].copy()
    lookup.__name__ = name
    return lookup, len(known)


@pytest.mark.parametrize("name", check.EXERCISES)
def test_a_lookup_of_known_answers_scores_nothing(name, capsys):
    lookup, count = lookup_of_known_inputs(name)
    assert count >= 2
    getattr(check, name)(lookup)  # it fools the visible check
    assert "\u2714" in capsys.readouterr().out
    results = judged(check, name, lookup, SEEDS[0])
    assert results[f"hidden_{name}"]["score"] == 0.0
    assert results[f"test_{name}"]["score"] == 0.0
    assert "none of the hidden cases on fresh inputs" in \
        results[f"test_{name}"]["output"]


def test_constant_cases_earn_nothing_on_their_own():
    lookup, _ = lookup_of_known_inputs("sigmoid")
    output = judged(check, "sigmoid", lookup, SEEDS[0])["hidden_sigmoid"][
        "output"]
    # The two constant cases pass, and count for nothing.
    assert output.count("\u2714") == len(hidden_tests.KNOWN_INPUTS[
        "sigmoid"])
    assert "no case on fresh inputs passed" in output
