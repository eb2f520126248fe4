"""The message catalogue: every learner-facing template has its Chinese
form with the same placeholders, and checks answer in the notebook's
language."""

import ast
import string
from pathlib import Path

import pytest

from autograder import messages

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograder", "trusted_grader", "cnn_course")


def templates_in_code():
    """{template: "file:line"} of every t("...") call."""
    found, problems = {}, []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or \
                    getattr(node.func, "attr", None)
                if name != "t" or not node.args:
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                first = node.args[0]
                if isinstance(first, ast.Constant) and \
                        isinstance(first.value, str):
                    found.setdefault(first.value, where)
                else:
                    problems.append(f"{where}: t() needs a literal template")
    return found, problems


def fields(template):
    return sorted({name for _, name, _, _ in
                   string.Formatter().parse(template) if name is not None})


def test_templates_are_literals():
    _, problems = templates_in_code()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", [name for name in messages.LANGUAGES
                                      if name != messages.ENGLISH])
def test_every_template_has_a_translation_with_the_same_fields(language):
    found, _ = templates_in_code()
    assert len(found) > 20
    table = messages.table(language)
    missing = [f"{where}: {template!r}" for template, where in found.items()
               if template not in table]
    assert not missing, (f"{len(missing)} templates have no {language} "
                         "form in autograder/catalogue/:\n"
                         + "\n".join(missing[:40]))
    for template in found:
        assert fields(table[template]) == fields(template), template
        assert any("\u4e00" <= char <= "\u9fff" for char in table[template]
                   ), f"not Chinese: {table[template]!r}"
    unused = sorted(set(table) - set(found))
    assert not unused, "entries no code uses:\n" + "\n".join(unused[:40])


def test_language_follows_the_setting_then_the_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(messages.LANGUAGE_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    assert messages.language() == "en"
    chinese = tmp_path / "notebooks" / "zh-CN" / "01_dense_translation"
    chinese.mkdir(parents=True)
    monkeypatch.chdir(chinese)
    assert messages.language() == "zh-CN"
    monkeypatch.setenv(messages.LANGUAGE_VARIABLE, "en")
    assert messages.language() == "en"
    with messages.use_language("zh-CN"):
        assert messages.language() == "zh-CN"
    assert messages.language() == "en"


def test_a_submission_cannot_pick_a_language_the_grader_lacks():
    """The grader reads the language from the submitted notebook's
    metadata, which the learner controls: anything but a catalogue
    language is English."""
    import nbformat

    from trusted_grader.grading import notebook_language

    notebook = nbformat.v4.new_notebook()
    for metadata, expected in (({"language": "zh-CN"}, "zh-CN"),
                               ({"language": "../../etc"}, "en"),
                               ({"language": ["zh-CN"]}, "en"),
                               ("zh-CN", "en"), (None, "en")):
        notebook.metadata["course"] = metadata
        assert notebook_language(notebook) == expected
