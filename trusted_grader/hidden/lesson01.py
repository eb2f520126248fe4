"""Hidden tests of lesson 01, run by the judge on recorded answers.

Each `hidden_<exercise>` adds its cases (`scoring.hidden_test`): inputs
from `rng` (seeded per grading run and exercise), `func` a replay of the
kernel's answers, `ref` the reference solutions.
"""

import numpy as np

from autograder import lesson01 as checks
from autograder.messages import t
from trusted_grader import replay
from trusted_grader.scoring import hidden_test

hidden = hidden_test(checks.LESSON)


@hidden
def hidden_mean_image(mean_image, score, ref, rng):
    """Hidden tests: mean_image against the reference on random data."""
    for _ in range(3):
        height, width = rng.integers(3, 12, size=2)
        count = int(rng.integers(20, 60))
        images = rng.integers(0, 256, (count, height, width), dtype=np.uint8)
        labels = rng.integers(0, 10, count)
        digit = int(rng.choice(labels))
        want = ref.mean_image(images, labels, digit)
        score.case(t("random {count} images {height}x{width}, digit "
                     "{digit}", count=count, height=height, width=width,
                     digit=digit),
                   lambda i=images, la=labels, d=digit, w=want:
                   checks._mean_problem(mean_image, i, la, d, w))
    bright = np.full((300, 6, 6), 255, dtype=np.uint8)
    bright_labels = np.full(300, 4)
    score.case(t("300 white images (a uint8 sum overflows)"),
               lambda: checks._mean_problem(
                   mean_image, bright, bright_labels, 4,
                   ref.mean_image(bright, bright_labels, 4)))
    single = rng.integers(0, 256, (5, 7, 7), dtype=np.uint8)
    single_labels = np.array([0, 2, 2, 9, 2])
    score.case(t("only one image of the digit"),
               lambda: checks._mean_problem(
                   mean_image, single, single_labels, 9,
                   ref.mean_image(single, single_labels, 9)))
    # Paired with a mean, so a function that always raises earns nothing.
    score.case(t("ValueError for an absent digit, the mean for a present "
                 "one"),
               lambda: checks._expect_value_error(
                   mean_image, single, single_labels, 5) or
               checks._mean_problem(mean_image, single, single_labels, 2,
                                    ref.mean_image(single, single_labels,
                                                   2)))


@hidden
def hidden_shift_image(shift_image, score, ref, rng):
    """Hidden tests: shift_image against the reference on random images."""

    def add_case(image, dx, dy, label):
        def run():
            return checks._shift_problem(
                shift_image, image, dx, dy, ref.shift_image(image, dx, dy),
                ref.shift_image(image, -dx, -dy),
                ref.shift_image(image, dy, dx))
        score.case(label, run)

    for _ in range(4):
        height, width = (int(n) for n in rng.integers(4, 15, size=2))
        image = rng.integers(1, 256, (height, width), dtype=np.uint8)
        dx = int(rng.integers(-width + 1, width))
        dy = int(rng.integers(-height + 1, height))
        add_case(image, dx, dy, t("random {height}x{width}, dx={dx}, "
                                  "dy={dy}", height=height, width=width,
                                  dx=dx, dy=dy))
    digit = rng.integers(1, 256, (28, 28), dtype=np.uint8)
    add_case(digit, 28, 0, t("shift by the full width gives zeros"))
    add_case(digit, 0, -40, t("shift past the height gives zeros"))
    add_case(digit.astype(np.float32) / 255, -3, 2, t("float32 image"))
    add_case(digit, -1, 0, t("one pixel left (the lesson's first shift)"))


def _learns_toy_problem(build_dense_model):
    """The compiled model fits an easy one-hot problem in a few epochs."""
    rng = np.random.default_rng(7)
    num_pixels, num_classes = 12, 3
    labels = rng.integers(0, num_classes, 96)
    inputs = rng.normal(0, 0.3, (96, num_pixels)).astype("float32")
    inputs[np.arange(96), labels] += 2.0
    one_hot = np.eye(num_classes, dtype="float32")[labels]
    model = checks.call(build_dense_model, "build_dense_model",
                        num_pixels=num_pixels, num_classes=num_classes)
    if replay.collecting():
        return None
    model.fit(inputs, one_hot, epochs=15, batch_size=32, verbose=0)
    predictions = model.predict(inputs, verbose=0)
    accuracy = float((predictions.argmax(axis=1) == labels).mean())
    if accuracy < 0.9:
        return t("training on an easy 3-class problem reached accuracy "
                 "{accuracy:.2f} (expected >= 0.9)", accuracy=accuracy)
    return None


@hidden
def hidden_build_dense_model(build_dense_model, score, ref, rng):
    """Hidden tests: architecture for random sizes, and it can learn."""
    sizes = [(784, 10)] + [
        (int(rng.integers(5, 60)), int(rng.integers(2, 8))) for _ in range(2)
    ]
    for num_pixels, num_classes in sizes:
        want = checks.models.describe(
            ref.build_dense_model(num_pixels, num_classes))
        score.case(t("{num_pixels} pixels, {num_classes} classes",
                     num_pixels=num_pixels, num_classes=num_classes),
                   lambda n=num_pixels, c=num_classes, w=want:
                   checks._dense_problem(build_dense_model, n, c, w))
    score.case(t("learns an easy one-hot problem"),
               lambda: _learns_toy_problem(build_dense_model))
