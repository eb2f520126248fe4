"""Helpers shared by the check tests."""

import pytest

from autograder.feedback import CheckFailure


def failure_of(check_function, student):
    """The message a visible check gives for `student`; fails if none."""
    with pytest.raises(CheckFailure) as error:
        check_function(student)
    return error.value.message
