"""Hidden tests of lesson 05, run by the judge on recorded answers.

Same code, same score, whatever the seed: the structure of every case
(shapes, dtypes, batch sizes, pool sizes, where ties and exact zeros are,
the training budget) is a constant; `rng` draws only values, spread so
that each known mistake shows whatever is drawn (`lesson03._spread`:
distinct values covering their range; `_signed`: a fixed share of
negatives), and which MNIST digits train and test train_cnn.

train_cnn is judged as data: the judge runs the lesson's network (the
reference's NumPy forward pass) with the returned weights on test digits
the call was not given, and asks for an accuracy that every correct
solution reaches with this budget.
"""

import numpy as np

from autograder import lesson05 as checks
from autograder.feedback import (
    collecting_calls,
    render_call,
    scratch_call,
)
from cnn_course.messages import t
from trusted_grader.judging.hidden.lesson03 import _signed, _spread
from trusted_grader.judging.scoring import hidden_test


def _describe(**arrays):
    return ", ".join(f"{name} {array.dtype} {array.shape}"
                     for name, array in arrays.items())


# ------------------------------------------------ softmax_cross_entropy ---

# (batch, classes, row offset scale): offsets of +-1000 make exp overflow
# unless the row's maximum is subtracted; one image hides no averaging.
LOSS_CASES = ((5, 4, 0.0), (3, 10, 1000.0), (1, 3, 0.0), (8, 10, 0.0))


@hidden_test(checks.softmax_cross_entropy)
def hidden_softmax_cross_entropy(softmax_cross_entropy, score, ref, rng):
    """Hidden tests: random batches, large logits, one image."""
    problem = checks.softmax_cross_entropy.problem
    for batch, classes, offset in LOSS_CASES:
        logits = _signed(rng, (batch, classes), 0.1, 4.0)
        logits += offset * np.where(np.arange(batch) % 2, 1.0, -1.0)[
            :, None]
        labels = rng.integers(0, classes, batch)
        loss, dlogits = ref.softmax_cross_entropy(logits, labels)
        score.case(_describe(logits=logits, labels=labels),
                   lambda z=logits, y=labels, w=loss, d=dlogits:
                   problem(softmax_cross_entropy, z, y, np.float64(w), d))


# ------------------------------------------------------- dense_backward ---

# (batch, inputs, outputs): the lesson's dense layer last.
DENSE_CASES = ((5, 4, 3), (1, 6, 2), (7, 3, 5), (16, 400, 10))


@hidden_test(checks.dense_backward)
def hidden_dense_backward(dense_backward, score, ref, rng):
    """Hidden tests: random layers, one of one image."""
    for batch, inputs, outputs in DENSE_CASES:
        x = _signed(rng, (batch, inputs), 0.1, 2.0)
        W = _signed(rng, (inputs, outputs), 0.1, 1.0)  # noqa: N806
        grad_out = _signed(rng, (batch, outputs), 0.1, 1.0)
        want = list(ref.dense_backward(x, W, grad_out))
        score.case(_describe(x=x, W=W, grad_out=grad_out),
                   lambda x=x, W=W, g=grad_out, w=want:  # noqa: N803
                   checks.dense_backward.problem(dense_backward, x, W, g, w))


# -------------------------------------------------------- relu_backward ---

RELU_SHAPES = ((20,), (4, 5), (3, 4, 4, 2))


@hidden_test(checks.relu_backward)
def hidden_relu_backward(relu_backward, score, ref, rng):
    """Hidden tests: a fixed share of negatives and of exact zeros."""
    for shape in RELU_SHAPES:
        x = _signed(rng, shape, 0.1, 3.0)
        zeros = rng.permutation(x.size)[:max(1, x.size // 10)]
        x.reshape(-1)[zeros] = 0.0
        grad_out = _signed(rng, shape, 0.5, 2.0)
        want = ref.relu_backward(x, grad_out)
        score.case(_describe(x=x, grad_out=grad_out),
                   lambda x=x, g=grad_out, w=want:
                   checks.relu_backward.problem(relu_backward, x, g, w))


# -------------------------------------------------- max_pool2d_backward ---

# (x shape, size, ties): rows and columns that do not fit once; tied
# maxima in every window once.
POOL_CASES = (((2, 6, 8, 3), 2, False), ((2, 7, 5, 2), 2, False),
              ((1, 6, 6, 2), 2, True), ((1, 9, 7, 2), 3, False))


def _tied(rng, x, size):
    """x with each window's maximum copied to another of its places."""
    batch, height, width, channels = x.shape
    for row in range(0, height - size + 1, size):
        for column in range(0, width - size + 1, size):
            window = x[:, row:row + size, column:column + size]
            flat = window.reshape(batch, size * size, channels)
            for image in range(batch):
                for channel in range(channels):
                    values = flat[image, :, channel]
                    place = int(rng.integers(0, size * size - 1))
                    place += place >= values.argmax()
                    values[place] = values.max()
            window[...] = flat.reshape(window.shape)
    return x


@hidden_test(checks.max_pool2d_backward)
def hidden_max_pool2d_backward(max_pool2d_backward, score, ref, rng):
    """Hidden tests: distinct values, dropped rows, ties, size 3."""
    problem = checks.max_pool2d_backward.problem
    for shape, size, ties in POOL_CASES:
        x = _spread(rng, shape, -5.0, 5.0)
        if ties:
            x = _tied(rng, x, size)
        pooled = (shape[0], shape[1] // size, shape[2] // size, shape[3])
        grad_out = _signed(rng, pooled, 0.5, 2.0)
        want = ref.max_pool2d_backward(x, grad_out, size)
        score.case(_describe(x=x, grad_out=grad_out) + f", size={size}",
                   lambda x=x, g=grad_out, s=size, w=want:
                   problem(max_pool2d_backward, x, g, s, w))


# ------------------------------------------------ conv2d_layer_backward ---

# (x shape, kernels shape): one input channel once, non-square kernels,
# and the lesson's second layer (8 channels in, 16 out).
CONV_CASES = (((2, 6, 7, 3), (3, 3, 3, 4)), ((1, 5, 5, 1), (2, 3, 1, 2)),
              ((3, 8, 6, 2), (3, 2, 2, 5)), ((4, 13, 13, 8), (3, 3, 8, 16)))


@hidden_test(checks.conv2d_layer_backward)
def hidden_conv2d_layer_backward(conv2d_layer_backward, score, ref, rng):
    """Hidden tests: random layers, several channels in and out."""
    problem = checks.conv2d_layer_backward.problem
    for x_shape, k_shape in CONV_CASES:
        x = _signed(rng, x_shape, 0.1, 2.0)
        kernels = _spread(rng, k_shape, -1.0, 1.0)
        out = (x_shape[0], x_shape[1] - k_shape[0] + 1,
               x_shape[2] - k_shape[1] + 1, k_shape[3])
        grad_out = _signed(rng, out, 0.1, 1.0)
        want = list(ref.conv2d_layer_backward(x, kernels, grad_out))
        score.case(_describe(x=x, kernels=kernels, grad_out=grad_out),
                   lambda x=x, k=kernels, g=grad_out, w=want:
                   problem(conv2d_layer_backward, x, k, g, w))


# ---------------------------------------------------- network_gradients ---

NETWORK_BATCHES = (4, 2)


@hidden_test(checks.network_gradients)
def hidden_network_gradients(network_gradients, score, ref, rng):
    """Hidden tests: random digits, labels and weights, two batch sizes."""
    for batch in NETWORK_BATCHES:
        case = checks.network_case(rng, batch)
        loss, gradients = ref.network_gradients(case["x"], case["labels"],
                                                case["weights"])
        score.case(t("{count} digits, random weights", count=batch),
                   lambda c=case, w=loss, g=list(gradients):
                   checks.network_gradients.problem(network_gradients, c["x"],
                                          c["labels"], c["weights"],
                                          np.float64(w), g))


# ------------------------------------------------------------ train_cnn ---

# Two epochs over 1,000 training digits in batches of 20 (100 steps, about
# a second: the kernel's share of a five-lesson submission): the reference
# reached 0.76-0.87 on 2,000 test digits over 12 draws of digits and
# seeds; a network whose updates go uphill, or whose labels were shuffled
# apart from their images, stays near 0.1. The gradients themselves are
# judged by their own exercises; this judges the loop.
TRAIN_CASE = {"train": 1000, "test": 2000, "epochs": 2, "batch_size": 20,
              "learning_rate": 0.1}
HIDDEN_ACCURACY = 0.65
# Two calls on the same 200 digits with the same seed must agree.
REPEAT_CASE = {"train": 200, "epochs": 1, "batch_size": 50,
               "learning_rate": 0.1}


def collection_stand_ins(ref):
    """What the judge lists train_cnn's calls with: the starting weights,
    in the right layout and the same for the same seed, instead of a
    training per call (the checks only list calls then)."""
    def starting_weights(images, labels, epochs=2, batch_size=64,
                         learning_rate=0.2, seed=0, losses=None):
        return ref.init_weights(np.random.default_rng(seed))
    return {"train_cnn": starting_weights}


def _mnist():
    from cnn_course import load_mnist

    return load_mnist()


def _numpy_accuracy(ref, weights, images, labels):
    """The lesson's network, by the reference's NumPy forward pass."""
    x = (images / np.float32(255))[..., None]
    weights = [np.asarray(array, np.float32) for array in weights]
    logits = np.concatenate([ref.forward(x[start:start + 500], weights)[0]
                             for start in range(0, len(x), 500)])
    return float(np.mean(logits.argmax(axis=1) == labels))


def train_problem(train_cnn, ref, images, labels, settings, test_images,
                  test_labels):
    what = render_call("train_cnn", (images, labels), settings)
    weights = scratch_call(train_cnn, "train_cnn", images, labels,
                           **settings)
    problem = checks.weights_problem(weights, what)
    if problem or collecting_calls(train_cnn):
        return problem
    with np.errstate(all="ignore"):
        reached = _numpy_accuracy(ref, weights, test_images, test_labels)
    if reached < HIDDEN_ACCURACY:
        return t("{what}: the trained network reads {accuracy:.1%} of "
                 "{count} test digits it was not trained on; at least "
                 "{bar:.0%} expected.", what=what, accuracy=reached,
                 count=len(test_labels), bar=HIDDEN_ACCURACY)
    return None


@hidden_test(checks.train_cnn)
def hidden_train_cnn(train_cnn, score, ref, rng):
    """Hidden tests: accuracy on unseen digits, the same weights for the
    same seed."""
    (train_images, train_labels), (test_images, test_labels) = _mnist()
    chosen = rng.choice(len(train_images), TRAIN_CASE["train"],
                        replace=False)
    tested = rng.choice(len(test_images), TRAIN_CASE["test"], replace=False)
    settings = {key: TRAIN_CASE[key] for key in ("epochs", "batch_size",
                                                 "learning_rate")}
    settings["seed"] = int(rng.integers(0, 1000))
    images, labels = train_images[chosen], train_labels[chosen].astype(
        np.int64)
    score.case(t("{count} training digits, {epochs} epochs",
                 count=len(images), epochs=settings["epochs"]),
               lambda: train_problem(
                   train_cnn, ref, images, labels, settings,
                   test_images[tested],
                   test_labels[tested].astype(np.int64)))
    few = rng.choice(len(train_images), REPEAT_CASE["train"], replace=False)
    repeat = {key: REPEAT_CASE[key] for key in ("epochs", "batch_size",
                                                "learning_rate")}
    repeat["seed"] = int(rng.integers(0, 1000))
    score.case(t("the same seed twice"),
               lambda: checks.repeat_problem(
                   train_cnn, train_images[few],
                   train_labels[few].astype(np.int64), repeat))
