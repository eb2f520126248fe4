"""Checks for lesson 03: a CNN forward pass in NumPy that matches Keras.

Exercises: relu, sigmoid, softmax, max_pool2d, conv2d_layer, flatten,
dense, cnn_forward, kernel_gradient and learn_kernel. The visible checks
compare with expected values generated from the reference solutions
(``autograder/expected/03_cnn_from_scratch.json``), except cnn_forward's,
which is checked against Keras itself: the check builds the lesson's
architecture (Conv2D + ReLU -> MaxPooling2D(2) -> Flatten -> Dense +
softmax) with seeded random weights and compares with ``model.predict``
within 1e-5.

One module per part of the notebook, each exercise declared once in its
own section there (`autograder.exercise`):

- `activations`: relu, sigmoid, softmax;
- `layers`: max_pool2d, conv2d_layer, flatten, dense;
- `network`: cnn_forward, whose cases `keras_harness` builds and
  predicts with Keras (random weights, the likely mistakes' outputs);
- `kernel_learning`: kernel_gradient, learn_kernel;
- `cases`: the visible checks' inputs, drawn together;
- `common`: the lesson and what the parts share.

Notebooks import this package, ``from autograder import lesson03 as
check``; the exercises (``check.relu(relu)``), the test-cell functions
made from them (``check.hidden_relu``, `EXERCISES`, ...: the lesson's
``__getattr__``) and the names the hidden tests use are its attributes.

No TensorFlow or Keras in the learner's code
----------------------------------------------------------------------------
Every call of a learner's function goes through `scratch_call`, which uses
the two independent detectors of `autograder.feedback` (see there for
details):

1. `library_references` reads the function's bytecode before the call: the
   dotted names it loads (``tf.nn.conv2d``, ``model.predict``,
   ``keras.layers.Conv2D``), imports inside it, closures, following the
   notebook's own helper functions it calls (``cnn_forward`` ->
   ``conv2d_layer``). It names the culprit even in branches the test inputs
   never reach.
2. `LibraryWatch` runs the call under ``sys.setprofile`` and records the
   first Python or C function entered that belongs to TensorFlow, Keras,
   PyTorch, JAX, scipy.signal/ndimage, OpenCV or scikit-image, however it
   was reached (``__import__``, getattr, methods of objects passed in). It
   never raises into the learner's code, so a ``try/except`` there cannot
   swallow it.

Either way the check says so and a hidden check gives no points for it.
"""

# isort: off
# Each part declares its exercises as it is imported: in this order, which
# EXERCISES keeps.
from autograder.lesson03.activations import (
    relu,
    sigmoid,
    softmax,
    softmax_wrong_axis,
)
from autograder.lesson03.layers import (
    conv2d_layer,
    conv_variants,
    dense,
    flatten,
    max_pool2d,
)
from autograder.lesson03.network import (
    FORWARD_TOLERANCE,
    cnn_forward,
    forward_cases,
    forward_problem,
)
from autograder.lesson03.kernel_learning import (
    gradient_problem,
    gradient_variants,
    kernel_gradient,
    learn_kernel,
)
from autograder.lesson03.cases import inputs_drawn_together
# isort: on
from autograder.lesson03.common import POOL_SIZE, lesson
from autograder.lesson03.keras_harness import (
    keras_predict,
    random_forward_case,
)

# EXERCISES, FROM_SCRATCH, hidden_<exercise>, ... come from the
# declarations (`Lesson.attribute`).
__getattr__ = lesson.attribute
__all__ = [
    "FORWARD_TOLERANCE", "POOL_SIZE", "cnn_forward", "conv2d_layer",
    "conv_variants", "dense", "flatten", "forward_cases", "forward_problem",
    "gradient_problem", "gradient_variants", "inputs_drawn_together",
    "keras_predict", "kernel_gradient", "learn_kernel", "lesson",
    "max_pool2d", "random_forward_case", "relu", "sigmoid", "softmax",
    "softmax_wrong_axis",
]
