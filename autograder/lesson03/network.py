"""Lesson 03, part 4, the whole forward pass: cnn_forward, checked
against Keras' model.predict (`keras_harness`)."""

import numpy as np

from autograder.feedback import (
    CheckFailure,
    close_array,
    compare_arrays,
    quiet,
    raised,
    require_array,
    scratch_call,
)
from autograder.lesson03.common import call_text, first_nonfinite, lesson
from autograder.lesson03.keras_harness import (
    forward_variants,
    keras_predict,
    random_forward_case,
)
from autograder.lesson03.layers import conv_hint
from cnn_course.messages import t

FORWARD_TOLERANCE = 1e-5


def _forward_hint(name):
    """The hint for a likely cnn_forward mistake (see
    `keras_harness.forward_variants`)."""
    if name in ("transposed_hw", "flipped"):
        return conv_hint(name)
    return {
        "channels_first": t(
            "Looks like flatten in channels-first order: Keras' Flatten on "
            "(H, W, C) walks the channel axis fastest (x.reshape(-1)), and "
            "the Dense weights W expect that order."),
        "no_relu": t("ReLU is missing after the convolution."),
        "logits": t("Those are the logits: apply softmax to get "
                    "probabilities that sum to 1."),
        "sigmoid": t("That is sigmoid of the logits; the model's last layer "
                     "uses softmax (probabilities over the classes sum to "
                     "1)."),
    }[name]


@quiet
def forward_problem(cnn_forward, architecture, weights, image, want):
    what = call_text("cnn_forward", image, list(weights))
    try:
        got = require_array(scratch_call(
            cnn_forward, "cnn_forward", image, list(weights)), what)
    except CheckFailure as failure:
        if raised(failure) is not None:
            features = weights[2].shape[0]
            hint = t("weights is [kernels (kh, kw, C_in, filters), conv "
                     "bias, W ({features}, classes), b]: conv2d_layer -> "
                     "relu -> max_pool2d(size 2) -> flatten must give "
                     "{features} numbers for dense.", features=features)
            return f"{failure.message}\n{hint}"
        raise
    if got.shape == (1, *want.shape):
        return t("{what}: shape {got}, expected {want}.\nReturn the "
                 "probabilities of one image, without a batch axis.",
                 what=what, got=got.shape, want=want.shape)
    problem = compare_arrays(got, want.astype(np.float64), what,
                             atol=FORWARD_TOLERANCE, dtype="float")
    if problem is None:
        return None
    hint = None
    if got.shape == want.shape:
        index = first_nonfinite(got)
        if index is not None:
            hint = t("Got {value}: softmax overflowed on large logits "
                     "(Keras subtracts the maximum logit first).",
                     value=got[index])
        else:
            variants = forward_variants(architecture, weights, image)
            for name, variant in variants.items():
                if close_array(got, variant, FORWARD_TOLERANCE, 0):
                    hint = _forward_hint(name)
                    break
    return f"{problem}\n{hint}" if hint else problem


def _architecture(config):
    return (tuple(config["input_shape"]), tuple(config["kernel_size"]),
            config["filters"], config["classes"])


def forward_cases(cnn_forward, config, rng):
    """(label, run) of each image of a model built from `config`:
    `run()` compares cnn_forward with model.predict (a message or
    None)."""
    architecture = _architecture(config)
    weights, images = random_forward_case(
        rng, *architecture, images=config["images"],
        large_logits=config["large_logits"],
        negative_filter=config.get("negative_filter", False),
        weight_scale=config.get("weight_scale", 2.0))
    wants = keras_predict(architecture, weights, images)
    input_shape, kernel_size, filters, classes = architecture
    cases = []
    for number, (image, want) in enumerate(zip(images, wants)):
        def run(image=image, want=want):
            return forward_problem(cnn_forward, architecture, weights,
                                   image, want)
        label = t("image {number}, input {shape}, {filters} filters "
                  "{kernel_size}, {classes} classes", number=number + 1,
                  shape=input_shape, filters=filters,
                  kernel_size=kernel_size, classes=classes) + (
            t(", large logits") if config["large_logits"] else "")
        cases.append((label, run))
    return cases


def forward_expected(ref, data):
    """Nothing: Keras' model.predict is the expected value."""
    del ref, data


@lesson.exercise(parameters=("image", "weights"), expected=forward_expected,
                 problem=forward_problem, from_scratch=True)
def cnn_forward(cnn_forward, data):
    """Visible check: equals model.predict of the lesson's architecture
    with seeded random weights, within 1e-5."""
    for config in data["models"]:
        for _, run in forward_cases(cnn_forward, config,
                                    np.random.default_rng(config["seed"])):
            yield run()
    return t("cnn_forward: equals model.predict within {tolerance:g} on "
             "random models, large logits included.",
             tolerance=FORWARD_TOLERANCE)
