"""One call that makes a notebook's random numbers repeatable."""

import random

import numpy as np


def set_seed(seed=0):
    """Seed Python, NumPy and (if it is installed) Keras/TensorFlow."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        from cnn_course.tensorflow_setup import seed_keras
    except ImportError:
        return
    seed_keras(seed)
