"""Hidden tests of lesson 01, run by the judge on recorded answers.

Each `hidden_<exercise>` adds the cases of the exercise declared in
`autograder.lesson01` (`scoring.hidden_test`), compared by the
declaration's `problem`: `func` a replay of the kernel's answers, `ref`
the reference solutions, `rng` seeded per grading run and exercise.

Same code, same score, whatever the seed: every case's structure (image
sizes, counts, which digit and how many of it, shifts, model sizes) is a
constant, and only pixel values come from `rng`, drawn so that each known
mistake shows whatever they are (see `_digit_images`; shifted pixels are
never 0, so anything left behind or wrapped around shows).

Points need real work: cases on inputs known before grading (the visible
cases' sizes) or whose answer needs no work (all zeros, a constant, the
one image of a digit) are `fresh=False`; they count, but earn nothing
without a fresh case.
"""

import numpy as np

from autograder import lesson01 as checks
from autograder import models
from autograder.feedback import call
from cnn_course.messages import t
from trusted_grader.judging import model_limits, replay, robustness
from trusted_grader.judging.scoring import hidden_test

# images, height, width, digit, how many images show the digit
MEAN_CASES = ((36, 9, 7, 3, 6), (50, 5, 8, 7, 11), (24, 12, 4, 0, 2))


def _digit_images(rng, labels, digit, shape):
    """Random uint8 images for `labels`, such that whatever the values,
    for `digit` (shown by two images or more):

    - its images' pixel [0, 0] sums past 255 (a uint8 sum wraps),
    - the other images' pixel [0, 0] is lower than all of those (the mean
      of every image differs),
    - its images' pixel [0, 1] has a mean with a fraction (a floored or
      rounded mean differs).
    """
    images = rng.integers(0, 256, (len(labels), *shape), dtype=np.uint8)
    chosen = np.flatnonzero(labels == digit)
    others = np.flatnonzero(labels != digit)
    images[chosen, 0, 0] = rng.integers(128, 256, len(chosen))
    images[others, 0, 0] = rng.integers(0, 64, len(others))
    if int(images[chosen, 0, 1].sum()) % len(chosen) == 0:
        pixel = images[chosen[0], 0, 1]
        images[chosen[0], 0, 1] = pixel - 1 if pixel else 1
    return images


def _labels(rng, count, digit, digit_count):
    """`digit_count` labels `digit`, the rest other digits, shuffled."""
    others = [label for label in range(10) if label != digit]
    labels = np.concatenate([np.full(digit_count, digit),
                             rng.choice(others, count - digit_count)])
    return rng.permutation(labels)


@hidden_test(checks.mean_image)
def hidden_mean_image(mean_image, score, ref, rng):
    """Hidden tests: mean_image against the reference on random pixels."""
    problem = checks.mean_image.problem
    for count, height, width, digit, digit_count in MEAN_CASES:
        labels = _labels(rng, count, digit, digit_count)
        images = _digit_images(rng, labels, digit, (height, width))
        want = ref.mean_image(images, labels, digit)
        score.case(t("random {count} images {height}x{width}, digit "
                     "{digit}", count=count, height=height, width=width,
                     digit=digit),
                   lambda i=images, la=labels, d=digit, w=want:
                   problem(mean_image, i, la, d, w))
    # Every mean is 255: a copy of one image passes, so it proves no work.
    bright = np.full((300, 6, 6), 255, dtype=np.uint8)
    bright_labels = np.full(300, 4)
    score.case(t("300 white images (a uint8 sum overflows)"),
               lambda: problem(mean_image, bright, bright_labels, 4,
                               ref.mean_image(bright, bright_labels, 4)),
               fresh=False)
    single_labels = np.array([0, 2, 2, 9, 2])
    single = _digit_images(rng, single_labels, 2, (7, 7))
    # The mean of one image is that image: no averaging shows.
    score.case(t("only one image of the digit"),
               lambda: problem(mean_image, single, single_labels, 9,
                               ref.mean_image(single, single_labels, 9)),
               fresh=False)
    # Paired with a mean, so a function that always raises earns nothing.
    score.case(t("ValueError for an absent digit, the mean for a present "
                 "one"),
               lambda: checks.expect_value_error(
                   mean_image, single, single_labels, 5) or
               problem(mean_image, single, single_labels, 2,
                       ref.mean_image(single, single_labels, 2)))


# height, width, dx, dy: both signs on both axes, a shift of 0 (image[:-0]
# is empty), dx != dy (rows and columns swapped shows), and shifts past
# the other side but not their own (|dy| >= width, |dx| >= height: a
# bound checked against the wrong side shows).
SHIFT_CASES = ((9, 11, 3, -2), (12, 7, -4, 8), (6, 13, 0, 4),
               (7, 12, -9, -3))


@hidden_test(checks.shift_image)
def hidden_shift_image(shift_image, score, ref, rng):
    """Hidden tests: shift_image against the reference on random images
    whose pixels are never 0."""

    def add_case(image, dx, dy, label, fresh=True):
        def run():
            return checks.shift_image.problem(
                shift_image, image, dx, dy, ref.shift_image(image, dx, dy),
                ref.shift_image(image, -dx, -dy),
                ref.shift_image(image, dy, dx))
        score.case(label, run, fresh=fresh)

    for height, width, dx, dy in SHIFT_CASES:
        image = rng.integers(1, 256, (height, width), dtype=np.uint8)
        add_case(image, dx, dy, t("random {height}x{width}, dx={dx}, "
                                  "dy={dy}", height=height, width=width,
                                  dx=dx, dy=dy))
    digit = rng.integers(1, 256, (28, 28), dtype=np.uint8)
    # All zeros: np.zeros_like passes these, so they prove no work.
    add_case(digit, 28, 0, t("shift by the full width gives zeros"),
             fresh=False)
    add_case(digit, 0, -40, t("shift past the height gives zeros"),
             fresh=False)
    add_case(digit.astype(np.float32) / 255, -3, 2, t("float32 image"))
    add_case(digit, -1, 0, t("one pixel left (the lesson's first shift)"))


# architecture key (robustness.architecture_key: the whole saved config,
# compile settings, optimizer and loss) -> the toy training's accuracy
_toy_accuracies = {}


def _learns_toy_problem(build_dense_model):
    """The compiled model fits an easy one-hot problem in a few epochs."""
    rng = np.random.default_rng(7)
    num_pixels, num_classes = 12, 3
    labels = rng.integers(0, num_classes, 96)
    inputs = rng.normal(0, 0.3, (96, num_pixels)).astype("float32")
    inputs[np.arange(96), labels] += 2.0
    one_hot = np.eye(num_classes, dtype="float32")[labels]
    model = call(build_dense_model, "build_dense_model",
                        num_pixels=num_pixels, num_classes=num_classes)
    if replay.collecting():
        return None
    too_costly = model_limits.compute_problem(
        model, model_limits.TOY_PROBLEM, input_shape=inputs.shape[1:])
    if too_costly:
        return too_costly
    # The answer's weights are the kernel's random start: train a fresh
    # copy from the same seed instead, so the same design always gets the
    # same verdict (same code, same score), and is trained once per run.
    key = robustness.architecture_key(model)
    if key not in _toy_accuracies:
        model = _fresh_copy(model)
        if model is None:
            return t("the model is not compiled")
        model.fit(inputs, one_hot, epochs=15, batch_size=32, verbose=0)
        predictions = model.predict(inputs, verbose=0)
        _toy_accuracies[key] = float(
            (predictions.argmax(axis=1) == labels).mean())
    accuracy = _toy_accuracies[key]
    if accuracy < 0.9:
        return t("training on an easy 3-class problem reached accuracy "
                 "{accuracy:.2f} (expected >= 0.9)", accuracy=accuracy)
    return None


def _fresh_copy(model, seed=0):
    """`model`'s architecture with weights drawn after set_seed(seed) and
    its compile settings, or None if it was not compiled."""
    from cnn_course import import_tensorflow, set_seed

    keras = import_tensorflow()[1]
    config = model.get_compile_config()
    if not config:
        return None
    set_seed(seed)
    fresh = keras.models.clone_model(model)
    fresh.compile_from_config(config)
    return fresh


# num_pixels, num_classes: the lesson's sizes (a visible case), then two
# that no visible case has (784 or 10 written into the model shows).
DENSE_SIZES = ((784, 10), (50, 4), (9, 7))


@hidden_test(checks.build_dense_model)
def hidden_build_dense_model(build_dense_model, score, ref, rng):
    """Hidden tests: architecture for other sizes, and it can learn."""
    del rng
    for num_pixels, num_classes in DENSE_SIZES:
        want = models.describe(
            ref.build_dense_model(num_pixels, num_classes))
        score.case(t("{num_pixels} pixels, {num_classes} classes",
                     num_pixels=num_pixels, num_classes=num_classes),
                   lambda n=num_pixels, c=num_classes, w=want:
                   checks.build_dense_model.problem(build_dense_model, n,
                                                    c, w),
                   fresh=(num_pixels, num_classes) != DENSE_SIZES[0])
    score.case(t("learns an easy one-hot problem"),
               lambda: _learns_toy_problem(build_dense_model))
