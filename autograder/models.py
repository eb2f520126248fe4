"""Describe a Keras model's architecture and compile settings as plain data.

Learners may write `Dense(1024, input_dim=784)` (Keras 2 style),
`keras.Input` + layers, or give the optimizer and loss as objects rather
than strings; the descriptions here are the same for all of those.
"""

import re

from cnn_course.messages import t

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
        return t("{what} returned {type}, not a Keras model.",
                 what=what, type=type(model).__name__)
    got = describe(model)
    got_layers = [layer for layer in got["layers"]
                  if layer["class"] != "InputLayer"]
    want_layers = want["layers"]
    if len(got_layers) != len(want_layers):
        return t("{what}: {count} layers {got}, expected {want}.",
                 what=what, count=len(got_layers),
                 got=[format_layer(x) for x in got_layers],
                 want=[format_layer(x) for x in want_layers])
    for index, (got_layer, want_layer) in enumerate(
            zip(got_layers, want_layers)):
        if got_layer != want_layer:
            return t("{what}: layer {index} is {got}, expected {want}.",
                     what=what, index=index, got=format_layer(got_layer),
                     want=format_layer(want_layer))
    return compile_problem(what, got, want, input_hint)


def compile_problem(what, got, want,
                    input_hint="keras.Input(shape=input_shape)"):
    """Message for wrong shapes or compile settings in `got`, or None."""
    if got["input_shape"] is None:
        return t("{what}: the model has no input shape. Start it with "
                 "{input_hint}.", what=what, input_hint=input_hint)
    for key in ("input_shape", "output_shape", "parameters"):
        if want.get(key) is not None and got[key] != want[key]:
            return t("{what}: {key} is {got}, expected {want}.",
                     what=what, key=key, got=got[key], want=want[key])
    if got["optimizer"] is None:
        return t("{what}: the model is not compiled; call "
                 "model.compile(...).", what=what)
    if want.get("optimizer") and got["optimizer"] != want["optimizer"]:
        return t("{what}: optimizer is {got}, expected {want}.",
                 what=what, got=got["optimizer"], want=want["optimizer"])
    if got["loss"] != want["loss"]:
        hint = ""
        if got["loss"] == "sparse_categorical_crossentropy":
            hint = t(" The labels are one-hot vectors, not integers.")
        return t("{what}: loss is {got}, expected {want}.{hint}",
                 what=what, got=got["loss"], want=want["loss"], hint=hint)
    if "accuracy" not in got["metrics"]:
        return t("{what}: metrics are {metrics}; include 'accuracy'.",
                 what=what, metrics=got["metrics"])
    return None
