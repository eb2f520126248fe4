"""Describe a Keras model's architecture and compile settings as plain data.

Learners may write `Dense(1024, input_dim=784)` (Keras 2 style),
`keras.Input` + layers, or give the optimizer and loss as objects rather
than strings; the descriptions here are the same for all of those.
"""

import re

LOSS_ALIASES = {"categoricalcrossentropy": "categorical_crossentropy"}
ACCURACY_NAMES = {"accuracy", "acc", "categorical_accuracy"}
# The settings that define a layer for the course's exercises, in the order
# messages show them.
LAYER_SETTINGS = ("units", "filters", "kernel_size", "pool_size",
                  "activation", "height_factor", "width_factor")


def snake_case(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def layer_summary(layer):
    """(class name, key settings) of one layer, for messages and compares."""
    config = layer.get_config()
    summary = {"class": type(layer).__name__}
    for key in LAYER_SETTINGS:
        if key in config:
            value = config[key]
            summary[key] = list(value) if isinstance(value, tuple) else value
    return summary


def format_layer(summary):
    settings = [str(summary[key]) for key in LAYER_SETTINGS
                if key in summary]
    return f"{summary['class']}({', '.join(settings)})"


def loss_name(loss):
    """Canonical snake_case name of a compiled loss (string/object/func)."""
    if loss is None:
        return None
    if isinstance(loss, str):
        name = loss
    elif hasattr(loss, "get_config") and type(loss).__name__ != "function":
        name = snake_case(type(loss).__name__)
        if getattr(loss, "from_logits", False):
            name += " (from_logits=True)"
    else:
        name = getattr(loss, "__name__", repr(loss))
    return LOSS_ALIASES.get(name.replace("_", ""), name)


def metric_names(metrics):
    names = []
    for metric in metrics or []:
        if isinstance(metric, str):
            name = metric
        elif isinstance(metric, dict):
            name = snake_case(metric.get("class_name", "?"))
        else:
            name = getattr(metric, "name", None) or getattr(
                metric, "__name__", repr(metric))
        names.append("accuracy" if name in ACCURACY_NAMES else name)
    return names


def describe(model):
    """Layers, shapes, parameter count and compile settings of `model`."""
    description = {
        "layers": [layer_summary(layer) for layer in model.layers],
        "input_shape": None,
        "output_shape": None,
        "parameters": None,
        "optimizer": None,
        "loss": None,
        "metrics": [],
    }
    if model.built:
        description["input_shape"] = list(model.input_shape)
        description["output_shape"] = list(model.output_shape)
        description["parameters"] = int(model.count_params())
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        description["optimizer"] = type(optimizer).__name__
        description["loss"] = loss_name(model.loss)
        config = model.get_compile_config() or {}
        description["metrics"] = metric_names(config.get("metrics"))
    return description


def architecture_problem(what, model, want,
                         input_hint="keras.Input(shape=input_shape)"):
    """Message for how `model` differs from the description `want`."""
    from cnn_course import import_tensorflow

    keras = import_tensorflow()[1]
    if not isinstance(model, keras.Model):
        return f"{what} returned {type(model).__name__}, not a Keras model."
    got = describe(model)
    got_layers = [layer for layer in got["layers"]
                  if layer["class"] != "InputLayer"]
    want_layers = want["layers"]
    if len(got_layers) != len(want_layers):
        return (f"{what}: {len(got_layers)} layers "
                f"{[format_layer(x) for x in got_layers]}, expected "
                f"{[format_layer(x) for x in want_layers]}.")
    for index, (got_layer, want_layer) in enumerate(
            zip(got_layers, want_layers)):
        if got_layer != want_layer:
            return (f"{what}: layer {index} is "
                    f"{format_layer(got_layer)}, expected "
                    f"{format_layer(want_layer)}.")
    return compile_problem(what, got, want, input_hint)


def compile_problem(what, got, want,
                    input_hint="keras.Input(shape=input_shape)"):
    """Message for wrong shapes or compile settings in `got`, or None."""
    if got["input_shape"] is None:
        return (f"{what}: the model has no input shape. Start it with "
                f"{input_hint}.")
    for key in ("input_shape", "output_shape", "parameters"):
        if want.get(key) is not None and got[key] != want[key]:
            return f"{what}: {key} is {got[key]}, expected {want[key]}."
    if got["optimizer"] is None:
        return f"{what}: the model is not compiled; call model.compile(...)."
    if want.get("optimizer") and got["optimizer"] != want["optimizer"]:
        return (f"{what}: optimizer is {got['optimizer']}, expected "
                f"{want['optimizer']}.")
    if got["loss"] != want["loss"]:
        hint = ""
        if got["loss"] == "sparse_categorical_crossentropy":
            hint = " The labels are one-hot vectors, not integers."
        return (f"{what}: loss is {got['loss']}, expected "
                f"{want['loss']}.{hint}")
    if "accuracy" not in got["metrics"]:
        return f"{what}: metrics are {got['metrics']}; include 'accuracy'."
    return None
