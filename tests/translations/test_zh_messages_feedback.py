"""The shared feedback, the recorder, the judge and the grader's notes
speak Chinese to a Chinese notebook and English to an English one."""

import numpy as np
import pytest
from helpers import chinese, failure_of

from autograder import feedback, models, recorder
from cnn_course import messages
from trusted_grader.judging import replay, scoring, server


@pytest.fixture(autouse=True)
def not_grading(monkeypatch):
    """As in a learner's kernel (conftest keeps messages English)."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def stub(image, dx, dy):
    raise NotImplementedError()


def broken(image, dx, dy):
    raise ValueError("bad shapes")


@pytest.mark.parametrize("func, english", [
    (42, "shift_image is int, not a function. Run the cell"),
    (stub, "shift_image is not implemented yet.\nReplace "
           "`raise NotImplementedError()` in the shift_image cell"),
    (broken, "shift_image(<uint8 array (5, 6)>, dx=2, dy=0) raised "
             "ValueError: bad shapes"),
])
def test_a_call_that_fails_is_told_in_the_notebooks_language(func, english):
    image = np.zeros((5, 6), dtype=np.uint8)
    with messages.use_language("zh-CN"):
        message = failure_of(feedback.call, func, "shift_image", image, 2, 0)
    assert chinese(message)
    assert "shift_image" in message and english not in message
    message = failure_of(feedback.call, func, "shift_image", image, 2, 0)
    assert english in message and not chinese(message)


def test_array_comparisons_keep_their_numbers_in_chinese():
    got, want = np.zeros((2, 3)), np.ones((2, 3))
    with messages.use_language("zh-CN"):
        shape = feedback.compare_arrays(got, np.ones((3, 2)), "relu(x)")
        values = feedback.compare_arrays(got, want, "relu(x)")
        kind = failure_of(feedback.require_array, [1, 2], "relu(x)")
    assert shape == "relu(x)：形状为 (2, 3)，应为 (3, 2)。"
    assert chinese(values) and "[0, 0]" in values and "6" in values
    assert chinese(kind) and "NumPy" in kind
    assert feedback.compare_arrays(got, np.ones((3, 2)), "relu(x)") == \
        "relu(x): shape (2, 3), expected (3, 2)."
    assert feedback.compare_arrays(got, want, "relu(x)") == (
        "relu(x): 6 value(s) differ; first at index [0, 0]: got 0, "
        "expected 1.")


def test_compile_settings_are_described_in_the_notebooks_language():
    want = {"input_shape": [None, 784], "optimizer": "Adam",
            "loss": "categorical_crossentropy"}
    got = {"input_shape": [None, 784], "output_shape": [None, 10],
           "parameters": 7850, "optimizer": "Adam",
           "loss": "sparse_categorical_crossentropy", "metrics": []}
    with messages.use_language("zh-CN"):
        message = models.compile_problem("build_dense_model(784, 10)",
                                         got, want)
    assert chinese(message)
    assert "sparse_categorical_crossentropy" in message
    assert "one-hot" not in message
    assert models.compile_problem("build_dense_model(784, 10)", got,
                                  want).endswith(
        "expected categorical_crossentropy. The labels are one-hot "
        "vectors, not integers.")


def test_hidden_case_lines_and_points_in_both_languages(capsys):
    def score_with(language):
        with messages.use_language(language):
            score = scoring.HiddenScore("relu")
            score.case("negative inputs", lambda: None)
            score.case("a 3-D input", lambda: 1 / 0)
            score.points(2)
        return capsys.readouterr().out

    english = score_with("en")
    assert "relu: 1/2 hidden cases passed, 1 of 2 points" in english
    assert "raised ZeroDivisionError: division by zero" in english
    chinese_text = score_with("zh-CN")
    assert chinese(chinese_text) and "hidden cases" not in chinese_text
    assert "1/2" in chinese_text and "ZeroDivisionError" in chinese_text


def test_a_veto_says_why_in_the_notebooks_language(capsys):
    score = scoring.HiddenScore("conv2d")
    score.veto("conv2d uses SciPy")
    with messages.use_language("zh-CN"):
        score.points(3)
    assert "从零实现" in capsys.readouterr().out
    score.points(3)
    assert "conv2d: 0 of 3 points (not from scratch)" in \
        capsys.readouterr().out


def test_the_judges_notes_in_both_languages():
    with messages.use_language("zh-CN"):
        missing = server.no_answers()
    assert chinese(missing)
    assert server.no_answers().startswith("no answers were recorded")
    stand_in = replay.Replay("relu", {"answers": []}, None, [])
    with messages.use_language("zh-CN"):
        message = failure_of(stand_in, np.zeros(3))
    assert chinese(message) and message.startswith("relu")
    assert "no answer was recorded for this call" in failure_of(
        stand_in, np.zeros(3))
    stand_in.returned = [((np.ones(3),), {}, np.full(3, 2.0)),
                         ((np.arange(4.0),), {}, np.arange(4.0))]
    with messages.use_language("zh-CN"):
        degenerate = stand_in.degenerate()
    assert degenerate == "relu 对每个输入都返回常数数组或原封不动的输入：" \
        "这个练习不得分。"
    assert stand_in.degenerate() == (
        "relu returned a constant array or its input unchanged for every "
        "input: no points for this exercise.")


def test_the_grader_notes_the_error_of_a_cell_without_answers():
    import nbformat

    from trusted_grader.batch import unit

    def judged(language):
        notebook = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("relu(relu)")
        cell.metadata["nbgrader"] = {"grade_id": "test_relu"}
        notebook.cells.append(cell)
        with messages.use_language(language):
            output = f"{feedback.FAIL_MARK} {server.no_answers()}\n"
            unit.show_judgement(
                notebook, {"test_relu": {"output": output}},
                {"test_relu": "NameError: name 'relu' is not defined"})
            unit.add_grader_note(notebook, ["it replaces np.allclose"])
        return notebook.cells[0].source, notebook.cells[1].outputs[0].text

    note, text = judged("zh-CN")
    assert chinese(note) and "* it replaces np.allclose" in note
    assert chinese(text) and text.endswith(
        "NameError: name 'relu' is not defined\n")
    note, text = judged("en")
    assert note.startswith("**Grader's note: this notebook scores 0.**")
    assert "  The cell raised NameError" in text


def test_the_kernels_own_lines_in_both_languages(capsys):
    from cnn_course.claims import ClaimNotShown, claim
    from trusted_grader.batch.demo_cells import skipped_note

    hidden = recorder.hidden_cell("relu", scratch=False)
    with messages.use_language("zh-CN"):
        hidden(None)
        claim(True, "卷积核学会了边缘检测器")
        with pytest.raises(ClaimNotShown) as caught:
            claim(False, "卷积核学会了边缘检测器")
        note = skipped_note()
    out = capsys.readouterr().out
    assert chinese(out) and "Hidden tests" not in out
    assert "\u2714 " in out and "this run shows" not in out
    assert chinese(str(caught.value)) and "rerun" not in str(caught.value)
    assert chinese(note) and note.endswith("\n")
    hidden(None)
    assert capsys.readouterr().out == (
        "Hidden tests of relu run when your instructor grades this "
        "notebook.\n")
    assert skipped_note().startswith("[not run while grading:")
