"""What training lesson 04's robust CNN costs on this machine, and why.

    python -m benchmarks.robust_training                  # the lesson's run
    python -m benchmarks.robust_training --epochs 4       # fewer epochs
    python -m benchmarks.robust_training --filters 16,32,64,128

Trains the solution notebook's own `build_robust_cnn` (read from
solutions/, as the judge reads it) with the lesson's recipe: `set_seed(0)`,
all 60,000 training digits, batches of 128, and prints a table: each
epoch's wall-clock and CPU seconds, the totals, the cores the training
really used (CPU seconds / wall-clock seconds, at most the machine's core
count), test accuracy and the worst accuracy over shifts -4..+4 px,
measured with the notebook's `shifted_accuracy` on the whole test set.

`--filters` changes the convolutions' filter counts and `--epochs` the
number of epochs; the learning-rate schedule is then rebuilt to end with
the last batch, as the lesson's does. Neither changes the lesson: they
measure candidate designs with the lesson's recipe. The bars are lesson
04's: >= 0.995 test accuracy, >= 0.993 at every shift, <= 180 s training.

Unlike `python -m benchmarks.run --only lesson04` (the whole notebook
and its ablation, about half an hour), this takes a few minutes and
writes nothing: it is for choosing a design, not for the record.
"""

import argparse
import os
import sys
import time

from autograder.lesson04 import STEPS_PER_EPOCH
from benchmarks.bench_lesson04 import (
    LESSON,
    ROBUST_BAR_SECONDS,
    ROBUST_TEST_BAR,
    ROBUST_WORST_BAR,
)
from benchmarks.common import Row

BATCH_SIZE = 128
SHIFTS = range(-4, 5)


def lesson_reference():
    """The solution notebook's namespace, as the judge reads it."""
    from trusted_grader.judging import reference

    return reference.load(LESSON)


def lesson_design(filters=None, epochs=6):
    """A function building the lesson's robust CNN, optionally changed.

    filters: a filter count for each Conv2D, in order, or None for the
    lesson's own. epochs: the schedule is rebuilt to decay over this many
    epochs of STEPS_PER_EPOCH batches (the lesson's warm-up kept).
    """
    build = lesson_reference().build_robust_cnn

    def build_changed():
        from cnn_course import import_tensorflow

        keras = import_tensorflow()[1]
        model = build()
        config = model.get_config()
        convs = [layer for layer in config["layers"]
                 if layer["class_name"] == "Conv2D"]
        if filters is not None:
            if len(filters) != len(convs):
                raise SystemExit(
                    f"--filters gives {len(filters)} counts; the lesson's "
                    f"design has {len(convs)} Conv2D layers")
            for layer, count in zip(convs, filters):
                layer["config"]["filters"] = count
            # Built layers record their input shapes; new widths change them.
            for layer in config["layers"]:
                layer.pop("build_config", None)
        changed = keras.Sequential.from_config(config)
        optimizer = keras.optimizers.serialize(model.optimizer)
        rate = optimizer["config"]["learning_rate"]
        if isinstance(rate, dict) and "decay_steps" in rate["config"]:
            warmup = rate["config"].get("warmup_steps", 0)
            rate["config"]["decay_steps"] = epochs * STEPS_PER_EPOCH - warmup
        changed.compile(optimizer=keras.optimizers.deserialize(optimizer),
                        loss=model.loss, metrics=["accuracy"])
        return changed

    return build_changed


def epoch_clock(keras):
    """A list that fills with each epoch's (wall, CPU) seconds, and the
    Keras callback that fills it."""
    epochs, start = [], []

    def begin(epoch, logs=None):
        start[:] = [time.perf_counter(), time.process_time()]

    def end(epoch, logs=None):
        epochs.append((time.perf_counter() - start[0],
                       time.process_time() - start[1]))

    return epochs, keras.callbacks.LambdaCallback(on_epoch_begin=begin,
                                                  on_epoch_end=end)


def train_and_measure(build, epochs, train_size=60000, test_size=10000):
    """Train `build()` like the lesson; return its figures as a dict."""
    import numpy as np

    from cnn_course import import_tensorflow, load_mnist, set_seed

    keras = import_tensorflow()[1]
    shifted_accuracy = lesson_reference().shifted_accuracy
    (x_train, y_train), (x_test, y_test) = load_mnist()
    images = x_train[:train_size, ..., np.newaxis].astype("float32") / 255
    onehot = keras.utils.to_categorical(y_train[:train_size], 10)
    load = os.getloadavg()[0]
    set_seed(0)
    model = build()
    epoch_seconds, clock = epoch_clock(keras)
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(images, onehot, epochs=epochs, batch_size=BATCH_SIZE,
              verbose=0, callbacks=[clock])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    curve = shifted_accuracy(model, x_test[:test_size], y_test[:test_size],
                             list(SHIFTS))
    return {"epochs": epoch_seconds, "wall": wall, "cpu": cpu,
            "test": curve[0], "worst": min(curve.values()),
            "worst_shift": min(curve, key=curve.get), "load": load,
            "full_size": (train_size, test_size) == (60000, 10000),
            "filters": [layer.filters for layer in model.layers
                        if hasattr(layer, "filters")]}


def rows(figures):
    """The table's rows; bars only on the full-size figures."""
    cores = figures["cpu"] / figures["wall"]
    ideal = figures["cpu"] / os.cpu_count()

    def bar(text, met):
        return (text, met) if figures["full_size"] else ("", None)

    result = [Row(f"epoch{index + 1}", f"epoch {index + 1}: wall / CPU",
                  f"{wall:.1f} / {cpu:.1f}", "s")
              for index, (wall, cpu) in enumerate(figures["epochs"])]
    result += [
        Row("filters", "filters of the Conv2D layers",
            ",".join(map(str, figures["filters"]))),
        Row("load_average", "load average (1 min) before training",
            figures["load"]),
        Row("train_seconds", "training, wall-clock", figures["wall"], "s",
            *bar(f"<= {ROBUST_BAR_SECONDS}",
                 figures["wall"] <= ROBUST_BAR_SECONDS)),
        Row("train_cpu_seconds", "training, CPU (all threads)",
            figures["cpu"], "s"),
        Row("cores_used", f"cores used (CPU / wall; machine has "
            f"{os.cpu_count()})", cores),
        Row("ideal_seconds", f"training if all {os.cpu_count()} cores "
            "were used", ideal, "s",
            *bar(f"<= {ROBUST_BAR_SECONDS}", ideal <= ROBUST_BAR_SECONDS)),
        Row("test_accuracy", "test accuracy", figures["test"], "",
            *bar(f">= {ROBUST_TEST_BAR}",
                 figures["test"] >= ROBUST_TEST_BAR)),
        Row("worst_shift_accuracy",
            f"worst accuracy over shifts -4..+4 (at "
            f"{figures['worst_shift']:+d} px)", figures["worst"], "",
            *bar(f">= {ROBUST_WORST_BAR}",
                 figures["worst"] >= ROBUST_WORST_BAR)),
    ]
    return result


def parse_filters(text):
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--filters takes comma-separated whole numbers, not {text!r}"
        ) from None
    if any(count < 1 for count in counts):
        raise argparse.ArgumentTypeError(
            f"--filters counts must be at least 1, not {text!r}")
    return counts


def main(argv=None):
    from benchmarks.run import print_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--filters", type=parse_filters, default=None)
    parser.add_argument("--train-size", type=int, default=60000)
    parser.add_argument("--test-size", type=int, default=10000)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, not {args.epochs}")
    build = lesson_design(args.filters, args.epochs)
    figures = train_and_measure(build, args.epochs, args.train_size,
                                args.test_size)
    print_table(rows(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
