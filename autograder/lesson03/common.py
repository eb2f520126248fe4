"""What the parts of lesson 03's checks share: the lesson, its pool size,
how a message shows a call, tolerances."""

import numpy as np

from autograder.exercise import Lesson
from autograder.feedback import render_call

lesson = Lesson("03_cnn_from_scratch", seed=303)
POOL_SIZE = 2  # the lesson's MaxPooling2D((2, 2))

# Captured at import, before any learner code runs.
_isfinite = np.isfinite


def call_text(name, *args, **kwargs):
    """The call as every message shows it: relu(<float64 array (7,)>)."""
    return render_call(name, args, kwargs)


def tolerances(*arrays):
    """(atol, rtol) for comparing results computed in these dtypes."""
    if any(np.asarray(array).dtype == np.float32 for array in arrays):
        return 1e-4, 1e-4
    return 1e-6, 1e-6


def first_nonfinite(array):
    """Index of the first nan/inf in a float array, or None."""
    if array.dtype.kind != "f":
        return None
    bad = np.argwhere(~_isfinite(array))
    return tuple(int(i) for i in bad[0]) if len(bad) else None
