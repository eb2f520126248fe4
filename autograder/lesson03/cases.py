"""The fixed inputs of lesson 03's visible checks, drawn together."""

import numpy as np

from autograder.lesson03.common import lesson
from autograder.lesson03.kernel_learning import kernel_inputs


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
