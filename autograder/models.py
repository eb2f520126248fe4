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
