"""Helpers for the "Why CNNs?" course: data, quiet TensorFlow, seeds, plots.

Exercise solutions never live here; learners write those in the notebooks.
"""

from cnn_course.budget import grading_mode, training_budget
from cnn_course.claims import ClaimNotShown, claim
from cnn_course.data import (
    MNISTDataError,
    load_benchmark_figures,
    load_mnist,
)
from cnn_course.seeding import set_seed
from cnn_course.tensorflow_setup import import_tensorflow
from cnn_course.text import pad_to_width, phrase, t

__all__ = [
    "ClaimNotShown",
    "MNISTDataError",
    "claim",
    "grading_mode",
    "import_tensorflow",
    "load_benchmark_figures",
    "load_mnist",
    "pad_to_width",
    "phrase",
    "set_seed",
    "t",
    "training_budget",
]
