"""Hidden tests of lesson 03, run by the judge on recorded answers.

Each `hidden_<exercise>` adds its cases (`scoring.hidden_test`): inputs
from `rng` (seeded per grading run and exercise), `func` a replay of the
kernel's answers, `ref` the reference solutions.
"""

import numpy as np

from autograder import lesson03 as checks
from autograder.messages import t
from trusted_grader.scoring import hidden_test

hidden = hidden_test(checks.LESSON)


def _random_array(rng, scale=3.0, dims=None, dtype=np.float64):
    dims = dims or int(rng.integers(1, 4))
    shape = tuple(int(n) for n in rng.integers(1, 7, size=dims))
    return (scale * rng.normal(size=shape)).astype(dtype)


@hidden
def hidden_relu(relu, score, ref, rng):
    """Hidden tests: relu against the reference on random arrays."""
    inputs = [_random_array(rng, dims=dims) for dims in (1, 2, 3)]
    inputs.append(_random_array(rng, dims=3, dtype=np.float32))
    inputs.append(np.array([-1e300, -0.0, 0.0, 1e-300, 1e300]))
    for x in inputs:
        score.case(t("{dtype} array of shape {shape}", dtype=x.dtype,
                     shape=x.shape),
                   lambda x=x: checks._relu_problem(relu, x, ref.relu(x)))


@hidden
def hidden_sigmoid(sigmoid, score, ref, rng):
    """Hidden tests: sigmoid on random arrays and extreme values."""
    inputs = [_random_array(rng, scale=5, dims=dims) for dims in (1, 2, 3)]
    inputs.append(_random_array(rng, scale=5, dims=2, dtype=np.float32))
    inputs.append(np.array([-1e4, -1000, -745, -710, 710, 745, 1000, 1e4]))
    inputs.append(np.array([[-800.0, 800], [-50, 50]], dtype=np.float32))
    for x in inputs:
        score.case(t("{dtype} array of shape {shape}", dtype=x.dtype,
                     shape=x.shape),
                   lambda x=x: checks._sigmoid_problem(sigmoid, x,
                                                       ref.sigmoid(x)))


@hidden
def hidden_softmax(softmax, score, ref, rng):
    """Hidden tests: softmax on random vectors, batches and extremes."""
    size = int(rng.integers(3, 7))
    inputs = [rng.normal(size=10) * 4, rng.normal(size=(size, size)) * 4,
              rng.normal(size=(2, 3, size)) * 4,
              (rng.normal(size=(3, 5)) * 4).astype(np.float32),
              rng.normal(size=(4, 6)) * 1000,
              np.array([[1000.0, 1000.0], [-1000, -1000]]),
              np.array([5.0])]
    for z in inputs:
        wrong_axis = checks._softmax_wrong_axis(ref, z) if z.ndim > 1 \
            else None
        score.case(t("{dtype} array of shape {shape}", dtype=z.dtype,
                     shape=z.shape),
                   lambda z=z, w=wrong_axis: checks._softmax_problem(
                       softmax, z, ref.softmax(z), w))


@hidden
def hidden_max_pool2d(max_pool2d, score, ref, rng):
    """Hidden tests: max_pool2d on random inputs against the reference."""

    def add_case(x, size, stride):
        def run():
            stride_one = (ref.max_pool2d(x, size, 1)
                          if stride is None else None)
            return checks._pool_problem(max_pool2d, x, size, stride,
                                 ref.max_pool2d(x, size, stride),
                                 stride_one)
        score.case(f"{x.dtype} {x.shape}, size={size}, stride={stride}",
                   run)

    for size, stride, channels in ((2, None, 0), (2, None, 4),
                                   (3, None, 2), (3, 2, 3), (2, 1, 0)):
        height, width = (int(n) for n in rng.integers(size + 1, 14, 2))
        shape = (height, width, channels) if channels else (height, width)
        x = rng.normal(size=shape)
        if channels:
            x += 10.0 * np.arange(channels)
        add_case(x, size, stride)
    add_case(rng.normal(size=(26, 26, 8)).astype(np.float32), 2, None)
    add_case(rng.normal(size=(2, 2)), 2, None)


@hidden
def hidden_conv2d_layer(conv2d_layer, score, ref, rng):
    """Hidden tests: conv2d_layer on random shapes against the reference."""
    shapes = [((28, 28, 1), (3, 3, 1, 8)), ((7, 9, 3), (3, 3, 3, 3)),
              ((8, 6, 2), (2, 3, 2, 5)), ((5, 5, 4), (5, 5, 4, 2)),
              ((6, 7, 2), (1, 1, 2, 3))]
    for index, (x_shape, k_shape) in enumerate(shapes):
        dtype = np.float32 if index == 0 else np.float64
        x = rng.random(x_shape).astype(dtype)
        kernels = rng.normal(size=k_shape).astype(dtype)
        bias = rng.normal(size=k_shape[3]).astype(dtype)

        def run(x=x, kernels=kernels, bias=bias):
            return checks._conv_problem(
                conv2d_layer, x, kernels, bias,
                ref.conv2d_layer(x, kernels, bias),
                checks._conv_variants(ref, x, kernels, bias))
        score.case(f"x {x_shape}, kernels {k_shape}, {dtype.__name__}", run)


@hidden
def hidden_flatten(flatten, score, ref, rng):
    """Hidden tests: flatten on random shapes against the reference."""
    inputs = [rng.normal(size=(13, 13, 8)).astype(np.float32),
              rng.normal(size=tuple(int(n) for n in rng.integers(2, 6, 3))),
              rng.normal(size=(1, 1, 5)), rng.normal(size=(3, 4)),
              rng.integers(0, 9, size=(2, 3, 2))]
    for x in inputs:
        score.case(t("{dtype} array of shape {shape}", dtype=x.dtype,
                     shape=x.shape),
                   lambda x=x: checks._flatten_problem(flatten, x,
                                                       ref.flatten(x)))


@hidden
def hidden_dense(dense, score, ref, rng):
    """Hidden tests: dense on random sizes against the reference."""
    for batch, n, m, dtype in ((None, 7, 4, np.float64),
                               (5, 6, 3, np.float64),
                               (1, 3, 3, np.float64),
                               (None, 1352, 10, np.float32),
                               (8, 4, 4, np.float32)):
        shape = (n,) if batch is None else (batch, n)
        x = rng.normal(size=shape).astype(dtype)
        W = rng.normal(size=(n, m)).astype(dtype)  # noqa: N806
        b = rng.normal(size=m).astype(dtype)
        score.case(f"x {shape}, W {(n, m)}, {dtype.__name__}",
                   lambda x=x, W=W, b=b: checks._dense_problem(  # noqa: N803
                       dense, x, W, b, ref.dense(x, W, b)))


@hidden
def hidden_cnn_forward(cnn_forward, score, ref, rng):
    """Hidden tests: random models of the lesson's architecture."""
    size = int(rng.integers(8, 15))
    # Few architectures: each new one costs Keras a model and a trace.
    configs = [
        {"input_shape": [28, 28, 1], "kernel_size": [3, 3],
         "filters": int(rng.integers(2, 9)), "classes": 10, "images": 2,
         "large_logits": False},
        {"input_shape": [size, size + 1, 1], "kernel_size": [5, 3],
         "filters": int(rng.integers(2, 5)), "classes": 3, "images": 1,
         "large_logits": False},
        {"input_shape": [13, 12, 1], "kernel_size": [3, 3],
         "filters": 2, "classes": 6, "images": 1, "large_logits": True},
    ]
    for config in configs:
        checks._forward_cases(cnn_forward, config, rng, score)


def _kernel_problem(rng, count, height, width, kernel_shape, ref):
    """Random centred images, a random true kernel and its feature maps."""
    images = rng.uniform(-1, 1, (count, height, width))
    true_kernel = rng.uniform(-1, 1, kernel_shape)
    return {"images": images, "true_kernel": true_kernel,
            "targets": ref.feature_maps(images, true_kernel)}


@hidden
def hidden_kernel_gradient(kernel_gradient, score, ref, rng):
    """Hidden tests: random batches and kernels against the reference."""
    for count, kernel_shape, dtype in ((2, (3, 3), np.float64),
                                       (5, (2, 4), np.float64),
                                       (3, (4, 3), np.float64),
                                       (4, (3, 3), np.float32),
                                       (1, (2, 2), np.float64)):
        height, width = (int(n) for n in rng.integers(6, 12, 2))
        case = _kernel_problem(rng, count, height, width, kernel_shape, ref)
        images = case["images"].astype(dtype)
        targets = case["targets"].astype(dtype)
        kernel = rng.uniform(-1, 1, kernel_shape).astype(dtype)
        want = ref.kernel_gradient(images, targets, kernel)
        score.case(t("{count} {dtype} images {height}x{width}, kernel "
                     "{shape}", count=count, dtype=dtype.__name__,
                     height=height, width=width, shape=kernel_shape),
                   lambda i=images, g=targets, k=kernel, w=want:
                   checks._gradient_problem(kernel_gradient, i, g, k, w))


@hidden
def hidden_learn_kernel(learn_kernel, score, ref, rng):
    """Hidden tests: the kernel gradient descent recovers, random cases."""
    for count, size, kernel_size, learning_rate, steps in (
            (3, 9, 3, 0.04, 150), (5, 6, 2, 0.05, 30), (2, 10, 4, 0.03, 80)):
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
                   checks._learn_problem(learn_kernel, c, w))
