"""Lesson 02's checks fail on realistic mistakes and pass correct variants."""

import sys
import types

import numpy as np
import pytest
from helpers import failure_of, hidden_points, judged

from autograder import lesson02 as check
from cnn_course import import_tensorflow

hidden = hidden_points(check)

LESSON = check.LESSON
sliding_window_view = np.lib.stride_tricks.sliding_window_view
# A global, as in the notebooks, so the bytecode scan can name tf.nn.conv2d.
tf, _ = import_tensorflow()






# ----------------------------------------------------- conv_output_size ---

def size_with_checks(n, k, stride=1, padding=0):
    size = (n + 2 * padding - k) // stride + 1
    if size < 1:
        raise ValueError("kernel does not fit")
    return size


def size_numpy_int(n, k, stride=1, padding=0):
    return np.int64(size_with_checks(n, k, stride, padding))


def size_true_division(n, k, stride=1, padding=0):
    size = (n + 2 * padding - k) / stride + 1
    if size < 1:
        raise ValueError("kernel does not fit")
    return size


def size_without_plus_one(n, k, stride=1, padding=0):
    size = (n + 2 * padding - k) // stride
    if size < 1:
        raise ValueError("kernel does not fit")
    return size


def size_padding_once(n, k, stride=1, padding=0):
    return size_with_checks(n - padding, k, stride, padding)


def size_ignores_stride(n, k, stride=1, padding=0):
    return size_with_checks(n, k, 1, padding)


def size_int_of_division(n, k, stride=1, padding=0):
    size = int((n + 2 * padding - k) / stride) + 1
    if size < 1:
        raise ValueError("kernel does not fit")
    return size


def size_without_value_error(n, k, stride=1, padding=0):
    return (n + 2 * padding - k) // stride + 1


def test_conv_output_size_passes_correct_variants(ref, capsys):
    for student in (ref.conv_output_size, size_with_checks, size_numpy_int):
        check.conv_output_size(student)
    assert "\u2714 conv_output_size" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (size_true_division, "returned float 3.0, expected the int 3"),
    (size_without_plus_one, "Off by one"),
    (size_padding_once, "both sides"),
    (size_ignores_stride, "Stride ignored"),
    (size_int_of_division, "int(-1 / 2) is 0: use //"),
    (size_without_value_error, "raise ValueError"),
])
def test_conv_output_size_names_the_mistake(student, clue):
    assert clue in failure_of(check.conv_output_size, student)


def test_hidden_conv_output_size_scores(ref):
    assert hidden("conv_output_size", ref.conv_output_size) == 1.0
    assert hidden("conv_output_size", size_with_checks) == 1.0
    assert hidden("conv_output_size", size_without_value_error) < 1.0
    assert hidden("conv_output_size", size_without_plus_one) < 0.5


# --------------------------------------------------------------- conv2d ---

def validate(image, kernel, stride, padding):
    if stride < 1 or padding < 0:
        raise ValueError("bad stride or padding")
    if (kernel.shape[0] > image.shape[0] + 2 * padding
            or kernel.shape[1] > image.shape[1] + 2 * padding):
        raise ValueError("kernel too large")


def conv_loops(image, kernel, stride=1, padding=0):
    """Four plain loops and a hand-made zero border."""
    validate(image, kernel, stride, padding)
    height, width = image.shape
    padded = np.zeros((height + 2 * padding, width + 2 * padding))
    padded[padding:padding + height, padding:padding + width] = image
    kh, kw = kernel.shape
    rows = (padded.shape[0] - kh) // stride + 1
    cols = (padded.shape[1] - kw) // stride + 1
    output = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            total = 0.0
            for u in range(kh):
                for v in range(kw):
                    total += padded[i * stride + u, j * stride + v] * \
                        kernel[u, v]
            output[i, j] = total
    return output


def conv_sliding_windows(image, kernel, stride=1, padding=0):
    """np.pad, sliding_window_view and einsum, float32 throughout."""
    validate(image, kernel, stride, padding)
    padded = np.pad(image.astype(np.float32), padding)
    windows = sliding_window_view(padded, kernel.shape)[::stride, ::stride]
    return np.einsum("ijuv,uv->ij", windows, kernel.astype(np.float32))


def conv_true_convolution(image, kernel, stride=1, padding=0):
    return conv_loops(image, kernel[::-1, ::-1], stride, padding)


def conv_ignores_stride(image, kernel, stride=1, padding=0):
    return conv_loops(image, kernel, 1, padding) if stride >= 1 else \
        conv_loops(image, kernel, stride, padding)


def conv_stride_inside(image, kernel, stride=1, padding=0):
    want_shape = conv_loops(image, kernel, stride, padding).shape
    full = conv_loops(image, kernel, 1, padding)
    return full[:want_shape[0], :want_shape[1]]


def conv_pads_one_side(image, kernel, stride=1, padding=0):
    validate(image, kernel, stride, padding)
    padded = np.pad(image, ((padding, 0), (padding, 0)))
    return conv_loops(padded, kernel, stride, 0)


def conv_ignores_padding(image, kernel, stride=1, padding=0):
    validate(image, kernel, stride, padding)
    return conv_loops(image, kernel, stride, 0)


def conv_int_output(image, kernel, stride=1, padding=0):
    result = conv_loops(image, kernel, stride, padding)
    output = np.zeros_like(result, dtype=int)
    output[...] = result  # truncates like np.zeros_like(int image) would
    return output


def conv_truncates_inputs(image, kernel, stride=1, padding=0):
    return conv_loops(image.astype(int), kernel.astype(int), stride,
                      padding)


def conv_off_by_one(image, kernel, stride=1, padding=0):
    return conv_loops(image, kernel, stride, padding)[:-1, :-1]


def conv_without_value_errors(image, kernel, stride=1, padding=0):
    padded = np.pad(image.astype(float), max(padding, 0))
    kh, kw = kernel.shape
    rows = max((padded.shape[0] - kh) // stride + 1, 0)
    cols = max((padded.shape[1] - kw) // stride + 1, 0)
    return np.array([[np.sum(padded[i * stride:i * stride + kh,
                                    j * stride:j * stride + kw] * kernel)
                      for j in range(cols)] for i in range(rows)])


def test_conv2d_passes_correct_variants(ref, capsys):
    for student in (ref.conv2d, conv_loops, conv_sliding_windows):
        check.conv2d(student)
    assert "\u2714 conv2d" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (conv_true_convolution, "the kernel is flipped"),
    (conv_ignores_stride, "Stride ignored"),
    (conv_stride_inside, "windows are the stride-1 ones"),
    (conv_pads_one_side, "Padding on one side only"),
    (conv_ignores_padding, "Padding ignored"),
    (conv_int_output, "dtype int64, expected a float dtype"),
    (conv_int_output, "Return floats"),
    (conv_truncates_inputs, "truncated to integers"),
    (conv_off_by_one, "Off by one"),
    (conv_without_value_errors, "Raise ValueError for stride < 1"),
])
def test_conv2d_names_the_mistake(student, clue):
    assert clue in failure_of(check.conv2d, student)


def test_conv2d_message_order_shape_dtype_value():
    message = failure_of(check.conv2d, conv_true_convolution)
    assert message.startswith("conv2d(A, kernel=B, stride=1, padding=0): ")
    assert "first at index [0, 0]: got 25, expected 29" in message
    message = failure_of(check.conv2d, conv_off_by_one)
    assert "shape (2, 2), expected (3, 3)" in message


def test_truncated_output_is_named_on_a_float_case():
    from autograder import expected

    case = expected.load(LESSON)["conv2d"]["cases"][1]  # float 6x7, 2x3
    run = check.Scratch(conv_int_output, "conv2d")
    message = check.conv_problem(run, case["image"], case["kernel"],
                                  case["stride"], case["padding"],
                                  case["label"], case)
    assert "dtype int64, expected a float dtype" in message
    assert "fractions were cut off" in message


def test_hidden_conv2d_scores(ref):
    assert hidden("conv2d", ref.conv2d) == 3.0
    assert hidden("conv2d", conv_loops) == 3.0
    assert hidden("conv2d", conv_sliding_windows) == 3.0
    assert hidden("conv2d", conv_true_convolution) < 3.0
    assert hidden("conv2d", conv_pads_one_side) < 2.0
    assert hidden("conv2d", conv_ignores_stride) < 3.0


def test_hard_coding_the_visible_cases_fails_hidden_tests(ref):
    cases = check.visible_inputs()["conv2d"]["cases"]
    answers = [(case["image"], case["kernel"], case["stride"],
                case["padding"], ref.conv2d(case["image"], case["kernel"],
                                            case["stride"], case["padding"]))
               for case in cases]

    def memorised(image, kernel, stride=1, padding=0):
        validate(image, kernel, stride, padding)
        for known_image, known_kernel, known_stride, known_padding, answer \
                in answers:
            if (image.shape == known_image.shape
                    and np.array_equal(image, known_image)
                    and np.array_equal(kernel, known_kernel)
                    and (stride, padding) == (known_stride, known_padding)):
                return answer.copy()
        return np.zeros((1, 1))

    check.conv2d(memorised)  # fools the visible check, not the hidden one
    assert hidden("conv2d", memorised) < 1.0


def test_objects_that_equal_anything_get_nothing():
    class EqualsAnything(np.ndarray):
        def __eq__(self, other):
            return True

        def __ne__(self, other):
            return False

    def cheat(image, kernel, stride=1, padding=0):
        return np.zeros((1, 1)).view(EqualsAnything)

    assert "shape (1, 1), expected (3, 3)" in failure_of(check.conv2d, cheat)


def test_not_implemented_gives_a_short_message():
    def stub(image, kernel, stride=1, padding=0):
        raise NotImplementedError()

    message = failure_of(check.conv2d, stub)
    assert message.startswith("conv2d is not implemented yet.")


# ------------------------------------------------- from scratch: conv2d ---

def conv_tensorflow(image, kernel, stride=1, padding=0):
    padded = np.pad(image.astype("float32"), padding)
    return tf.nn.conv2d(padded[None, :, :, None],
                        kernel.astype("float32")[:, :, None, None],
                        strides=stride, padding="VALID").numpy()[0, :, :, 0]


def make_keras_student(keras):
    layers = keras.layers

    def conv_keras(image, kernel, stride=1, padding=0):
        validate(image, kernel, stride, padding)
        layer = layers.Conv2D(1, kernel.shape, strides=stride,
                              use_bias=False)
        padded = np.pad(image.astype("float32"), padding)[None, :, :, None]
        layer.build(padded.shape)
        layer.set_weights([kernel.astype("float32")[:, :, None, None]])
        return np.asarray(layer(padded))[0, :, :, 0].astype(float)
    return conv_keras


def conv_scipy_import(image, kernel, stride=1, padding=0):
    from scipy.signal import correlate2d

    padded = np.pad(image, padding)
    return correlate2d(padded, kernel, mode="valid")[::stride, ::stride]


def test_tensorflow_conv2d_is_refused_by_name(ref):
    message = failure_of(check.conv2d, conv_tensorflow)
    assert "uses tf.nn.conv2d (TensorFlow)" in message
    assert "from scratch" in message
    results = judged(check, "conv2d", conv_tensorflow)
    assert results["hidden_conv2d"]["score"] == 0.0
    assert "0 of 3 points (not from scratch)" in \
        results["hidden_conv2d"]["output"]
    assert results["test_conv2d"]["score"] == 0.0


def test_keras_layer_is_refused(keras):
    message = failure_of(check.conv2d, make_keras_student(keras))
    assert "Conv2D (Keras)" in message
    assert hidden("conv2d", make_keras_student(keras)) == 0.0


def test_scipy_import_inside_the_function_is_refused():
    # Refused before it runs: SciPy need not even be installed.
    message = failure_of(check.conv2d, conv_scipy_import)
    assert "import scipy.signal (SciPy)" in message


def test_hidden_library_call_is_caught_while_running(monkeypatch):
    """A library function the bytecode scan cannot see (kept in a dict)."""
    fake = types.ModuleType("scipy.ndimage._fake_filters")
    exec("def correlate(image, kernel):\n"  # noqa: S102 - test fixture
         "    return image\n", fake.__dict__)
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    tools = {"correlate": fake.correlate}

    def sneaky(image, kernel, stride=1, padding=0):
        tools["correlate"](image, kernel)
        return conv_loops(image, kernel, stride, padding)

    message = failure_of(check.conv2d, sneaky)
    assert ("uses SciPy (scipy.ndimage._fake_filters, called from sneaky "
            "line") in message
    assert hidden("conv2d", sneaky) == 0.0
    assert sys.getprofile() is None  # the watch switched itself off


def test_library_call_in_a_helper_is_named():
    def helper(image, kernel, stride, padding):
        return conv_tensorflow(image, kernel, stride, padding)

    def student(image, kernel, stride=1, padding=0):
        validate(image, kernel, stride, padding)
        return helper(image, kernel, stride, padding)

    assert ("helper -> conv_tensorflow -> tf.nn.conv2d (TensorFlow)"
            in failure_of(check.conv2d, student))


def test_library_reached_at_run_time_is_caught():
    def sneaky(image, kernel, stride=1, padding=0):
        library = __import__("tensorflow")
        convolve = getattr(library.nn, "conv" + "2d")
        padded = np.pad(image.astype("float32"), padding)
        return convolve(padded[None, :, :, None],
                        kernel.astype("float32")[:, :, None, None],
                        strides=stride, padding="VALID").numpy()[0, :, :, 0]

    message = failure_of(check.conv2d, sneaky)
    assert "uses TensorFlow (" in message
    assert "called from sneaky line" in message


# ---------------------------------------------------------- conv2d_fast ---

def fast_einsum(images, kernels):
    windows = sliding_window_view(images, kernels.shape[:2], axis=(1, 2))
    return np.einsum("nhwuv,uvf->nhwf", windows, kernels.astype(float))


def fast_offsets(images, kernels):
    """Accumulate one broadcast product per kernel offset."""
    kh, kw, filters = kernels.shape
    count, height, width = images.shape
    if kh > height or kw > width:
        raise ValueError("kernels larger than the images")
    rows, cols = height - kh + 1, width - kw + 1
    output = np.zeros((count, rows, cols, filters))
    for u in range(kh):
        for v in range(kw):
            output += images[:, u:u + rows, v:v + cols, None] * kernels[u, v]
    return output


def fast_tensordot(images, kernels):
    windows = sliding_window_view(images, kernels.shape[:2], axis=(1, 2))
    return np.tensordot(windows, kernels, axes=([3, 4], [0, 1]))


def fast_broadcast(images, kernels):
    """Every window times every kernel by broadcasting, then one sum."""
    windows = sliding_window_view(images.astype(float), kernels.shape[:2],
                                  axis=(1, 2))
    return (windows[..., None] * kernels).sum(axis=(3, 4))


def fast_im2col(images, kernels):
    """One (windows, kh * kw) matrix for the whole batch, float64."""
    kh, kw, filters = kernels.shape
    windows = sliding_window_view(images.astype(np.float64), (kh, kw),
                                  axis=(1, 2))
    count, rows, cols = windows.shape[:3]
    patches = windows.reshape(count * rows * cols, kh * kw)
    return (patches @ kernels.reshape(kh * kw, filters)).reshape(
        count, rows, cols, filters)


def fast_window_loop(images, kernels):
    """One matrix product per window: a Python loop over the windows."""
    kh, kw, filters = kernels.shape
    count, height, width = images.shape
    if kh > height or kw > width:
        raise ValueError("kernels larger than the images")
    flat = kernels.reshape(kh * kw, filters)
    out = np.zeros((count, height - kh + 1, width - kw + 1, filters))
    for n in range(count):
        for r in range(height - kh + 1):
            for c in range(width - kw + 1):
                out[n, r, c] = images[n, r:r + kh, c:c + kw].ravel() @ flat
    return out


def fast_position_loop(images, kernels):
    """A Python loop over window positions, each one for every image."""
    kh, kw, filters = kernels.shape
    count, height, width = images.shape
    if kh > height or kw > width:
        raise ValueError("kernels larger than the images")
    flat = kernels.reshape(kh * kw, filters)
    out = np.zeros((count, height - kh + 1, width - kw + 1, filters))
    for r in range(height - kh + 1):
        for c in range(width - kw + 1):
            window = images[:, r:r + kh, c:c + kw].reshape(count, kh * kw)
            out[:, r, c] = window @ flat
    return out


def make_fast_loops(conv2d):
    def fast_loops(images, kernels):
        return np.stack([
            np.stack([conv2d(image, kernels[:, :, f])
                      for f in range(kernels.shape[-1])], axis=-1)
            for image in images])
    return fast_loops


def fast_channels_first(images, kernels):
    return fast_einsum(images, kernels).transpose(0, 3, 1, 2)


def fast_flipped(images, kernels):
    return fast_einsum(images, kernels[::-1, ::-1])


def fast_tensorflow(images, kernels):
    return tf.nn.conv2d(images[..., None].astype("float32"),
                        kernels[:, :, None, :].astype("float32"),
                        strides=1, padding="VALID").numpy()


CORRECT_FAST = (fast_einsum, fast_offsets, fast_tensordot, fast_broadcast,
                fast_im2col)


def test_conv2d_fast_passes_correct_variants(ref, capsys):
    for student in (ref.conv2d_fast, *CORRECT_FAST):
        check.conv2d_fast(student)
    assert "\u2714 conv2d_fast" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (fast_channels_first, "Channels last"),
    (fast_flipped, "the kernel is flipped"),
    (fast_tensorflow, "tf.nn.conv2d (TensorFlow)"),
])
def test_conv2d_fast_names_the_mistake(student, clue):
    assert clue in failure_of(check.conv2d_fast, student)


@pytest.mark.parametrize("student", [
    fast_window_loop, fast_position_loop, "conv2d loops"])
def test_conv2d_fast_refuses_loops(ref, student):
    """Loops over windows, over positions (every image at once) or over
    images and kernels calling the loop conv2d: each takes seconds for
    the speed case's million windows, over the 1 s limit."""
    if student == "conv2d loops":
        student = make_fast_loops(ref.conv2d)
    message = failure_of(check.conv2d_fast, student)
    assert "Python loop over the windows" in message
    assert "1,000,000 windows (limit 1.0 s)" in message


def test_the_judge_refuses_a_loop_over_windows():
    """The judge times the test cells outside the kernel: the same limit
    fails the loop's visible cell and its hidden speed case only."""
    results = judged(check, "conv2d_fast", fast_window_loop)
    assert results["test_conv2d_fast"]["score"] == 0.0
    assert 0.0 < results["hidden_conv2d_fast"]["score"] < 2.0
    assert "Python loop over the windows" in \
        results["hidden_conv2d_fast"]["output"]


def test_hidden_conv2d_fast_scores(ref):
    assert hidden("conv2d_fast", ref.conv2d_fast) == 2.0
    for student in CORRECT_FAST:
        assert hidden("conv2d_fast", student) == 2.0, student.__name__
    assert hidden("conv2d_fast", fast_channels_first) < 1.0
    assert hidden("conv2d_fast", fast_tensorflow) == 0.0


def test_visible_expectations_are_fresh():
    import expected_values as expected

    assert LESSON not in expected.stale_lessons()


# ----------------------------------------------------------- avg_pool2d ---

def _pooled(x, size, stride, reduce, keep_partial=False):
    """Every window of x reduced by `reduce`, written out with loops."""
    if keep_partial:
        rows, cols = (-(-(n - size) // stride) + 1 for n in x.shape[:2])
    else:
        rows, cols = ((n - size) // stride + 1 for n in x.shape[:2])
    out = np.zeros((rows, cols) + x.shape[2:])
    for r in range(rows):
        for c in range(cols):
            out[r, c] = reduce(x[r * stride:r * stride + size,
                                 c * stride:c * stride + size])
    return out


def pool_loops(x, size=2, stride=None):
    return _pooled(x, size, stride or size,
                   lambda window: window.mean(axis=(0, 1)))


def pool_float32(x, size=2, stride=None):
    stride = stride or size
    windows = sliding_window_view(x.astype(np.float32), (size, size),
                                  axis=(0, 1))
    return windows[::stride, ::stride].mean(axis=(-2, -1))


def pool_stride_one(x, size=2, stride=None):
    return pool_loops(x, size, stride or 1)


def pool_keeps_partial_windows(x, size=2, stride=None):
    return _pooled(x, size, stride or size,
                   lambda window: window.mean(axis=(0, 1)),
                   keep_partial=True)


def pool_mixes_channels(x, size=2, stride=None):
    return _pooled(x, size, stride or size, lambda window: window.mean())


def pool_integer_division(x, size=2, stride=None):
    return _pooled(x, size, stride or size,
                   lambda window: window.sum(axis=(0, 1)) // (size * size))


def pool_int_output(x, size=2, stride=None):
    stride = stride or size
    out = np.zeros_like(x)[:(x.shape[0] - size) // stride + 1,
                           :(x.shape[1] - size) // stride + 1]
    out[...] = pool_loops(x, size, stride)
    return out


def pool_uint8_sum(x, size=2, stride=None):
    stride = stride or size
    rows = (x.shape[0] - size) // stride + 1
    cols = (x.shape[1] - size) // stride + 1
    total = np.zeros((rows, cols) + x.shape[2:], dtype=x.dtype)
    for i in range(size):
        for j in range(size):
            total = total + x[i:i + stride * rows:stride,
                              j:j + stride * cols:stride]
    return total / (size * size)


def pool_without_axis(x, size=2, stride=None):
    """sliding_window_view without axis=: right for 2-D maps only."""
    stride = stride or size
    windows = sliding_window_view(np.asarray(x, dtype=float), (size, size))
    return windows[::stride, ::stride].mean(axis=(-2, -1))


def pool_range_short(x, size=2, stride=None):
    """Windows from range(0, H - size, stride): the last one is missed."""
    stride = stride or size
    return np.array([[x[r:r + size, c:c + size].mean(axis=(0, 1))
                      for c in range(0, x.shape[1] - size, stride)]
                     for r in range(0, x.shape[0] - size, stride)],
                    dtype=float)


def pool_range_short_filled(x, size=2, stride=None):
    """The right output size, filled over range(0, H - size, stride)."""
    stride = stride or size
    out = np.zeros(((x.shape[0] - size) // stride + 1,
                    (x.shape[1] - size) // stride + 1) + x.shape[2:])
    for i, r in enumerate(range(0, x.shape[0] - size, stride)):
        for j, c in enumerate(range(0, x.shape[1] - size, stride)):
            out[i, j] = x[r:r + size, c:c + size].mean(axis=(0, 1))
    return out


def pool_channels_first(x, size=2, stride=None):
    pooled = pool_loops(x, size, stride)
    return np.moveaxis(pooled, -1, 0) if pooled.ndim == 3 else pooled


def pool_max(x, size=2, stride=None):
    return _pooled(x, size, stride or size,
                   lambda window: window.max(axis=(0, 1)))


def pool_max_windows(x, size=2, stride=None):
    """Vectorised, in x's dtype: ints stay ints."""
    stride = stride or size
    windows = sliding_window_view(x, (size, size), axis=(0, 1))
    return windows[::stride, ::stride].max(axis=(-2, -1))


def pool_tensorflow(x, size=2, stride=None):
    batch = np.asarray(x, np.float32).reshape((1,) + x.shape[:2] + (-1,))
    pooled = tf.nn.avg_pool2d(batch, size, stride or size, "VALID")
    return pooled.numpy()[0].reshape(pooled.shape[1:3] + x.shape[2:])


def test_avg_pool2d_passes_correct_variants(ref, capsys):
    for student in (ref.avg_pool2d, pool_loops, pool_float32):
        check.avg_pool2d(student)
    assert "\u2714 avg_pool2d" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (pool_stride_one, "Looks like stride 1"),
    (pool_keeps_partial_windows, "Windows that do not fit are dropped"),
    (pool_mixes_channels, "Pooling mixes channels"),
    (pool_integer_division, "integer division"),
    (pool_int_output, "expected a float dtype"),
    (pool_uint8_sum, "wrapped around"),
    (pool_tensorflow, "uses tf.nn.avg_pool2d"),
    (pool_without_axis, "give it axis=(0, 1)"),
    (pool_range_short, "One window short"),
    (pool_range_short_filled, "One window short"),
    (pool_channels_first, "Channels first"),
    (pool_max, "windows' maxima"),
    (pool_max_windows, "windows' maxima"),
])
def test_avg_pool2d_names_the_mistake(student, clue):
    assert clue in failure_of(check.avg_pool2d, student)


@pytest.mark.parametrize("student", [
    pool_without_axis, pool_range_short, pool_range_short_filled,
    pool_channels_first, pool_max])
def test_avg_pool2d_gives_one_hint(student):
    """The measured mistakes get their own hint and no other."""
    hints = [getattr(check, name)() for name in (
        "_pool_axis", "_pool_short", "_pool_channels_first", "_pool_max",
        "_pool_channels", "_pool_dropped", "_pool_floored")]
    message = failure_of(check.avg_pool2d, student)
    assert sum(hint in message for hint in hints) == 1, message


def test_avg_pool2d_message_names_the_call():
    message = failure_of(check.avg_pool2d, pool_stride_one)
    assert message.startswith("avg_pool2d(<float64 array (5, 5)>): shape")


def test_hidden_avg_pool2d_scores(ref):
    assert hidden("avg_pool2d", ref.avg_pool2d) == 2.0
    assert hidden("avg_pool2d", pool_loops) == 2.0
    assert hidden("avg_pool2d", pool_float32) == 2.0
    for mistake in (pool_stride_one, pool_mixes_channels,
                    pool_integer_division, pool_uint8_sum,
                    pool_without_axis, pool_range_short,
                    pool_range_short_filled, pool_channels_first, pool_max):
        assert hidden("avg_pool2d", mistake) < 2.0, mistake.__name__
    assert hidden("avg_pool2d", pool_tensorflow) == 0.0
