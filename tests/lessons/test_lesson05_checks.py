"""Lesson 05's checks: correct variants pass, the usual backpropagation
mistakes are named, and the judge scores them the same way."""

import numpy as np
import pytest
from helpers import failure_of, hidden_points, judged

from autograder import lesson05 as check
from trusted_grader.judging import reference

LESSON = check.LESSON
REF = reference.load(LESSON)


hidden = hidden_points(check)


def hidden_output(name, func):
    return judged(check, name, func)[f"hidden_{name}"]["output"]


# ------------------------------------------------ softmax_cross_entropy ---

def loss_loop(logits, labels):
    """Row by row with log-sum-exp, a correct alternative."""
    losses, rows = [], []
    for z, label in zip(logits, labels):
        m = z.max()
        log_sum = m + np.log(np.sum(np.exp(z - m)))
        losses.append(log_sum - z[label])
        probabilities = np.exp(z - log_sum)
        probabilities[label] -= 1
        rows.append(probabilities)
    return np.mean(losses), np.array(rows) / len(labels)


def loss_summed(logits, labels):
    loss, dlogits = REF.softmax_cross_entropy(logits, labels)
    return loss * len(labels), dlogits * len(labels)


def loss_not_averaged(logits, labels):
    loss, dlogits = REF.softmax_cross_entropy(logits, labels)
    return loss, dlogits * len(labels)


def loss_sign(logits, labels):
    loss, dlogits = REF.softmax_cross_entropy(logits, labels)
    return loss, -dlogits


def loss_no_one_hot(logits, labels):
    loss, dlogits = REF.softmax_cross_entropy(logits, labels)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return loss, shifted / shifted.sum(axis=1, keepdims=True) / len(labels)


def loss_unstable(logits, labels):
    exp = np.exp(logits)
    probabilities = exp / exp.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    loss = -np.log(probabilities[rows, labels]).mean()
    probabilities[rows, labels] -= 1
    return loss, probabilities / len(labels)


def loss_per_image(logits, labels):
    loss, dlogits = REF.softmax_cross_entropy(logits, labels)
    return np.full(len(labels), loss), dlogits


def test_softmax_cross_entropy_passes_correct_variants(capsys):
    check.softmax_cross_entropy(REF.softmax_cross_entropy)
    check.softmax_cross_entropy(loss_loop)
    assert "\u2714 softmax_cross_entropy" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (loss_summed, "the sum over the batch"),
    (loss_not_averaged, "4 times the gradient"),
    (loss_sign, "The sign is wrong"),
    (loss_no_one_hot, "Subtract 1 at each row's label"),
    (loss_unstable, "not finite"),
    (loss_per_image, "expected one number"),
])
def test_softmax_cross_entropy_names_the_mistake(student, clue):
    assert clue in failure_of(check.softmax_cross_entropy, student)


def test_hidden_softmax_cross_entropy_scores():
    assert hidden("softmax_cross_entropy", REF.softmax_cross_entropy) == 2
    assert hidden("softmax_cross_entropy", loss_loop) == 2
    for mistake in (loss_summed, loss_not_averaged, loss_sign,
                    loss_no_one_hot, loss_unstable):
        assert hidden("softmax_cross_entropy", mistake) < 2, mistake


# ------------------------------------------------------- dense_backward ---

def dense_einsum(x, W, grad_out):  # noqa: N803
    return (np.einsum("bm,nm->bn", grad_out, W),
            np.einsum("bn,bm->nm", x, grad_out), grad_out.sum(0))


def dense_averaged(x, W, grad_out):  # noqa: N803
    dx, dW, db = REF.dense_backward(x, W, grad_out)  # noqa: N806
    return dx, dW / len(x), db / len(x)


def dense_transposed(x, W, grad_out):  # noqa: N803
    return grad_out @ W.T, grad_out.T @ x, grad_out.sum(0)


def dense_bias_not_summed(x, W, grad_out):  # noqa: N803
    return grad_out @ W.T, x.T @ grad_out, grad_out


def dense_bias_wrong_axis(x, W, grad_out):  # noqa: N803
    return grad_out @ W.T, x.T @ grad_out, grad_out.sum(1)


def test_dense_backward_passes_correct_variants(capsys):
    check.dense_backward(REF.dense_backward)
    check.dense_backward(dense_einsum)
    assert "\u2714 dense_backward" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (dense_averaged, "Divided by the batch size"),
    (dense_transposed, "x.T @ grad_out, not"),
    (dense_bias_not_summed, "Sum grad_out over the batch"),
    (dense_bias_wrong_axis, "sums over the wrong axis"),
])
def test_dense_backward_names_the_mistake(student, clue):
    assert clue in failure_of(check.dense_backward, student)


def test_hidden_dense_backward_scores():
    assert hidden("dense_backward", dense_einsum) == 2
    for mistake in (dense_averaged, dense_transposed, dense_bias_not_summed,
                    dense_bias_wrong_axis):
        assert hidden("dense_backward", mistake) < 2, mistake


# -------------------------------------------------------- relu_backward ---

def relu_where(x, grad_out):
    return np.where(x > 0, grad_out, 0.0)


def relu_at_zero(x, grad_out):
    return np.where(x >= 0, grad_out, 0.0)


def relu_unmasked(x, grad_out):
    return grad_out.copy()


def relu_of_gradient(x, grad_out):
    return np.maximum(grad_out, 0)


def relu_mask_only(x, grad_out):
    return (x > 0).astype(float)


def test_relu_backward_passes_correct_variants(capsys):
    check.relu_backward(REF.relu_backward)
    check.relu_backward(relu_where)
    assert "\u2714 relu_backward" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (relu_at_zero, "At x == 0 the gradient is 0"),
    (relu_unmasked, "must be 0 where x <= 0"),
    (relu_of_gradient, "That is relu(grad_out)"),
    (relu_mask_only, "the mask (x > 0) alone"),
])
def test_relu_backward_names_the_mistake(student, clue):
    assert clue in failure_of(check.relu_backward, student)


def test_hidden_relu_backward_scores():
    assert hidden("relu_backward", relu_where) == 1
    for mistake in (relu_at_zero, relu_unmasked, relu_of_gradient):
        assert hidden("relu_backward", mistake) < 1, mistake


# -------------------------------------------------- max_pool2d_backward ---

def pool_loops(x, grad_out, size=2):
    """Window by window with np.argmax: a correct alternative."""
    dx = np.zeros(x.shape)
    batch, out_h, out_w, channels = grad_out.shape
    for b in range(batch):
        for r in range(out_h):
            for c in range(out_w):
                for ch in range(channels):
                    window = x[b, r * size:(r + 1) * size,
                               c * size:(c + 1) * size, ch]
                    i, j = np.unravel_index(window.argmax(), window.shape)
                    dx[b, r * size + i, c * size + j, ch] = \
                        grad_out[b, r, c, ch]
    return dx


def pool_every_element(x, grad_out, size=2):
    dx = np.zeros(x.shape)
    out_h, out_w = grad_out.shape[1:3]
    spread = grad_out.repeat(size, axis=1).repeat(size, axis=2)
    dx[:, :out_h * size, :out_w * size] = spread
    return dx


def pool_every_maximum(x, grad_out, size=2):
    """A mask of x == the window's maximum: every tie gets it all."""
    out_h, out_w = grad_out.shape[1:3]
    crop = x[:, :out_h * size, :out_w * size]
    largest = REF.max_pool2d_forward(x, size).repeat(size, 1).repeat(size, 2)
    dx = np.zeros(x.shape)
    dx[:, :out_h * size, :out_w * size] = (crop == largest) * \
        grad_out.repeat(size, 1).repeat(size, 2)
    return dx


def pool_last_maximum(x, grad_out, size=2):
    """Reads the windows backwards: ties go to the last maximum."""
    flipped = REF.max_pool2d_backward(x[:, ::-1, ::-1], grad_out[:, ::-1,
                                                                 ::-1], size)
    # Exact where the size divides H and W, as in the tie case.
    return flipped[:, ::-1, ::-1]


def test_max_pool2d_backward_passes_correct_variants(capsys):
    check.max_pool2d_backward(REF.max_pool2d_backward)
    check.max_pool2d_backward(pool_loops)
    assert "\u2714 max_pool2d_backward" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (pool_every_element, "Every element of each window"),
    (pool_every_maximum, "Every tied maximum got the whole gradient"),
])
def test_max_pool2d_backward_names_the_mistake(student, clue):
    assert clue in failure_of(check.max_pool2d_backward, student)


def test_ties_going_to_the_last_maximum_are_named():
    case = check.max_pool2d_backward.cases()["cases"][1]
    message = check.pool_problem(pool_last_maximum, case["x"],
                                 case["grad_out"], case["size"],
                                 case["expected"])
    assert "Ties went to the last maximum" in message


def test_hidden_max_pool2d_backward_scores():
    assert hidden("max_pool2d_backward", pool_loops) == 2
    for mistake in (pool_every_element, pool_every_maximum):
        assert hidden("max_pool2d_backward", mistake) < 2, mistake
    assert "tied" in hidden_output("max_pool2d_backward",
                                   pool_every_maximum)


# ------------------------------------------------ conv2d_layer_backward ---

def conv_loops(x, kernels, grad_out):
    """Sums written out over the kernel offsets: a correct alternative."""
    kh, kw = kernels.shape[:2]
    out_h, out_w = grad_out.shape[1:3]
    dx = np.zeros(x.shape)
    dkernels = np.zeros(kernels.shape)
    for i in range(kh):
        for j in range(kw):
            window = x[:, i:i + out_h, j:j + out_w, :]
            dkernels[i, j] = np.einsum("brci,brco->io", window, grad_out)
            dx[:, i:i + out_h, j:j + out_w, :] += grad_out @ kernels[i, j].T
    return dx, dkernels, grad_out.sum(axis=(0, 1, 2))


def conv_no_flip(x, kernels, grad_out):
    dx, dkernels, dbias = REF.conv2d_layer_backward(x, kernels, grad_out)
    kh, kw = kernels.shape[:2]
    padded = np.pad(grad_out, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1),
                               (0, 0)))
    unflipped = REF.conv2d_forward(padded, kernels.transpose(0, 1, 3, 2),
                                   0.0)
    return unflipped, dkernels, dbias


def conv_bias_per_position(x, kernels, grad_out):
    dx, dkernels, _ = REF.conv2d_layer_backward(x, kernels, grad_out)
    return dx, dkernels, grad_out.sum(axis=0)


def conv_averaged(x, kernels, grad_out):
    dx, dkernels, dbias = REF.conv2d_layer_backward(x, kernels, grad_out)
    return dx, dkernels / len(x), dbias


def conv_flipped_dkernels(x, kernels, grad_out):
    dx, dkernels, dbias = REF.conv2d_layer_backward(x, kernels, grad_out)
    return dx, dkernels[::-1, ::-1], dbias


def test_conv2d_layer_backward_passes_correct_variants(capsys):
    check.conv2d_layer_backward(REF.conv2d_layer_backward)
    check.conv2d_layer_backward(conv_loops)
    assert "\u2714 conv2d_layer_backward" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (conv_no_flip, "The kernel flip is missing"),
    (conv_bias_per_position, "sum grad_out over the images and positions"),
    (conv_averaged, "Divided by the batch size"),
    (conv_flipped_dkernels, "dkernels is turned by 180 degrees"),
])
def test_conv2d_layer_backward_names_the_mistake(student, clue):
    assert clue in failure_of(check.conv2d_layer_backward, student)


def test_hidden_conv2d_layer_backward_scores():
    assert hidden("conv2d_layer_backward", conv_loops) == 3
    for mistake in (conv_no_flip, conv_bias_per_position, conv_averaged,
                    conv_flipped_dkernels):
        assert hidden("conv2d_layer_backward", mistake) < 3, mistake
    assert "flip is missing" in hidden_output("conv2d_layer_backward",
                                              conv_no_flip)


# ---------------------------------------------------- network_gradients ---

def chain(x, labels, weights, skip_relu=()):
    """The reference's chain, with the ReLU of the layers in `skip_relu`
    left out of the backward pass."""
    kernels1, bias1, kernels2, bias2, W, b = weights  # noqa: N806
    logits, (x, z1, a1, p1, z2, a2, p2, features) = REF.forward(x, weights)
    loss, dlogits = REF.softmax_cross_entropy(logits, labels)
    dfeatures, dW, db = REF.dense_backward(features, W, dlogits)  # noqa: N806
    da2 = REF.max_pool2d_backward(a2, dfeatures.reshape(p2.shape))
    dz2 = da2 if 2 in skip_relu else REF.relu_backward(z2, da2)
    dp1, dkernels2, dbias2 = REF.conv2d_layer_backward(p1, kernels2, dz2)
    da1 = REF.max_pool2d_backward(a1, dp1)
    dz1 = da1 if 1 in skip_relu else REF.relu_backward(z1, da1)
    _, dkernels1, dbias1 = REF.conv2d_layer_backward(x, kernels1, dz1)
    return loss, [dkernels1, dbias1, dkernels2, dbias2, dW, db]


def chain_without_second_relu(x, labels, weights):
    return chain(x, labels, weights, skip_relu=(2,))


def chain_without_first_relu(x, labels, weights):
    return chain(x, labels, weights, skip_relu=(1,))


def chain_in_keras_order_reversed(x, labels, weights):
    loss, gradients = chain(x, labels, weights)
    return loss, gradients[::-1]


def test_network_gradients_passes_correct_variants(capsys):
    check.network_gradients(REF.network_gradients)
    check.network_gradients(chain)
    assert "\u2714 network_gradients" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (chain_without_second_relu, "the second convolution's are not"),
    (chain_without_first_relu, "the first convolution's are not"),
    (chain_in_keras_order_reversed, "in get_weights() order"),
])
def test_network_gradients_names_the_layer(student, clue):
    assert clue in failure_of(check.network_gradients, student)


def test_hidden_network_gradients_scores():
    assert hidden("network_gradients", chain) == 2
    for mistake in (chain_without_second_relu, chain_without_first_relu):
        assert hidden("network_gradients", mistake) < 2, mistake


# ------------------------------------------------------------ train_cnn ---

def train_labels_unshuffled(images, labels, epochs=2, batch_size=64,
                            learning_rate=0.2, seed=0):
    """Shuffles the images but takes the labels in their first order."""
    rng = np.random.default_rng(seed)
    weights = REF.init_weights(rng)
    x = (images / np.float32(255))[..., None]
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            _, gradients = REF.network_gradients(
                x[batch], labels[start:start + batch_size], weights)
            for weight, gradient in zip(weights, gradients):
                weight -= learning_rate * gradient
    return weights


def train_uphill(images, labels, epochs=2, batch_size=64,
                 learning_rate=0.2, seed=0):
    return REF.train_cnn(images, labels, epochs, batch_size,
                         -learning_rate, seed)


def train_unseeded(images, labels, epochs=2, batch_size=64,
                   learning_rate=0.2, seed=0):
    return REF.train_cnn(images, labels, epochs, batch_size, learning_rate,
                         int(np.random.default_rng().integers(1 << 30)))


def train_transposed_dense(images, labels, epochs=2, batch_size=64,
                           learning_rate=0.2, seed=0):
    weights = REF.train_cnn(images, labels, epochs, batch_size,
                            learning_rate, seed)
    weights[4] = weights[4].T
    return weights


def test_train_cnn_passes_the_reference(capsys):
    check.train_cnn(REF.train_cnn)
    assert "\u2714 train_cnn" in capsys.readouterr().out


@pytest.mark.parametrize("student, clue", [
    (train_labels_unshuffled, "test digits correctly"),
    (train_uphill, "nan or inf"),
    (train_unseeded, "different weights when called twice"),
    (train_transposed_dense, "W has shape (10, 400), expected (400, 10)"),
])
def test_train_cnn_names_the_mistake(student, clue):
    assert clue in failure_of(check.train_cnn, student)


def test_hidden_train_cnn_judges_the_weights():
    assert hidden("train_cnn", REF.train_cnn) == 3
    for mistake in (train_labels_unshuffled, train_uphill, train_unseeded):
        assert hidden("train_cnn", mistake) < 3, mistake
