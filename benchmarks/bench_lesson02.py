"""Lesson 02: the vectorized NumPy convolution against tf.nn.conv2d.

The convolutions are the lesson's reference solutions (`conv2d`, the loop
version, and `conv2d_fast`), read from the solution notebook's solution cells
by `trusted_grader.judging.reference`, so the benchmark times exactly what the
lesson teaches. Both sides get float32 inputs, produce float32 outputs as NumPy
arrays, run once to warm up, and are timed alternately; the fastest run of each
counts, which is the fairest figure on a shared machine.

The notebook's time comes from one full run of the solution notebook, and
a probe in the same kernel reads the figures of its pooling table ("A
moving digit, pooled"), with the notebook's own `change` (mean absolute
difference per number, in units of the unshifted edge map's mean after
ReLU): for shifts of 1 and 2 px, how much the edge map after ReLU, its
2x2 max and average pools, its global mean and global max change, and how
much the max pool differs from the unshifted one moved by one whole cell.
"""

import time

import numpy as np

from benchmarks.common import ROOT, Row, Timer, execute_notebook
from cnn_course import import_tensorflow, load_mnist
from trusted_grader.judging import reference

LESSON = "02_convolution_by_hand"
IMAGES = 1000
FILTERS = 32
LOOP_IMAGES = 10
REPEATS = 10
RATIO_BAR = 2.0
GRADING_BAR_SECONDS = 8.0
PROBE = """
import json
print(json.dumps({str(dx): {
    **{key: change(summaries[name](maps[dx]), summaries[name](maps[0]))
       for key, name in (("edge_map_change", "edge map"),
                         ("max_pool_change", "max pool"),
                         ("avg_pool_change", "avg pool"),
                         ("global_mean_change", "global mean"),
                         ("global_max_change", "global max"))},
    "max_pool_vs_moved_cell": change(max_pool(maps[dx]),
                                     shift_right(max_pool(maps[0]), 1)),
} for dx in (1, 2)}))
"""
POOL_FIGURES = {
    "edge_map_change": "change of the edge map after ReLU",
    "max_pool_change": "change of its 2x2 max pool",
    "avg_pool_change": "change of its 2x2 average pool",
    "global_mean_change": "change of its global mean",
    "global_max_change": "change of its global max",
    "max_pool_vs_moved_cell": "max pool vs unshifted moved 1 cell",
}


def inputs():
    (x_train, _), _ = load_mnist()
    images = (x_train[:IMAGES] / 255.0).astype(np.float32)
    kernels = np.random.default_rng(0).normal(
        size=(3, 3, FILTERS)).astype(np.float32)
    return images, kernels


def tf_conv(tf, images, kernels):
    """tf.nn.conv2d on the same arrays: one input channel, valid, stride 1."""
    return tf.nn.conv2d(images[..., np.newaxis],
                        kernels[:, :, np.newaxis, :], strides=1,
                        padding="VALID").numpy()


def fastest(functions, repeats=REPEATS):
    """Best time of each function, timed alternately after a warm-up."""
    for function in functions.values():
        function()
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def loop_seconds(conv2d, images, kernels):
    """The loop version on every (image, kernel) pair of a small set."""
    with Timer() as timer:
        for image in images:
            for index in range(kernels.shape[-1]):
                conv2d(image, kernels[:, :, index])
    return timer.seconds


def run(notebooks=True):
    tf, _ = import_tensorflow()
    ref = reference.load(LESSON)
    images, kernels = inputs()
    same = np.allclose(ref.conv2d_fast(images, kernels),
                       tf_conv(tf, images, kernels), atol=1e-4)
    best = fastest({
        "numpy": lambda: ref.conv2d_fast(images, kernels),
        "tf": lambda: tf_conv(tf, images, kernels),
    })
    ratio = best["numpy"] / best["tf"]
    loop = loop_seconds(ref.conv2d, images[:LOOP_IMAGES], kernels)
    task = f"{IMAGES} images x {FILTERS} 3x3 filters"
    rows = [
        Row("conv_fast_tf_ratio",
            f"conv2d_fast / tf.nn.conv2d time, {task}", ratio, "",
            f"<= {RATIO_BAR}", same and ratio <= RATIO_BAR),
        Row("conv_fast_ms", f"conv2d_fast (NumPy, float32), {task}",
            1000 * best["numpy"], "ms"),
        Row("conv_tf_ms", f"tf.nn.conv2d (float32), {task}",
            1000 * best["tf"], "ms"),
        Row("conv_loop_seconds",
            f"conv2d loops, {LOOP_IMAGES} images x {FILTERS} filters",
            loop, "s"),
        Row("conv_loop_extrapolated_seconds",
            f"conv2d loops, scaled to {task}",
            loop * IMAGES / LOOP_IMAGES, "s"),
    ]
    if notebooks:
        path = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
        seconds, pooling = execute_notebook(path, probe=PROBE)
        for dx, figures in pooling.items():
            for figure, what in POOL_FIGURES.items():
                rows.append(Row(f"pool02_{figure}_{dx}px",
                                f"digit shifted {dx} px: {what}",
                                figures[figure]))
        rows.append(Row("notebook02_seconds",
                        "lesson 02 solution notebook end to end",
                        seconds, "s"))
        grading = execute_notebook(path, grading=True)
        rows.append(Row("grading02_notebook_seconds",
                        "lesson 02 notebook in grading mode (no nbgrader)",
                        grading, "s", f"<= {GRADING_BAR_SECONDS:g}",
                        grading <= GRADING_BAR_SECONDS))
    return rows
