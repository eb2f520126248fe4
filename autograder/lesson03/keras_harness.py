"""Lesson 03's network in Keras, for checking cnn_forward: the model,
seeded random weights and images, its predictions, and what the likely
mistakes would predict."""

import functools

import numpy as np

from autograder.lesson03.common import POOL_SIZE


@functools.lru_cache(maxsize=16)
def _keras_model(input_shape, kernel_size, filters, classes,
                 conv_activation="relu", output_activation="softmax"):
    """The lesson's architecture (cached; weights are set per case)."""
    from cnn_course import import_tensorflow

    _, keras = import_tensorflow()
    return keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv2D(filters, kernel_size,
                            activation=conv_activation),
        keras.layers.MaxPooling2D(pool_size=(POOL_SIZE, POOL_SIZE)),
        keras.layers.Flatten(),
        keras.layers.Dense(classes, activation=output_activation),
    ])


def _pooled_shape(input_shape, kernel_size):
    return tuple((n - k + 1) // POOL_SIZE
                 for n, k in zip(input_shape[:2], kernel_size))


def random_forward_case(rng, input_shape, kernel_size, filters, classes,
                        images=2, large_logits=False,
                        negative_filter=False, weight_scale=2.0):
    """Seeded random float32 weights and images for the lesson's model.

    With `negative_filter`, filter 0's bias outweighs any sum of its
    weights times pixels (pixels are in [0, 1)): its outputs are all
    below -0.5, so a forward pass without ReLU always differs. The Dense
    weights have standard deviation weight_scale / sqrt(features): a
    small scale keeps the probabilities away from 0 and 1, where a
    mistake in the layers before would hardly change them."""
    kh, kw = kernel_size
    channels = input_shape[2]
    pooled = int(np.prod(_pooled_shape(input_shape, kernel_size)))
    features = pooled * filters
    kernels = rng.normal(0, 0.6, (kh, kw, channels, filters))
    conv_bias = rng.normal(0, 0.2, filters)
    if negative_filter:
        conv_bias[0] = -(np.abs(kernels[..., 0]).sum()
                         + rng.uniform(0.5, 1.5))
    W = rng.normal(0, weight_scale / np.sqrt(features),  # noqa: N806
                   (features, classes))
    b = rng.normal(0, 0.2, classes)
    if large_logits:
        # Logits about 2000 / classes apart, up to +-1000: exact 0s and a 1,
        # and np.exp overflows unless softmax subtracts the maximum.
        b = rng.permutation(np.linspace(-1000, 1000, classes))
    weights = [w.astype(np.float32) for w in (kernels, conv_bias, W, b)]
    pixels = rng.random((images, *input_shape))
    pixels[pixels < 0.5] = 0.0  # dark background, like MNIST
    return weights, pixels.astype(np.float32)


def keras_predict(architecture, weights, images, **activations):
    """model.predict of the lesson's architecture with these weights."""
    from cnn_course import import_tensorflow

    tf, _ = import_tensorflow()
    model = _keras_model(*architecture, **activations)
    model.set_weights(weights)
    # Each new architecture traces predict once; after five, TensorFlow
    # logs a retracing warning that says nothing about the learner's code.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        return model.predict(images, verbose=0)
    finally:
        logger.setLevel(level)


def forward_variants(architecture, weights, image):
    """What likely mistakes give, computed by Keras: name -> probs."""
    kernels, conv_bias, W, b = weights  # noqa: N806
    input_shape, kernel_size, filters, classes = architecture
    height, width = _pooled_shape(input_shape, kernel_size)
    batch = image[None]
    variants = {}
    channels_first = W.reshape(filters, height, width, classes).transpose(
        1, 2, 0, 3).reshape(W.shape)
    variants["channels_first"] = keras_predict(
        architecture, [kernels, conv_bias, channels_first, b], batch)[0]
    if kernel_size[0] == kernel_size[1]:
        variants["transposed_hw"] = keras_predict(
            architecture, [kernels.transpose(1, 0, 2, 3), conv_bias, W, b],
            batch)[0]
    variants["flipped"] = keras_predict(
        architecture, [kernels[::-1, ::-1].copy(), conv_bias, W, b],
        batch)[0]
    variants["no_relu"] = keras_predict(architecture, weights, batch,
                                        conv_activation=None)[0]
    logits = keras_predict(architecture, weights, batch,
                           output_activation=None)[0].astype(np.float64)
    variants["logits"] = logits
    variants["sigmoid"] = 1 / (1 + np.exp(-np.clip(logits, -500, 500)))
    return variants
