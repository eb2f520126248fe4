"""The helper package: quiet TensorFlow, budgets, seeds."""

import os
import subprocess
import sys

import numpy as np
import pytest

from cnn_course import grading_mode, set_seed, training_budget


def test_tensorflow_imports_and_runs_without_stderr():
    code = (
        "from cnn_course import import_tensorflow\n"
        "tf, keras = import_tensorflow()\n"
        "model = keras.Sequential([keras.Input((3,)), "
        "keras.layers.Dense(2)])\n"
        "model.compile('adam', 'mse')\n"
        "model.fit(tf.zeros((4, 3)), tf.zeros((4, 2)), verbose=0)\n"
        "print(tf.__version__, keras.__version__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code],
                            capture_output=True, text=True, check=True)
    assert result.stderr == ""
    tf_version, keras_version = result.stdout.split()
    assert tf_version.startswith("2.21") and keras_version.startswith("3.")


def test_unexpected_stderr_during_import_is_passed_on(capfd):
    from cnn_course import tensorflow_setup

    tensorflow_setup._pass_on_unexpected(
        "I0000 00:00:1.2 1 port.cc:153] oneDNN custom operations are on\n"
        "something real went wrong\n")
    assert capfd.readouterr().err == "something real went wrong\n"


def test_budget_follows_nbgrader_execution(monkeypatch):
    full, grading = {"epochs": 5}, {"epochs": 1}
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not grading_mode()
    assert training_budget(full, grading) == full
    for mode in ("autograde", "validate"):
        monkeypatch.setenv("NBGRADER_EXECUTION", mode)
        assert grading_mode()
        assert training_budget(full, grading) == grading


def test_set_seed_repeats_numpy_and_keras(keras):
    set_seed(3)
    first = np.random.rand(3), keras.random.uniform((3,)).numpy()
    set_seed(3)
    second = np.random.rand(3), keras.random.uniform((3,)).numpy()
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_under_autograde_tensorflow_waits_for_its_first_use():
    """The grader's kernels import TensorFlow only when a cell uses it;
    a seed set before then still applies."""
    code = (
        "import sys\n"
        "from cnn_course import import_tensorflow, set_seed\n"
        "tf, keras = import_tensorflow()\n"
        "set_seed(3)\n"
        "print('tensorflow' in sys.modules)\n"
        "first = keras.random.uniform((3,)).numpy()\n"
        "print('tensorflow' in sys.modules)\n"
        "set_seed(3)\n"
        "print((first == keras.random.uniform((3,)).numpy()).all())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        check=True, env={**os.environ, "NBGRADER_EXECUTION": "autograde"})
    assert result.stdout.split() == ["False", "True", "True"]


def test_claims_under_grading_budgets_never_stop_the_notebook(
        monkeypatch, capsys):
    from cnn_course.claims import ClaimNotShown, claim

    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    claim(True, "the loss went down")
    claim(False, "the net holds at every shift")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["\u2714 this run shows that the loss went down",
                     "(not shown by the grading budget's short run) the "
                     "net holds at every shift"]
    monkeypatch.delenv("NBGRADER_EXECUTION")
    with pytest.raises(ClaimNotShown):
        claim(False, "the net holds at every shift")
