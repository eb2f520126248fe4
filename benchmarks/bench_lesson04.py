"""Lesson 04: the seed CNN, the robust CNN and variants of both.

Runs the solution notebook end to end on the full data and reads its
figures from the kernel afterwards, so the numbers are exactly what a
learner's run shows, with the notebook's training recipe.

Then, in the same kernel, the ablation: each variant is the notebook's own
`build_cnn()` or `build_robust_cnn()` with one or two changes to its
layers (the robust CNN's RandomTranslation added to the seed CNN or
removed from the robust CNN, the robust CNN's global average pooling
replaced by Flatten), compiled as the original, trained from `set_seed(0)`
with the original's recipe and measured with the notebook's
`shifted_accuracy` on the whole test set. The figures go to
benchmarks/results.json and, for the notebook to show, to
data/lesson04_ablation.json (committed).
"""

import json
import os

from benchmarks.common import ROOT, Row, execute_notebook

LESSON = "04_keras_cnn"
ROBUST_BAR_SECONDS = 180
ROBUST_TEST_BAR = 0.995  # test accuracy
ROBUST_WORST_BAR = 0.993  # at every shift -4..+4
ABLATION_FILE = ROOT / "data" / "lesson04_ablation.json"
SEED = 0
PROBE = """
import json
print(json.dumps({
    "dense_accuracy": float(dense_accuracy),
    "cnn_accuracy": float(cnn_accuracy),
    "robust_accuracy": float(robust_accuracy),
    "cnn_seconds": cnn_seconds,
    "robust_seconds": robust_seconds,
    "cnn_epochs": budget["cnn_epochs"],
    "robust_epochs": budget["robust_epochs"],
    "mean_shifts": mean_shifts,
    "cnn_mean_one": [int(p.argmax()) for p in cnn_probs],
    "cnn_mean_one_p1": [float(p[1]) for p in cnn_probs],
    "curves": {name: {str(dx): acc for dx, acc in curve.items()}
               for name, curve in curves.items()},
}))
"""
# Defines `ablation_variant` in the notebook's kernel.
ABLATION_SETUP = """
def _unbuilt(layer_config):
    return {key: value for key, value in layer_config.items()
            if key != "build_config"}


def ablation_variant(build, drop=(), replace=None, translation_from=None):
    '''The model build() makes, without the layers whose class is in
    `drop`, with the layer of class replace[0] replaced by replace[1],
    or with the first RandomTranslation of translation_from() added
    after the input; compiled exactly as build() compiles.'''
    model = build()
    config = model.get_config()
    layers = []
    for layer in map(_unbuilt, config["layers"]):
        if layer["class_name"] in drop:
            continue
        if replace and layer["class_name"] == replace[0]:
            layer = keras.saving.serialize_keras_object(replace[1])
        layers.append(layer)
        if translation_from and layer["class_name"] == "InputLayer":
            layers.append(_unbuilt(next(
                item for item in translation_from().get_config()["layers"]
                if item["class_name"] == "RandomTranslation")))
    variant = keras.Sequential.from_config({**config, "layers": layers})
    variant.compile_from_config(model.get_compile_config())
    return variant
"""
# Trains and measures one variant; formatted with VARIANTS' fields.
ABLATION_RUN = """
import json
set_seed({seed})
model = ablation_variant({arguments})
start = time.perf_counter()
model.fit(images_train[:num_train], onehot_train[:num_train],
          epochs=budget["{epochs}"], batch_size={batch_size}, verbose=0)
seconds = time.perf_counter() - start
_, accuracy = model.evaluate(images_test[:num_test],
                             onehot_test[:num_test], verbose=0)
curve = shifted_accuracy(model, x_test[:num_test], y_test[:num_test],
                         test_shifts)
print(json.dumps({{
    "layers": [type(layer).__name__ for layer in model.layers],
    "epochs": budget["{epochs}"], "train_size": int(num_train),
    "test_accuracy": float(accuracy), "train_seconds": seconds,
    "shifted_accuracy": {{str(dx): acc for dx, acc in curve.items()}},
}}))
"""
ROBUST = {"epochs": "robust_epochs", "batch_size": 128}
SEED_RECIPE = {"epochs": "cnn_epochs", "batch_size": 1024}
# key: (name, augmentation, head, recipe, arguments of ablation_variant)
VARIANTS = {
    "seed_augmented": (
        "seed CNN + augmentation", True, "Flatten + Dense", SEED_RECIPE,
        "build_cnn, translation_from=build_robust_cnn"),
    "robust_no_augmentation": (
        "robust CNN without augmentation", False, "global average pooling",
        ROBUST, "build_robust_cnn, drop=('RandomTranslation',)"),
    "robust_flatten": (
        "robust CNN, Flatten instead of global pooling", True, "Flatten",
        ROBUST,
        "build_robust_cnn, "
        "replace=('GlobalAveragePooling2D', keras.layers.Flatten())"),
    "robust_flatten_no_augmentation": (
        "robust CNN, Flatten, no augmentation", False, "Flatten", ROBUST,
        "build_robust_cnn, drop=('RandomTranslation',), "
        "replace=('GlobalAveragePooling2D', keras.layers.Flatten())"),
}


def ablation_probes():
    return [ABLATION_SETUP] + [
        ABLATION_RUN.format(seed=SEED, arguments=arguments, **recipe)
        for _, _, _, recipe, arguments in VARIANTS.values()]


def ablation_data(figures, variants, seconds, load):
    """What data/lesson04_ablation.json holds: every model of this run."""
    from cnn_course import import_tensorflow

    tf, _ = import_tensorflow()
    models = {
        "seed": {"name": "seed CNN", "augmentation": False,
                 "head": "Flatten + Dense", "change": "none (build_cnn)",
                 "epochs": figures["cnn_epochs"], "batch_size": 1024,
                 "test_accuracy": figures["cnn_accuracy"],
                 "train_seconds": figures["cnn_seconds"],
                 "shifted_accuracy": figures["curves"]["seed CNN"]},
        "robust": {"name": "robust CNN", "augmentation": True,
                   "head": "global average pooling",
                   "change": "none (build_robust_cnn)",
                   "epochs": figures["robust_epochs"],
                   "batch_size": 128,
                   "test_accuracy": figures["robust_accuracy"],
                   "train_seconds": figures["robust_seconds"],
                   "shifted_accuracy": figures["curves"]["robust CNN"]},
    }
    for (key, (name, augmented, head, recipe, arguments)), result in zip(
            VARIANTS.items(), variants):
        models[key] = {
            "name": name, "augmentation": augmented, "head": head,
            "change": f"ablation_variant({arguments})",
            "epochs": result["epochs"], "batch_size": recipe["batch_size"],
            "layers": result["layers"],
            "test_accuracy": result["test_accuracy"],
            "train_seconds": result["train_seconds"],
            "shifted_accuracy": result["shifted_accuracy"]}
    return {
        "source": "benchmarks/bench_lesson04.py "
                  "(python -m benchmarks.run --only lesson04)",
        "how": "the solution notebook run end to end on the full data; "
               "each variant built from its build_cnn or build_robust_cnn "
               "with one or two changes to the layers, compiled and "
               "trained as the original, measured with its "
               "shifted_accuracy on the whole test set",
        "seed": SEED, "runs_per_model": 1,
        "cpu_count": os.cpu_count(), "tensorflow_version": tf.__version__,
        "load_average_15min": load, "notebook_seconds": seconds,
        "models": models}


def run(notebooks=True):
    if not notebooks:
        return []  # every figure comes from the notebook's own run
    path = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
    seconds, (figures, _, *variants) = execute_notebook(
        path, probe=[PROBE, *ablation_probes()])
    cnn_at = dict(zip(figures["mean_shifts"], figures["cnn_mean_one"]))
    p1_at = dict(zip(figures["mean_shifts"], figures["cnn_mean_one_p1"]))
    holds = all(cnn_at[dx] == 1 for dx in (-2, -1, 0, 1, 2))
    robust_curve = figures["curves"]["robust CNN"]
    worst = min(robust_curve.values())
    rows = [
        Row("cnn_test_accuracy", "seed CNN test accuracy",
            figures["cnn_accuracy"], "", ">= 0.985",
            figures["cnn_accuracy"] >= 0.985),
        Row("cnn_mean_one_holds_2px",
            "seed CNN: mean 1 read as 1 at every shift -2..+2",
            f"{holds} (P(1) {p1_at[-2]:.2f}/{p1_at[2]:.2f} at -2/+2)", "",
            "True", holds),
        Row("cnn_train_seconds", "seed CNN training, 5 epochs",
            figures["cnn_seconds"], "s"),
        Row("robust_test_accuracy", "robust CNN test accuracy",
            figures["robust_accuracy"], "", f">= {ROBUST_TEST_BAR}",
            figures["robust_accuracy"] >= ROBUST_TEST_BAR),
        Row("robust_worst_shift_accuracy",
            "robust CNN: worst accuracy over shifts -4..+4", worst, "",
            f">= {ROBUST_WORST_BAR}", worst >= ROBUST_WORST_BAR),
        Row("robust_train_seconds", "robust CNN training, 6 epochs",
            figures["robust_seconds"], "s", f"<= {ROBUST_BAR_SECONDS}",
            figures["robust_seconds"] <= ROBUST_BAR_SECONDS),
    ]
    for name, key in (("dense net", "dense"), ("seed CNN", "cnn"),
                      ("robust CNN", "robust")):
        for dx, accuracy in figures["curves"][name].items():
            rows.append(Row(f"{key}_04_shifted_accuracy_{int(dx):+d}",
                            f"{name}, test set shifted {int(dx):+d} px",
                            accuracy))
    for (key, (name, *_)), result in zip(VARIANTS.items(), variants):
        rows += [
            Row(f"ablation_{key}_test_accuracy", f"{name}: test accuracy",
                result["test_accuracy"]),
            Row(f"ablation_{key}_worst_shift_accuracy",
                f"{name}: worst accuracy over shifts -4..+4",
                min(result["shifted_accuracy"].values())),
            Row(f"ablation_{key}_train_seconds", f"{name}: training",
                result["train_seconds"], "s")]
        for dx, accuracy in result["shifted_accuracy"].items():
            rows.append(Row(f"ablation_{key}_shifted_accuracy_{int(dx):+d}",
                            f"{name}, test set shifted {int(dx):+d} px",
                            accuracy))
    rows.append(Row("notebook04_seconds",
                    "lesson 04 solution notebook end to end", seconds, "s"))
    # Other work on the machine slows every timing above; the accuracies
    # do not depend on it.
    load = round(os.getloadavg()[2], 2)
    rows.append(Row("lesson04_load_average_15min",
                    "machine load (15-min average) when lesson 04 ended",
                    load))
    data = ablation_data(figures, variants, seconds, load)
    ABLATION_FILE.write_text(json.dumps(data, indent=1) + "\n")
    return rows
