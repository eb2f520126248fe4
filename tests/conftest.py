"""Shared fixtures: the repository root and quiet TensorFlow."""

import os
import sys

import pytest
from helpers import ROOT

# Tests import one another by module name (a lesson's wrong versions, the
# browser's flags) from whichever folder they are in, and the maintainers'
# tools (tools/expected_values.py, ...), which are scripts, not a package.
sys.path[:0] = [*(str(folder) for folder in sorted((ROOT / "tests").iterdir())
                  if folder.is_dir() and folder.name[0] not in "._"),
                str(ROOT / "tools")]
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
