"""Shared fixtures: the repository root and quiet TensorFlow."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The maintainers' tools (tools/expected_values.py, ...) are scripts, not a
# package: tests import them by name.
sys.path.insert(0, str(ROOT / "tools"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(autouse=True)
def english_by_default(monkeypatch):
    """Messages are English unless a test chooses a language."""
    from cnn_course.messages import LANGUAGE_VARIABLE

    monkeypatch.delenv(LANGUAGE_VARIABLE, raising=False)


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="module")
def ref(request):
    """The reference solutions of the test module's LESSON."""
    from trusted_grader.judging import reference

    return reference.load(request.module.LESSON)


@pytest.fixture(scope="session")
def keras():
    from cnn_course import import_tensorflow

    return import_tensorflow()[1]
