"""The judge's shift-robustness criterion on correct designs and mistakes.

Each design is a `build_robust_cnn(input_shape, num_classes)` a learner
might write. Like the judge, we build it for 14x14 inputs, save and load
it as a .keras file, then let trusted_grader.judging.robustness rebuild it
fresh, train it briefly and measure it at shifts of -2..+2 px. Correct designs
must all pass (no false negatives), the mistakes must all fail (no false
positives); "info" designs are reported but not counted.

    python -m benchmarks.bench_robust_criterion
"""

import tempfile
import warnings
from pathlib import Path

from benchmarks.common import Row
from trusted_grader.judging import robustness

CORRECT_SEEDS = (0, 1, 2)
MISTAKE_SEEDS = (0, 1, 2)


def _keras():
    from cnn_course import import_tensorflow

    return import_tensorflow()[1]


def _conv_block(filters):
    keras = _keras()
    return [keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(), keras.layers.ReLU()]


def _compile(model, optimizer="adam"):
    model.compile(optimizer=optimizer, loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _reference_schedule():
    keras = _keras()
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=7 * 469, warmup_target=3e-3, warmup_steps=100)


def reference(input_shape, num_classes, translation=(0.1, 0.2),
              head="flatten", optimizer=None):
    """The course's solution; the variants change one thing in it."""
    keras = _keras()
    pooling = (keras.layers.Flatten() if head == "flatten"
               else keras.layers.GlobalAveragePooling2D())
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.RandomTranslation(*translation, fill_mode="constant"),
        *_conv_block(24), keras.layers.MaxPooling2D(),
        *_conv_block(48), keras.layers.MaxPooling2D(),
        *_conv_block(96),
        pooling, keras.layers.Dropout(0.3),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
    if optimizer is None:
        optimizer = keras.optimizers.Adam(_reference_schedule())
    return _compile(model, optimizer)


def seed_cnn(input_shape, num_classes, translation=None, optimizer="adam"):
    """The seed CNN, with a RandomTranslation in front if given."""
    keras = _keras()
    front = ([keras.layers.RandomTranslation(*translation)]
             if translation is not None else [])
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        *front,
        keras.layers.Conv2D(32, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(1000, activation="relu"),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
    return _compile(model, optimizer)


def plain_gap(input_shape, num_classes):
    """Three plain conv layers (no BN), global average pooling."""
    keras = _keras()
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.RandomTranslation(0.1, 0.15),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
    return _compile(model)


def deep_bn_dropout(input_shape, num_classes):
    """Two BN conv blocks per stage, dropout, a dense layer; Adam 1e-3."""
    keras = _keras()
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.RandomTranslation(0.15, 0.15, fill_mode="constant"),
        *_conv_block(32), *_conv_block(32), keras.layers.MaxPooling2D(),
        keras.layers.Dropout(0.25),
        *_conv_block(64), *_conv_block(64), keras.layers.MaxPooling2D(),
        keras.layers.Dropout(0.25),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
    return _compile(model, keras.optimizers.Adam(1e-3))


def functional(input_shape, num_classes):
    """The reference written with the functional API; exponential decay."""
    keras = _keras()
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.RandomTranslation(0.15, 0.15, fill_mode="constant")(
        inputs)
    for filters in (24, 48):
        x = keras.layers.Conv2D(filters, 3, padding="same",
                                use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(96, 3, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    schedule = keras.optimizers.schedules.ExponentialDecay(
        1e-3, decay_steps=1000, decay_rate=0.5)
    return _compile(model, keras.optimizers.Adam(schedule))


def nested_blocks(input_shape, num_classes):
    """Augmentation and BN features as nested Sequential models; GAP."""
    keras = _keras()
    augment = keras.Sequential(
        [keras.layers.RandomTranslation(0.1, 0.1)], name="augment")
    features = keras.Sequential(
        [*_conv_block(32), keras.layers.MaxPooling2D(),
         *_conv_block(64), keras.layers.MaxPooling2D()], name="features")
    model = keras.Sequential([
        keras.Input(shape=input_shape), augment, features,
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
    return _compile(model, keras.optimizers.RMSprop(1e-3))


def long_warmup(input_shape, num_classes):
    """Reference with a 500-step warmup: still warming after 141 steps."""
    keras = _keras()
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=5 * 938, warmup_target=2e-3, warmup_steps=500)
    return reference(input_shape, num_classes,
                     optimizer=keras.optimizers.Adam(schedule))


def _optimizer(name, *args, **kwargs):
    """A factory, so that each build gets its own optimizer object."""
    def make():
        keras = _keras()
        if name == "cosine":
            return keras.optimizers.Adam(
                keras.optimizers.schedules.CosineDecay(*args, **kwargs))
        return getattr(keras.optimizers, name)(*args, **kwargs)
    return make


def _with(build, optimizer=None, **options):
    def design(input_shape, num_classes):
        if optimizer is not None:
            options["optimizer"] = optimizer()
        return build(input_shape, num_classes, **options)
    return design


# (name, build, expected): "pass", "fail", or "info" (not counted).
DESIGNS = [
    ("reference", reference, "pass"),
    ("reference_gap", _with(reference, head="gap"), "pass"),
    ("seed_cnn_translate", _with(seed_cnn, translation=(0.1, 0.15)),
     "pass"),
    ("plain_gap", plain_gap, "pass"),
    ("deep_bn_dropout", deep_bn_dropout, "pass"),
    ("functional", functional, "pass"),
    ("nested_blocks", nested_blocks, "pass"),
    ("long_warmup", long_warmup, "pass"),
    ("decay_in_epochs",
     _with(reference, _optimizer("cosine", 3e-3, decay_steps=7)), "fail"),
    ("seed_translate_zero", _with(seed_cnn, translation=(0.0, 0.0)),
     "fail"),
    ("seed_height_only", _with(seed_cnn, translation=(0.15, 0.0)),
     "fail"),
    ("seed_no_augment", seed_cnn, "fail"),
    ("reference_adam_lr1", _with(reference, _optimizer("Adam", 1.0)),
     "fail"),
    ("seed_sgd_1e-5", _with(seed_cnn, _optimizer("SGD", 1e-5)), "fail"),
    ("seed_translate_lr1", _with(seed_cnn, _optimizer("Adam", 1.0),
                                 translation=(0.1, 0.15)), "fail"),
    ("warmup_then_decay_in_epochs",
     _with(reference, _optimizer("cosine", 0.0, decay_steps=7,
                                 warmup_target=3e-3, warmup_steps=100)),
     "info"),
    ("reference_height_only", _with(reference, translation=(0.1, 0.0)),
     "info"),
]


def _as_judge_sees_it(build, folder):
    """Build for 14x14 digits, save as .keras and load it back."""
    keras = _keras()
    model = build(robustness.INPUT_SHAPE, robustness.NUM_CLASSES)
    path = Path(folder) / "model.keras"
    model.save(path)
    with warnings.catch_warnings():
        # The optimizer was never used, so it has no variables to restore.
        warnings.filterwarnings("ignore", "Skipping variable loading")
        return keras.models.load_model(path)


def _ratio(accuracies):
    shifted = min(value for dx, value in accuracies.items() if dx != 0)
    return shifted / max(accuracies[0], 1e-9)


def trials():
    """One dict per (design, seed) with the measured figures."""
    found = []
    with tempfile.TemporaryDirectory() as folder:
        for name, build, expected in DESIGNS:
            model = _as_judge_sees_it(build, folder)
            seeds = CORRECT_SEEDS if expected == "pass" else MISTAKE_SEEDS
            for seed in seeds:
                result = robustness.train_and_measure(model, seed)
                problem = robustness.robustness_problem(result)
                accuracies = result["accuracies"]
                worst = min(accuracies, key=accuracies.get)
                found.append({
                    "design": name, "seed": seed, "expected": expected,
                    "accuracies": accuracies, "worst_shift": worst,
                    "worst": accuracies[worst],
                    "retained": _ratio(accuracies),
                    "seconds": result["seconds"],
                    "passed": problem is None, "problem": problem,
                })
                _print_trial(found[-1])
    return found


def _print_header():
    shifts = "".join(f"{dx:>+7d}" for dx in robustness.SHIFTS)
    print(f"{'design':<28}{'seed':>4}{shifts}  {'worst':>5} {'kept':>5}"
          f" {'sec':>5}  {'got':<4} {'want':<4}")


def _print_trial(trial):
    accuracies = "".join(f"{trial['accuracies'][dx]:>7.3f}"
                         for dx in robustness.SHIFTS)
    got = "pass" if trial["passed"] else "fail"
    flag = "" if trial["expected"] in (got, "info") else "  <-- WRONG"
    print(f"{trial['design']:<28}{trial['seed']:>4}{accuracies}  "
          f"{trial['worst_shift']:>+5d} {trial['retained']:>5.3f}"
          f" {trial['seconds']:>5.1f}  {got:<4} {trial['expected']:<4}"
          f"{flag}", flush=True)


def _slack(trial):
    """How far a trial is from the nearer bar (+ above it, - below)."""
    return min(trial["worst"] - robustness.MIN_ACCURACY,
               trial["retained"] - robustness.MIN_RETAINED)


def figures(found):
    """The summary figures of a list of trials."""
    correct = [t for t in found if t["expected"] == "pass"]
    mistakes = [t for t in found if t["expected"] == "fail"]
    seconds = [t["seconds"] for t in found]
    return {
        "criterion": {"min_accuracy": robustness.MIN_ACCURACY,
                      "min_retained": robustness.MIN_RETAINED,
                      "shifts": list(robustness.SHIFTS)},
        "correct_trials": len(correct),
        "mistake_trials": len(mistakes),
        "false_negatives": sum(not t["passed"] for t in correct),
        "false_positives": sum(t["passed"] for t in mistakes),
        "correct_min_worst_accuracy": min(t["worst"] for t in correct),
        "correct_min_retained": min(t["retained"] for t in correct),
        "correct_min_slack": min(_slack(t) for t in correct),
        "mistake_max_slack": max(_slack(t) for t in mistakes),
        "mean_trial_seconds": sum(seconds) / len(seconds),
        "max_trial_seconds": max(seconds),
        "trials": found,
    }


def rows(summary):
    """The summary as benchmark Rows (without the per-trial figures)."""
    return [
        Row("robust_false_negatives",
            f"correct designs failed ({summary['correct_trials']} trials)",
            summary["false_negatives"], "", "== 0",
            summary["false_negatives"] == 0),
        Row("robust_false_positives",
            f"mistakes passed ({summary['mistake_trials']} trials)",
            summary["false_positives"], "", "== 0",
            summary["false_positives"] == 0),
        Row("robust_correct_min_worst",
            "correct designs: lowest worst-shift accuracy",
            summary["correct_min_worst_accuracy"], "",
            f">= {robustness.MIN_ACCURACY}"),
        Row("robust_correct_min_retained",
            "correct designs: lowest shifted/unshifted ratio",
            summary["correct_min_retained"], "",
            f">= {robustness.MIN_RETAINED}"),
        Row("robust_correct_min_slack",
            "correct designs: closest distance above a bar",
            summary["correct_min_slack"], "", "> 0"),
        Row("robust_mistake_max_slack",
            "mistakes: closest distance below a bar (negative)",
            summary["mistake_max_slack"], "", "< 0"),
        Row("robust_mean_trial_seconds", "one judge trial, mean",
            summary["mean_trial_seconds"], "s"),
        Row("robust_max_trial_seconds", "one judge trial, slowest",
            summary["max_trial_seconds"], "s", "<= 15",
            summary["max_trial_seconds"] <= 15),
    ]


def _print_rows(table):
    width = max(len(row.what) for row in table)
    for row in table:
        value = (f"{row.value:.3f}" if isinstance(row.value, float)
                 else str(row.value))
        verdict = {True: "yes", False: "NO", None: ""}[row.met]
        print(f"{row.what:<{width}}  {value:>8} {row.unit:<1}  "
              f"{row.bar:<7} {verdict}")


def measure():
    """Run every design and seed; print the table; return the figures."""
    _print_header()
    summary = figures(trials())
    print()
    _print_rows(rows(summary))
    for trial in summary["trials"]:
        if trial["expected"] != "pass" and trial["seed"] == 0:
            print(f"{trial['design']} (seed 0): {trial['problem']}")
        elif trial["expected"] == "pass" and not trial["passed"]:
            print(f"FALSE NEGATIVE {trial['design']} seed {trial['seed']}:"
                  f" {trial['problem']}")
    return summary


def run(notebooks=True):
    """The benchmark runner's entry: the criterion's rows."""
    return rows(measure())


if __name__ == "__main__":
    measure()
