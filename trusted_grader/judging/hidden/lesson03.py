"""Hidden tests of lesson 03, run by the judge on recorded answers.

Each `hidden_<exercise>` adds its cases (`scoring.hidden_test`): inputs
from `rng` (seeded per grading run and exercise), `func` a replay of the
kernel's answers, `ref` the reference solutions.

Same code, same score, whatever the seed: the structure of every case
(shapes, dtypes, channel counts, kernel and pool sizes, strides, batch
sizes, learning rates and steps) is a constant; `rng` draws only values,
from distributions chosen so that each known mistake fails or passes a
case whatever is drawn:

- values are spread over their whole range (`_spread`: one value in the
  middle half of each of n equal bins, in random order), so an array
  always holds large and small values and no two are closer than half a
  bin: no ties, no value that happens to hide a mistake;
- signs come in a fixed count (`_signed`), so negatives are always there;
- pooling channels live in disjoint bands (`_channel_bands`), so a value
  from another channel is always foreign;
- kernels hold distinct values, so a flipped or transposed kernel always
  shows; kernels, true kernels and gradients follow a fixed sign pattern
  (`_kernel_signs`) that a 180-degree turn or a transpose changes;
- learning problems are well conditioned, with learning rates and steps
  that put each case clearly in one regime (converged, or far from it).

Cases on inputs the kernel knows in advance (the lesson's constants below)
prove no work on their own: they are marked `fresh=False`, and only a
passing fresh case makes the others, and the visible point, count.
"""

import numpy as np

from autograder import lesson03 as checks
from cnn_course.messages import t
from trusted_grader.judging.scoring import hidden_test

# Inputs written into this file: the kernel can know them in advance.
KNOWN_INPUTS = {
    "relu": [np.array([-1e300, -0.0, 0.0, 1e-300, 1e300])],
    "sigmoid": [np.array([-1e4, -1000, -745, -710, 710, 745, 1000, 1e4]),
                np.array([[-800.0, 800], [-50, 50]], dtype=np.float32)],
    "softmax": [np.array([[1000.0, 1000.0], [-1000, -1000]]),
                np.array([5.0])],
}


# -------------------------------------------------------------- values ---

def _spread(rng, shape, low, high, dtype=np.float64):
    """Values in [low, high) of `shape`: one in the middle half of each of
    size equal bins, in random order. Distinct (at least half a bin
    apart) and covering the range, whatever `rng` draws."""
    count = int(np.prod(shape))
    bins = rng.permutation(count) + rng.uniform(0.25, 0.75, count)
    return (low + (high - low) * bins / count).reshape(shape).astype(dtype)


def _signed(rng, shape, low, high, dtype=np.float64):
    """Magnitudes spread over [low, high); half of them (rounded down)
    negative, at random places."""
    count = int(np.prod(shape))
    signs = np.where(np.arange(count) < count // 2, -1.0, 1.0)
    magnitudes = _spread(rng, (count,), low, high)
    return (rng.permutation(signs) * magnitudes).reshape(shape).astype(
        dtype)


def _channel_bands(rng, shape, sign=1.0, dtype=np.float64):
    """Pooling input (H, W, C): channel c spread over [10c, 10c + 1) (or
    the negated band), so every channel's values are foreign to the
    others."""
    *plane, channels = shape
    bands = [10.0 * channel + _spread(rng, plane, 0.0, 1.0)
             for channel in range(channels)]
    return (sign * np.stack(bands, axis=-1)).astype(dtype)


def _kernel_signs(shape):
    """A fixed sign pattern: + above the diagonal, - on and below it. A
    180-degree turn or a transpose changes it in some place."""
    rows, cols = np.indices(shape)
    return np.where(rows < cols, 1.0, -1.0)


def _describe_array(x):
    return t("{dtype} array of shape {shape}", dtype=x.dtype, shape=x.shape)


def _add_cases(score, inputs, problem, fresh=True):
    for x in inputs:
        score.case(_describe_array(x), lambda x=x: problem(x), fresh=fresh)


def _known(name):
    """Copies of the constant inputs: an answer that changes its input in
    place must not change them for the next call or the next student."""
    return [x.copy() for x in KNOWN_INPUTS[name]]


# ---------------------------------------------------------- activations ---

@hidden_test(checks.relu)
def hidden_relu(relu, score, ref, rng):
    """Hidden tests: relu on arrays with a fixed share of negatives."""
    inputs = [_signed(rng, shape, 0.1, 5.0, dtype) for shape, dtype in (
        ((17,), np.float64), ((4, 6), np.float64), ((3, 5, 2), np.float64),
        ((6, 5, 3), np.float32))]

    def problem(x):
        return checks.relu.problem(relu, x, ref.relu(x))
    _add_cases(score, inputs, problem)
    _add_cases(score, _known("relu"), problem, fresh=False)


@hidden_test(checks.sigmoid)
def hidden_sigmoid(sigmoid, score, ref, rng):
    """Hidden tests: sigmoid on moderate values and on values far beyond
    np.exp's range (float64: |x| > 709.8, float32: |x| > 88.8), judged
    by values only.

    1 / (1 + np.exp(-x)) overflows for x < -709.8 but returns 0.0, the
    right value within any tolerance a correct alternative meets:
    wherever its result is off (subnormal results), 0.5 * (1 +
    np.tanh(x / 2)) is off too. np.exp(x) / (1 + np.exp(x)) gives nan.
    """
    inputs = [_signed(rng, shape, 0.1, 8.0, dtype) for shape, dtype in (
        ((12,), np.float64), ((3, 4), np.float64), ((2, 3, 4), np.float64),
        ((4, 5), np.float32))]
    inputs += [_signed(rng, (10,), 710.0, 5000.0),
               _signed(rng, (2, 4), 89.0, 800.0, np.float32)]

    def problem(x):
        return checks.sigmoid.problem(sigmoid, x, ref.sigmoid(x),
                                       overflow=False)
    _add_cases(score, inputs, problem)
    _add_cases(score, _known("sigmoid"), problem, fresh=False)


# Row offsets of the large-logit softmax case: a row at 1000 and above
# overflows np.exp(z); a row 2000 below the largest underflows to 0/0
# when one maximum is subtracted for the whole batch.
SOFTMAX_ROW_OFFSETS = np.array([-1000.0, 0.0, 1000.0, 2000.0])


@hidden_test(checks.softmax)
def hidden_softmax(softmax, score, ref, rng):
    """Hidden tests: softmax on vectors, square and 3-D batches, float32,
    and rows of logits far apart."""
    large = (SOFTMAX_ROW_OFFSETS[:, None]
             + _spread(rng, (len(SOFTMAX_ROW_OFFSETS), 6), -5.0, 5.0))
    inputs = [_spread(rng, (10,), -8.0, 8.0),
              _spread(rng, (5, 5), -6.0, 6.0),
              _spread(rng, (2, 3, 5), -6.0, 6.0),
              _spread(rng, (3, 6), -6.0, 6.0, np.float32),
              large]

    def problem(z):
        wrong_axis = checks.softmax_wrong_axis(ref, z) if z.ndim > 1 \
            else None
        return checks.softmax.problem(softmax, z, ref.softmax(z),
                                       wrong_axis, overflow=False)
    _add_cases(score, inputs, problem)
    _add_cases(score, _known("softmax"), problem, fresh=False)


# ----------------------------------------------------------- max_pool2d ---

# (size, stride, shape, dtype, values): "spread" over [1, 5), "bands"
# per channel, "negative" bands. Every window's maximum is above 0, except
# in the one case with values below 0 only (a maximum that starts from 0
# shows there, and always there). Odd leftovers (7 x 9 at size 2,
# 10 x 11 at size 3, 9 x 8 at size 3 stride 2) drop windows that do not
# fit; channel counts > 1 show mixing; non-square inputs show swapped
# rows and columns.
POOL_CASES = (
    (2, None, (7, 9), np.float64, "spread"),
    (2, None, (8, 6, 4), np.float64, "bands"),
    (3, None, (10, 11, 2), np.float64, "bands"),
    (3, 2, (9, 8, 3), np.float64, "bands"),
    (2, 1, (6, 7), np.float64, "spread"),
    (2, None, (26, 26, 8), np.float32, "bands"),
    (2, None, (6, 8, 2), np.float64, "negative"),
    (2, None, (2, 2), np.float64, "spread"),
)


@hidden_test(checks.max_pool2d)
def hidden_max_pool2d(max_pool2d, score, ref, rng):
    """Hidden tests: max_pool2d on fixed shapes, sizes and strides."""

    def add_case(x, size, stride):
        def run():
            stride_one = (ref.max_pool2d(x, size, 1)
                          if stride is None else None)
            return checks.max_pool2d.problem(max_pool2d, x, size, stride,
                                        ref.max_pool2d(x, size, stride),
                                        stride_one)
        score.case(f"{x.dtype} {x.shape}, size={size}, stride={stride}",
                   run)

    for size, stride, shape, dtype, values in POOL_CASES:
        if values == "spread":
            x = _spread(rng, shape, 1.0, 5.0, dtype)
        else:
            x = _channel_bands(rng, shape, -1.0 if values == "negative"
                               else 1.0, dtype)
        add_case(x, size, stride)


# --------------------------------------------------------- conv2d_layer ---

# (x shape, kernels shape, dtype): square and non-square kernels, one and
# several input channels, C_in == C_out once (swapped channels), a 1 x 1
# kernel and one as large as the image.
CONV_CASES = (
    ((28, 28, 1), (3, 3, 1, 8), np.float32),
    ((7, 9, 3), (3, 3, 3, 3), np.float64),
    ((8, 6, 2), (2, 3, 2, 5), np.float64),
    ((5, 5, 4), (5, 5, 4, 2), np.float64),
    ((6, 7, 2), (1, 1, 2, 3), np.float64),
)


def conv_case(rng, x_shape, k_shape, dtype):
    """Pixels in [0, 1), distinct kernel weights in [-1.5, 1.5), biases
    0.5 to 1.5 away from 0; output channel 0 is below -0.5 everywhere (its
    bias outweighs any sum of pixels times weights), so a ReLU that does
    not belong shows in every case."""
    x = _spread(rng, x_shape, 0.0, 1.0)
    kernels = _spread(rng, k_shape, -1.5, 1.5)
    bias = _signed(rng, (k_shape[3],), 0.5, 1.5)
    bias[0] = -(np.abs(kernels[..., 0]).sum() + rng.uniform(0.5, 1.5))
    return x.astype(dtype), kernels.astype(dtype), bias.astype(dtype)


@hidden_test(checks.conv2d_layer)
def hidden_conv2d_layer(conv2d_layer, score, ref, rng):
    """Hidden tests: conv2d_layer on fixed shapes against the reference."""
    for x_shape, k_shape, dtype in CONV_CASES:
        x, kernels, bias = conv_case(rng, x_shape, k_shape, dtype)

        def run(x=x, kernels=kernels, bias=bias):
            return checks.conv2d_layer.problem(
                conv2d_layer, x, kernels, bias,
                ref.conv2d_layer(x, kernels, bias),
                checks.conv_variants(ref, x, kernels, bias))
        score.case(f"x {x_shape}, kernels {k_shape}, {dtype.__name__}", run)


# -------------------------------------------------------- flatten, dense ---

@hidden_test(checks.flatten)
def hidden_flatten(flatten, score, ref, rng):
    """Hidden tests: flatten on fixed shapes, distinct values."""
    inputs = [_spread(rng, (13, 13, 8), -3.0, 3.0, np.float32),
              _spread(rng, (4, 3, 5), -3.0, 3.0),
              _spread(rng, (1, 1, 5), -3.0, 3.0),
              _spread(rng, (3, 4), -3.0, 3.0),
              rng.choice(np.arange(-50, 50), size=(2, 3, 2),
                         replace=False)]
    _add_cases(score, inputs,
               lambda x: checks.flatten.problem(flatten, x, ref.flatten(x)))


# (batch or None, n, m, dtype): square W twice (a transposed W gives
# numbers, not an error), batches of 1, 5 and 8.
DENSE_CASES = ((None, 7, 4, np.float64), (5, 6, 3, np.float64),
               (1, 3, 3, np.float64), (None, 1352, 10, np.float32),
               (8, 4, 4, np.float32))


@hidden_test(checks.dense)
def hidden_dense(dense, score, ref, rng):
    """Hidden tests: dense on fixed sizes; distinct weights, biases 0.5 to
    1.5 away from 0."""
    for batch, n, m, dtype in DENSE_CASES:
        shape = (n,) if batch is None else (batch, n)
        x = _spread(rng, shape, -2.0, 2.0, dtype)
        W = _spread(rng, (n, m), -1.0, 1.0, dtype)  # noqa: N806
        b = _signed(rng, (m,), 0.5, 1.5, dtype)
        score.case(f"x {shape}, W {(n, m)}, {dtype.__name__}",
                   lambda x=x, W=W, b=b: checks.dense.problem(  # noqa: N803
                       dense, x, W, b, ref.dense(x, W, b)))


# ---------------------------------------------------------- cnn_forward ---

# Few architectures (each new one costs Keras a model and a trace). Every
# one has a filter whose outputs are all negative (`negative_filter`), so
# a missing ReLU always shows, and small Dense weights (`weight_scale`):
# probabilities stay away from 0 and 1, so a mistake in the layers before
# always moves them (by over 100 times the tolerance in 300 draws). The
# large-logit model's probabilities are exact 0s and a 1: only softmax
# itself (its stability, or its absence) changes them there.
FORWARD_CONFIGS = (
    {"input_shape": [28, 28, 1], "kernel_size": [3, 3], "filters": 4,
     "classes": 10, "images": 2, "large_logits": False,
     "negative_filter": True, "weight_scale": 0.5},
    {"input_shape": [11, 12, 1], "kernel_size": [5, 3], "filters": 3,
     "classes": 5, "images": 2, "large_logits": False,
     "negative_filter": True, "weight_scale": 0.5},
    {"input_shape": [13, 12, 1], "kernel_size": [3, 3], "filters": 2,
     "classes": 6, "images": 1, "large_logits": True,
     "negative_filter": True, "weight_scale": 0.5},
)


@hidden_test(checks.cnn_forward)
def hidden_cnn_forward(cnn_forward, score, ref, rng):
    """Hidden tests: random models of the lesson's architecture."""
    for config in FORWARD_CONFIGS:
        for label, run in checks.forward_cases(cnn_forward, config, rng):
            score.case(label, run)


# ------------------------------------------ kernel_gradient, learn_kernel ---

def _kernel_problem(rng, count, height, width, kernel_shape, ref):
    """Pixels spread over [-1, 1), a true kernel with the fixed sign
    pattern and magnitudes 0.3 to 1, and the feature maps it makes."""
    images = _spread(rng, (count, height, width), -1.0, 1.0)
    true_kernel = _kernel_signs(kernel_shape) * _spread(
        rng, kernel_shape, 0.3, 1.0)
    return {"images": images, "true_kernel": true_kernel,
            "targets": ref.feature_maps(images, true_kernel)}


# (images, height, width, kernel shape, dtype): one image once (a sum over
# the batch is then right), square and non-square kernels, float32 once.
GRADIENT_CASES = ((2, 8, 9, (3, 3), np.float64),
                  (5, 7, 10, (2, 4), np.float64),
                  (3, 10, 7, (4, 3), np.float64),
                  (4, 9, 9, (3, 3), np.float32),
                  (1, 6, 8, (2, 2), np.float64))


@hidden_test(checks.kernel_gradient)
def hidden_kernel_gradient(kernel_gradient, score, ref, rng):
    """Hidden tests: fixed batches; the kernel is 0.5 to 1 away from the
    true one in every weight (signs in the fixed pattern), so the gradient
    is large and not symmetric."""
    for count, height, width, kernel_shape, dtype in GRADIENT_CASES:
        case = _kernel_problem(rng, count, height, width, kernel_shape, ref)
        images = case["images"].astype(dtype)
        targets = case["targets"].astype(dtype)
        kernel = (case["true_kernel"] + _kernel_signs(kernel_shape)
                  * _spread(rng, kernel_shape, 0.5, 1.0)).astype(dtype)
        want = ref.kernel_gradient(images, targets, kernel)
        variants = checks.gradient_variants(ref, images, targets, kernel)
        score.case(t("{count} {dtype} images {height}x{width}, kernel "
                     "{shape}", count=count, dtype=dtype.__name__,
                     height=height, width=width, shape=kernel_shape),
                   lambda i=images, g=targets, k=kernel, w=want,
                   v=variants: checks.kernel_gradient.problem(
                       kernel_gradient, i, g, k, w, v))


# (images, size, kernel_size, learning_rate, steps), each clearly in one
# regime for every draw of pixels. With a = learning_rate times an
# eigenvalue of the loss's curvature (in 300 draws: [0.23, 0.72],
# [0.21, 0.41] and [0.004, 0.009]):
# - converged to machine precision: more steps give the same kernel; the
#   default learning rate 0.003, or a gradient divided by the number of
#   positions, is far off; a gradient not averaged over the 5 images
#   diverges (5a > 2 for the largest a); one twice too large still
#   converges (2a < 1.5);
# - 12 quick steps, far from converged: 5 steps fewer, or the default
#   learning rate, is over twice as far from the true kernel as allowed;
#   more steps, or a gradient twice too large (2 images: the same as one
#   not averaged), is closer;
# - 1000 slow steps, not converged: 500 steps are over 5 times as far
#   from the true kernel as allowed; 5 fewer stay within 0.7 times that
#   distance.
# kernel_size is the default 3 only in the first. A gradient with the
# wrong sign, or flipped, makes the descent diverge in all three.
LEARN_CASES = ((5, 9, 3, 0.027, 150),
               (2, 12, 2, 0.0075, 12),
               (6, 14, 4, 0.00015, 1000))


@hidden_test(checks.learn_kernel)
def hidden_learn_kernel(learn_kernel, score, ref, rng):
    """Hidden tests: gradient descent recovers the kernel, fixed cases."""
    for count, size, kernel_size, learning_rate, steps in LEARN_CASES:
        case = _kernel_problem(rng, count, size, size,
                               (kernel_size, kernel_size), ref)
        case.update(kernel_size=kernel_size, learning_rate=learning_rate,
                    steps=steps)
        want = ref.learn_kernel(case["images"], case["targets"],
                                kernel_size, learning_rate, steps)
        score.case(t("{count} images {size}x{size}, kernel_size="
                     "{kernel_size}, {steps} steps", count=count, size=size,
                     kernel_size=kernel_size, steps=steps),
                   lambda c=case, w=want:
                   checks.learn_kernel.problem(learn_kernel, c, w))
