"""Lesson 03's checks fail on realistic mistakes and pass correct variants."""

import math

import numpy as np
import pytest
from helpers import failure_of, hidden_points, judged
from numpy.lib.stride_tricks import sliding_window_view

from autograder import lesson03 as check
from autograder.feedback import library_references

hidden = hidden_points(check)


def as_shown(message):
    """A check's message as the judge's feedback shows it (indented)."""
    return "\n  ".join(message.splitlines())

LESSON = check.LESSON






# ---------------------------------------------------------- activations ---

def relu_loop(x):
    out = np.array(x, dtype=float)
    flat = out.reshape(-1)
    for index in range(flat.size):
        if flat[index] < 0:
            flat[index] = 0.0
    return out


def relu_where(x):
    return np.where(x > 0, x, 0.0)


def relu_in_place(x):
    x[x < 0] = 0
    return x


def relu_mask(x):
    return x > 0


def relu_abs(x):
    return np.abs(x)


def test_relu_passes_correct_variants(ref, capsys):
    for student in (ref.relu, relu_loop, relu_where):
        check.relu(student)
    assert "\u2714 relu" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (relu_in_place, "modified its input"),
    (relu_mask, "dtype bool, expected a float dtype"),
    (relu_abs, "not positive"),
])
def test_relu_names_the_mistake(student, clue):
    assert clue in failure_of(check.relu, student)


def test_relu_in_place_gets_only_its_own_message():
    """Its values are right: no hint about negative values."""
    message = failure_of(check.relu, relu_in_place)
    assert message.endswith("modified its input; return a new array "
                            "instead."), message
    assert "Negative values" not in message


def sigmoid_textbook(x):
    return 1 / (1 + np.exp(-x))  # overflows to inf, but the result is 0


def sigmoid_tanh(x):
    return 0.5 * (1 + np.tanh(np.asarray(x) / 2))


def sigmoid_loop(x):
    def one(value):
        if value >= 0:
            return 1 / (1 + math.exp(-value))
        return math.exp(value) / (1 + math.exp(value))
    return np.vectorize(one, otypes=[float])(x)


def sigmoid_overflows(x):
    return np.exp(x) / (1 + np.exp(x))


def sigmoid_of_minus_x(x):
    return sigmoid_tanh(-x)


def sigmoid_where_both_branches(x):
    # np.where computes both branches: np.exp overflows in the one it drops.
    return np.where(x >= 0, 1 / (1 + np.exp(-x)),
                    np.exp(x) / (1 + np.exp(x)))


def sigmoid_clipped(x):
    return 1 / (1 + np.exp(-np.clip(x, -500, 500)))


def sigmoid_one_division(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


SIGMOID_OVERFLOW = (
    "sigmoid(<float64 array (9,)>): right values, but np.exp overflowed to "
    "inf on the way (NumPy's RuntimeWarning \"overflow encountered in "
    "exp\"): they come out right only because 1 / (1 + inf) is 0.\n"
    "np.exp(1000) is inf (in float64 anything above about 709 is), and the "
    "equivalent form np.exp(x) / (1 + np.exp(x)) gives inf / inf = nan at "
    "x = 1000. np.where computes both of its branches, so an overflow in "
    "the branch it drops counts too.\n"
    "Rearrange so that np.exp only sees numbers <= 0, e.g. with "
    "np.exp(-np.abs(x)).")


def test_sigmoid_passes_correct_variants(ref, capsys):
    for student in (ref.sigmoid, sigmoid_tanh, sigmoid_loop,
                    sigmoid_clipped, sigmoid_one_division):
        check.sigmoid(student)
    assert "\u2714 sigmoid" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (sigmoid_overflows, "np.exp overflowed"),
    (sigmoid_of_minus_x, "That is sigmoid(-x)"),
    (sigmoid_textbook, "only because 1 / (1 + inf) is 0"),
    (sigmoid_where_both_branches, "np.where computes both of its branches"),
])
def test_sigmoid_names_the_mistake(student, clue):
    assert clue in failure_of(check.sigmoid, student)


def test_sigmoid_that_overflows_fails_even_with_right_values():
    # 1 / (1 + np.exp(-x)) returns exactly 0 and 1 at +-1000, with
    # NumPy's overflow warning: the exercise asks for no overflow.
    assert failure_of(check.sigmoid, sigmoid_textbook) == SIGMOID_OVERFLOW


def test_the_judge_gives_right_values_their_points(ref):
    # The judge decides stability by values, never by the floating-point
    # flags a kernel reports (issue 20): 1 / (1 + np.exp(-x)) returns the
    # right values, so it keeps its points there; only the learner's own
    # visible check tells about the overflow (above).
    results = judged(check, "sigmoid", sigmoid_textbook)
    assert results["test_sigmoid"]["score"] == 1.0
    assert results["hidden_sigmoid"]["score"] == 1.0
    for cell in ("test_sigmoid", "hidden_sigmoid"):
        assert "overflow" not in results[cell]["output"]
    # A form whose values are wrong (nan at x > 709.8) loses them.
    results = judged(check, "sigmoid", sigmoid_overflows)
    assert results["test_sigmoid"]["score"] == 0.0
    assert "got nan, expected 1" in results["test_sigmoid"]["output"]
    assert results["hidden_sigmoid"]["score"] < 1.0


def test_recorder_records_floating_point_errors(tmp_path):
    from autograder import answers, recorder

    writer = answers.Writer(tmp_path, "cell")
    x = np.array([-1000.0, 0.0, 1000.0])
    naive = recorder.answer_call(sigmoid_textbook, (x,), {}, writer)
    assert naive["floating"] == ["overflow"]
    stable = recorder.answer_call(sigmoid_tanh, (x,), {}, writer)
    assert stable["floating"] == []
    # np.exp of very negative numbers underflows to 0: not recorded.
    assert recorder.answer_call(np.exp, (x,), {}, writer)["floating"] == [
        "overflow"]
    assert recorder.answer_call(np.exp, (-x[:1],), {}, writer)[
        "floating"] == ["overflow"]
    assert recorder.answer_call(np.exp, (x[:1],), {}, writer)[
        "floating"] == []


def test_sigmoid_overflow_message_names_the_input():
    message = failure_of(check.sigmoid, sigmoid_overflows)
    assert message.startswith("sigmoid(<float64 array (9,)>): ")
    assert "got nan, expected 1" in message
    assert "at input 1000" in message


def softmax_loop(z):
    z = np.asarray(z, dtype=float)
    rows = z.reshape(-1, z.shape[-1])
    out = np.empty_like(rows)
    for index, row in enumerate(rows):
        e = np.exp(row - row.max())
        out[index] = e / e.sum()
    return out.reshape(z.shape)


def softmax_naive(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_axis0(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def softmax_no_keepdims(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1)


def softmax_whole_array(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def softmax_axis1(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_global_max(z):
    e = np.exp(z - z.max())  # one maximum for the whole batch
    return e / e.sum(axis=-1, keepdims=True)


GLOBAL_MAX_HINT = (
    "Row z[0, 0] (maximum 3) lies far below the maximum of the whole array "
    "(2000), which was subtracted from every row: every np.exp(z - z.max()) "
    "in that row underflowed to 0, and 0/0 is nan. Subtract each row's own "
    "maximum: z.max(axis=-1, keepdims=True).")


def test_softmax_passes_correct_variants(ref, capsys):
    for student in (ref.softmax, softmax_loop):
        check.softmax(student)
    assert "\u2714 softmax" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (softmax_naive, "np.exp overflowed"),
    (softmax_axis0, "wrong axis"),
    (softmax_no_keepdims, "keepdims=True"),
    (softmax_whole_array, "whole array"),
    (softmax_axis1, "axis=-1"),
    (softmax_global_max, "underflowed to 0, and 0/0 is nan"),
])
def test_softmax_names_the_mistake(student, clue):
    assert clue in failure_of(check.softmax, student)


def test_softmax_tells_underflow_from_overflow():
    message = failure_of(check.softmax, softmax_global_max)
    assert message == (
        "softmax(<float64 array (2, 3, 3)>): 12 value(s) differ; first at "
        "index [0, 0, 0]: got nan, expected 0.0900306.\n" + GLOBAL_MAX_HINT)
    assert "overflow" not in message
    assert "np.exp overflowed" in failure_of(check.softmax, softmax_naive)


def test_hidden_softmax_names_the_global_maximum(ref):
    results = judged(check, "softmax", softmax_global_max)
    assert results["hidden_softmax"]["score"] < 2.0
    assert "underflowed to 0, and 0/0 is nan" in \
        results["hidden_softmax"]["output"]
    assert GLOBAL_MAX_HINT in results["test_softmax"]["output"]


def test_hidden_activations_score(ref):
    assert hidden("relu", ref.relu) == 1.0
    assert hidden("relu", relu_loop) == 1.0
    assert hidden("relu", relu_abs) < 0.5
    assert hidden("sigmoid", ref.sigmoid) == 1.0
    assert hidden("sigmoid", sigmoid_loop) == 1.0
    assert hidden("sigmoid", sigmoid_overflows) < 1.0
    assert hidden("softmax", ref.softmax) == 2.0
    assert hidden("softmax", softmax_loop) == 2.0
    assert hidden("softmax", softmax_naive) < 2.0
    assert hidden("softmax", softmax_axis0) < 1.0


# ----------------------------------------------------------- max_pool2d ---

def pool_loops(x, size=2, stride=None):
    stride = stride or size
    rows = (x.shape[0] - size) // stride + 1
    cols = (x.shape[1] - size) // stride + 1
    out = np.zeros((rows, cols) + x.shape[2:])
    for r in range(rows):
        for c in range(cols):
            window = x[r * stride:r * stride + size,
                       c * stride:c * stride + size]
            out[r, c] = window.max(axis=(0, 1))
    return out


def pool_vectorized(x, size=2, stride=None):
    stride = size if stride is None else stride
    windows = sliding_window_view(x, (size, size), axis=(0, 1))
    return windows[::stride, ::stride].max(axis=(-2, -1))


def pool_default_stride_one(x, size=2, stride=None):
    return pool_loops(x, size, 1 if stride is None else stride)


def pool_mixes_channels(x, size=2, stride=None):
    stride = stride or size
    out = pool_loops(x, size, stride)
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = x[r * stride:r * stride + size,
                          c * stride:c * stride + size].max()
    return out


def pool_keeps_partial_windows(x, size=2, stride=None):
    stride = stride or size
    rows = -(-(x.shape[0] - size) // stride) + 1
    cols = -(-(x.shape[1] - size) // stride) + 1
    out = np.zeros((rows, cols) + x.shape[2:])
    for r in range(rows):
        for c in range(cols):
            out[r, c] = x[r * stride:r * stride + size,
                          c * stride:c * stride + size].max(axis=(0, 1))
    return out


def test_max_pool2d_passes_correct_variants(ref, capsys):
    for student in (ref.max_pool2d, pool_loops, pool_vectorized):
        check.max_pool2d(student)
    assert "\u2714 max_pool2d" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (pool_default_stride_one, "default stride is size"),
    (pool_mixes_channels, "Pooling mixes channels"),
    (pool_keeps_partial_windows, "Windows that do not fit are dropped"),
])
def test_max_pool2d_names_the_mistake(student, clue):
    assert clue in failure_of(check.max_pool2d, student)


def test_hidden_max_pool2d_scores(ref):
    assert hidden("max_pool2d", ref.max_pool2d) == 2.0
    assert hidden("max_pool2d", pool_vectorized) == 2.0
    assert hidden("max_pool2d", pool_default_stride_one) < 1.5
    assert hidden("max_pool2d", pool_mixes_channels) < 2.0


# --------------------------------------------------------- conv2d_layer ---

def conv_loops(x, kernels, bias):
    kh, kw, c_in, c_out = kernels.shape
    rows, cols = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    out = np.zeros((rows, cols, c_out))
    for r in range(rows):
        for c in range(cols):
            for f in range(c_out):
                total = bias[f]
                for i in range(kh):
                    for j in range(kw):
                        for ch in range(c_in):
                            total += x[r + i, c + j, ch] * kernels[i, j, ch, f]
                out[r, c, f] = total
    return out


def conv_einsum(x, kernels, bias):
    kh, kw = kernels.shape[:2]
    windows = sliding_window_view(x, (kh, kw), axis=(0, 1))
    return np.einsum("rcxij,ijxf->rcf", windows, kernels) + bias


def conv_window_sum(x, kernels, bias):
    kh, kw = kernels.shape[:2]
    rows, cols = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    out = np.empty((rows, cols, kernels.shape[3]))
    for r in range(rows):
        for c in range(cols):
            window = x[r:r + kh, c:c + kw, :, None]
            out[r, c] = (window * kernels).sum(axis=(0, 1, 2)) + bias
    return out


def conv_transposed_hw(x, kernels, bias):
    return conv_loops(x, kernels.transpose(1, 0, 2, 3), bias)


def conv_swapped_channels(x, kernels, bias):
    kh, kw, c_out, c_in = kernels.shape  # read as (kh, kw, C_out, C_in)
    rows, cols = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    out = np.zeros((rows, cols, c_out))
    for r in range(rows):
        for c in range(cols):
            for f in range(c_out):
                out[r, c, f] = (x[r:r + kh, c:c + kw] *
                                kernels[:, :, f, :]).sum() + bias[f]
    return out


def conv_flipped(x, kernels, bias):
    return conv_loops(x, kernels[::-1, ::-1], bias)


def conv_without_bias(x, kernels, bias):
    return conv_loops(x, kernels, np.zeros_like(bias))


def conv_with_relu(x, kernels, bias):
    return np.maximum(conv_loops(x, kernels, bias), 0)


def conv_channels_first(x, kernels, bias):
    return conv_loops(x, kernels, bias).transpose(2, 0, 1)


def test_conv2d_layer_passes_correct_variants(ref, capsys):
    for student in (ref.conv2d_layer, conv_loops, conv_einsum,
                    conv_window_sum):
        check.conv2d_layer(student)
    assert "\u2714 conv2d_layer" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (conv_transposed_hw, "read as (kw, kh, ...)"),
    (conv_swapped_channels, "read as (kh, kw, C_out, C_in)"),
    (conv_flipped, "flipped"),
    (conv_without_bias, "bias is missing"),
    (conv_with_relu, "No activation here"),
    (conv_channels_first, "Return channels last"),
])
def test_conv2d_layer_names_the_mistake(student, clue):
    assert clue in failure_of(check.conv2d_layer, student)


def test_conv2d_layer_message_order():
    message = failure_of(check.conv2d_layer, conv_channels_first)
    assert message.startswith("conv2d_layer(<float64 array (5, 6, 2)>, "
                              "kernels=<float64 array (3, 3, 2, 2)>, "
                              "bias=<float64 array (2,)>): shape (2, 3, 4), "
                              "expected (3, 4, 2).")
    message = failure_of(check.conv2d_layer, conv_flipped)
    assert "value(s) differ; first at index [0, 0, 0]: got" in message


def test_hidden_conv2d_layer_scores(ref):
    assert hidden("conv2d_layer", ref.conv2d_layer) == 3.0
    assert hidden("conv2d_layer", conv_einsum) == 3.0
    assert hidden("conv2d_layer", conv_transposed_hw) < 2.0
    assert hidden("conv2d_layer", conv_swapped_channels) < 2.0


# ------------------------------------------------------ flatten, dense ---

def flatten_loops(x):
    values = []
    for index in np.ndindex(*x.shape):
        values.append(x[index])
    return np.array(values, dtype=x.dtype)


def flatten_channels_first(x):
    if x.ndim == 3:
        return x.transpose(2, 0, 1).reshape(-1)
    return x.reshape(-1)


def flatten_fortran(x):
    return x.flatten(order="F")


def flatten_keeps_batch_axis(x):
    return x.reshape(1, -1)


def test_flatten_passes_correct_variants(ref, capsys):
    for student in (ref.flatten, flatten_loops, np.ravel,
                    lambda x: x.flatten()):
        check.flatten(student)
    assert "\u2714 flatten" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (flatten_channels_first, "channels-first order"),
    (flatten_fortran, "column-major"),
    (flatten_keeps_batch_axis, "Return a 1-D array"),
])
def test_flatten_names_the_mistake(student, clue):
    assert clue in failure_of(check.flatten, student)


def dense_loops(x, W, b):  # noqa: N803
    if x.ndim == 2:
        return np.stack([dense_loops(row, W, b) for row in x])
    return np.array([np.dot(x, W[:, unit]) + b[unit]
                     for unit in range(W.shape[1])])


def dense_1d_only(x, W, b):  # noqa: N803
    return np.atleast_2d(x)[0] @ W + b


def dense_transposed(x, W, b):  # noqa: N803
    return x @ W.T + b if W.shape[0] == W.shape[1] else x @ W + b


def dense_always_transposed(x, W, b):  # noqa: N803
    return x @ W.T + b


DENSE_LAYOUT_HINT = (
    "dense(<float64 array (4,)>, W=<float64 array (4, 3)>, "
    "b=<float64 array (3,)>) raised ValueError: matmul: Input operand 1 has "
    "a mismatch in its core dimension 0, with gufunc signature "
    "(n?,k),(k,m?)->(n?,m?) (size 3 is different from 4)\n"
    "W has shape (n_in, n_out) in Keras' layout (here (4, 3): 4 inputs, 3 "
    "outputs): compute x @ W + b, with no transpose.")


def dense_without_bias(x, W, b):  # noqa: N803
    return x @ W


def test_dense_passes_correct_variants(ref, capsys):
    for student in (ref.dense, dense_loops):
        check.dense(student)
    assert "\u2714 dense" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (dense_transposed, "Looks like x @ W.T + b. W has shape (n_in, n_out)"),
    (dense_always_transposed, "compute x @ W + b, with no transpose"),
    (dense_without_bias, "bias b is missing"),
    (dense_1d_only, "batch of outputs"),
])
def test_dense_names_the_mistake(student, clue):
    assert clue in failure_of(check.dense, student)


def test_hidden_flatten_and_dense_score(ref):
    assert hidden("flatten", ref.flatten) == 1.0
    assert hidden("flatten", flatten_loops) == 1.0
    assert hidden("flatten", flatten_channels_first) < 1.0
    assert hidden("dense", ref.dense) == 1.0
    assert hidden("dense", dense_without_bias) < 0.5


def test_dense_with_transposed_w_explains_numpys_error():
    assert failure_of(check.dense, dense_always_transposed) == \
        DENSE_LAYOUT_HINT
    results = judged(check, "dense", dense_always_transposed)
    assert results["hidden_dense"]["score"] < 0.5
    assert "compute x @ W + b, with no transpose" in \
        results["hidden_dense"]["output"]
    assert as_shown(DENSE_LAYOUT_HINT) in results["test_dense"]["output"]


# ---------------------------------------------------------- cnn_forward ---

def forward_from(conv, pool, flat, soft, relu=None, batch_axis=False):
    """A cnn_forward assembled from the given pieces."""
    def cnn_forward(image, weights):
        kernels, conv_bias, W, b = weights  # noqa: N806
        maps = conv(image, kernels, conv_bias)
        if relu is not None:
            maps = relu(maps)
        logits = flat(pool(maps, 2)) @ W + b
        probs = soft(logits) if soft is not None else logits
        return probs[None] if batch_axis else probs
    return cnn_forward


@pytest.fixture(scope="module")
def forwards(ref):
    """Correct and wrong forward passes, by name."""
    def pieces(**changes):
        kwargs = {"conv": ref.conv2d_layer, "pool": ref.max_pool2d,
                  "flat": ref.flatten, "soft": ref.softmax,
                  "relu": ref.relu}
        kwargs.update(changes)
        return forward_from(**kwargs)
    return {
        "loops": pieces(conv=conv_loops, pool=pool_loops, flat=flatten_loops,
                        soft=softmax_loop, relu=relu_loop),
        "vectorized": pieces(conv=conv_einsum, pool=pool_vectorized),
        "channels_first": pieces(flat=flatten_channels_first),
        "transposed_hw": pieces(conv=conv_transposed_hw),
        "naive_softmax": pieces(soft=softmax_naive),
        "no_relu": pieces(relu=None),
        "logits": pieces(soft=None),
        "batch_axis": forward_from(ref.conv2d_layer, ref.max_pool2d,
                                   ref.flatten, ref.softmax, ref.relu,
                                   batch_axis=True),
    }


def test_cnn_forward_passes_correct_variants(ref, forwards, capsys):
    for student in (ref.cnn_forward, forwards["loops"],
                    forwards["vectorized"]):
        check.cnn_forward(student)
    assert "\u2714 cnn_forward" in capsys.readouterr().out


@pytest.mark.parametrize("name, clue", [
    ("channels_first", "flatten in channels-first order"),
    ("transposed_hw", "read as (kw, kh, ...)"),
    ("naive_softmax", "softmax overflowed"),
    ("no_relu", "ReLU is missing"),
    ("logits", "Those are the logits"),
    ("batch_axis", "without a batch axis"),
])
def test_cnn_forward_names_the_mistake(forwards, name, clue):
    assert clue in failure_of(check.cnn_forward, forwards[name])


def test_hidden_cnn_forward_scores(ref, forwards):
    assert hidden("cnn_forward", ref.cnn_forward) == 3.0
    assert hidden("cnn_forward", forwards["vectorized"]) == 3.0
    assert hidden("cnn_forward", forwards["channels_first"]) < 2.0
    assert hidden("cnn_forward", forwards["naive_softmax"]) < 3.0


# ------------------------------------------- TensorFlow doing the work ---

def keras_model_forward(keras):
    def cnn_forward(image, weights):
        kernels = weights[0]
        model = keras.Sequential([
            keras.Input(shape=image.shape),
            keras.layers.Conv2D(kernels.shape[3], kernels.shape[:2],
                                activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(weights[3].shape[0], activation="softmax"),
        ])
        model.set_weights(weights)
        return model.predict(image[None], verbose=0)[0]
    return cnn_forward


def tf_ops_forward(ref):
    def conv_with_tf(x, kernels, bias):
        from cnn_course import import_tensorflow

        tf, _ = import_tensorflow()
        out = tf.nn.conv2d(x[None].astype("float32"), kernels, 1, "VALID")
        return out.numpy()[0] + bias
    return forward_from(conv_with_tf, ref.max_pool2d, ref.flatten,
                        ref.softmax, ref.relu)


def hidden_import_forward(ref):
    """Reaches TensorFlow without naming it, and hides the error."""
    def pool(x, size=2, stride=None):
        try:
            nn = __import__("tensor" + "flow").nn
            out = nn.max_pool2d(x[None], size, size, "VALID")
            return np.asarray(out)[0]
        except Exception:
            return ref.max_pool2d(x, size)
    return forward_from(ref.conv2d_layer, pool, ref.flatten, ref.softmax,
                        ref.relu)


def scipy_relu(x):
    from scipy import signal  # noqa: F401 - only has to be imported

    return np.maximum(x, 0)


def test_forward_pass_computed_by_keras_gets_no_points(keras):
    student = keras_model_forward(keras)
    message = failure_of(check.cnn_forward, student)
    assert message.startswith("cnn_forward uses keras.")
    assert "(Keras)" in message and "gives no points" in message
    assert hidden("cnn_forward", student) == 0.0


def test_tensorflow_ops_are_named(ref):
    student = tf_ops_forward(ref)
    message = failure_of(check.cnn_forward, student)
    assert message.startswith("cnn_forward called TensorFlow (tensorflow.")


def test_indirect_tensorflow_calls_are_caught_while_running(ref):
    message = failure_of(check.cnn_forward, hidden_import_forward(ref))
    assert message.startswith("cnn_forward called TensorFlow (tensorflow.")
    assert "called from pool line" in message


def test_imports_inside_functions_are_caught():
    message = failure_of(check.relu, scipy_relu)
    assert message.startswith("relu uses import scipy.signal (SciPy)")


def test_global_keras_model_is_named(keras):
    model = keras.Sequential([keras.Input(shape=(3,)),
                              keras.layers.Dense(2)])
    namespace = {"np": np, "mnist_model": model}
    exec("def relu(x):\n    mnist_model.predict\n"
         "    return np.maximum(x, 0)", namespace)
    message = failure_of(check.relu, namespace["relu"])
    assert message.startswith("relu uses mnist_model.predict (Keras)")


def test_numpy_only_answers_are_not_flagged(ref):
    assert library_references(ref.cnn_forward) == []
    assert library_references(conv_einsum) == []


# --------------------------------------------------------- robustness ---

def test_not_implemented_gives_a_short_message():
    def stub(x):
        raise NotImplementedError()

    message = failure_of(check.relu, stub)
    assert message.startswith("relu is not implemented yet.")


def test_objects_that_equal_anything_get_nothing():
    class EqualsAnything(np.ndarray):
        def __eq__(self, other):
            return True

    def cheat(x):
        return np.zeros((1,)).view(EqualsAnything)

    message = failure_of(check.flatten, cheat)
    assert message.startswith("flatten(<float64 array (2, 3, 4)>): shape "
                              "(1,), expected (24,).")


def test_hard_coding_the_visible_cases_fails_hidden_tests(ref):
    cases = check.visible_inputs()["max_pool2d"]["cases"]
    memory = [(case["x"], ref.max_pool2d(case["x"], case["size"],
                                         case["stride"])) for case in cases]

    def memorised(x, size=2, stride=None):
        for seen, answer in memory:
            if seen.shape == x.shape and np.array_equal(seen, x):
                return answer
        return np.zeros((1, 1))

    check.max_pool2d(memorised)  # fools the visible check, not hidden
    assert hidden("max_pool2d", memorised) < 0.5


def test_visible_expectations_are_fresh():
    import expected_values as expected

    assert LESSON not in expected.stale_lessons()
