"""One submission's answers cannot change how the next one is judged.

The judge scores a whole run's submissions in one process, with arrays
(the lesson's A and B, the visible cases) that every submission shares.
An answer that reports an in-place change of its arguments fails that
call; the judge never writes the change into its own arrays.
"""

import numpy as np
from helpers import judged

from autograder import expected
from autograder import lesson02 as check
from trusted_grader.judging import reference

LESSON = check.LESSON


def overwriting(conv2d):
    """A correct conv2d that then overwrites its inputs."""
    def student(image, kernel, stride=1, padding=0):
        result = conv2d(image, kernel, stride, padding)
        for array in (image, kernel):
            array[...] = 7
        return result
    return student


def test_in_place_changes_stay_with_their_author():
    ref = reference.load(LESSON)
    a_before, b_before = check.A.copy(), check.B.copy()
    cases_before = [case["image"].copy() for case in
                    expected.load(LESSON)["conv2d"]["cases"]]
    results = judged(check, "conv2d", overwriting(ref.conv2d), seed=3)
    assert results["hidden_conv2d"]["score"] == 0.0
    assert results["test_conv2d"]["score"] == 0.0
    assert "modified its input in place" in \
        results["hidden_conv2d"]["output"]
    # The judge's shared arrays are as they were ...
    assert np.array_equal(check.A, a_before)
    assert np.array_equal(check.B, b_before)
    for case, before in zip(expected.load(LESSON)["conv2d"]["cases"],
                            cases_before):
        assert np.array_equal(case["image"], before)
    # ... so an honest student judged next, same judge, keeps every point.
    honest = judged(check, "conv2d", ref.conv2d, seed=3)
    assert honest["hidden_conv2d"]["score"] == 3.0
    assert honest["test_conv2d"]["score"] == 1.0
