"""One call that makes a notebook's random numbers repeatable."""

import random

import numpy as np


def set_seed(seed=0):
    """Seed Python, NumPy and (if it is imported) Keras/TensorFlow."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        from cnn_course.tensorflow_setup import import_tensorflow

        _, keras = import_tensorflow()
    except ImportError:
        return
    keras.utils.set_random_seed(seed)
