"""The message catalogue: every learner-facing template has its Chinese
form with the same placeholders, and checks answer in the notebook's
language."""

import ast
import json
import string

import nbformat
import pytest
from helpers import ROOT

from cnn_course import messages

PACKAGES = ("autograder", "trusted_grader", "cnn_course")
# A figure's words: cnn_course.plots.label(template, ...), which passes
# its template on to t (so its own t call is not a literal).
LABEL_MODULE = "cnn_course/plots.py"


def sources():
    """(where, Python source) of the packages' modules and of the code
    cells of the solution notebooks, whose claims, printed labels and
    figures' words go through the catalogue too."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield str(path.relative_to(ROOT)), path.read_text(
                encoding="utf-8")
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                yield f"{path.relative_to(ROOT)} cell {cell.id}", \
                    cell.source


def templates_in_code():
    """{template: "file:line"} of every t("...") and label("...") call,
    and of every claim(holds, "statement") in a notebook."""
    found, problems = {}, []
    for source_name, source in sources():
        tree = ast.parse(source)
        forwarding = set()
        if source_name == LABEL_MODULE:
            forwarding = {id(node) for definition in ast.walk(tree)
                          if isinstance(definition, ast.FunctionDef)
                          and definition.name == "label"
                          for node in ast.walk(definition)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or id(node) in forwarding:
                continue
            name = getattr(node.func, "id", None) or \
                getattr(node.func, "attr", None)
            where = f"{source_name}:{node.lineno}"
            plots_label = name == "label" and (
                source_name == LABEL_MODULE or
                getattr(node.func, "value", None) is not None and
                getattr(node.func.value, "id", None) == "plots")
            if name == "claim" and ".ipynb" in source_name:
                arguments = node.args[1:2]
            elif name == "t" or plots_label:
                arguments = node.args[:1]
            else:
                continue
            for first in arguments:
                if isinstance(first, ast.Constant) and \
                        isinstance(first.value, str):
                    found.setdefault(first.value, where)
                else:
                    problems.append(f"{where}: {name}() needs a literal "
                                    "template")
    return found, problems


def fixed_words():
    """Strings the notebooks and data/ pass to the helpers as words to
    show (a curve's name, a model's name): a catalogue entry may be one
    of these rather than a template."""
    words = set()
    for _, source in sources():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and \
                    isinstance(node.value, str):
                words.add(node.value)
    for path in (ROOT / "data").glob("*.json"):
        stack = [json.loads(path.read_text(encoding="utf-8"))]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
            elif isinstance(value, str):
                words.add(value)
    return words


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
                         "form in cnn_course/catalogue/:\n"
                         + "\n".join(missing[:40]))
    for template in found:
        assert fields(table[template]) == fields(template), template
        assert any("\u4e00" <= char <= "\u9fff" for char in table[template]
                   ), f"not Chinese: {table[template]!r}"
    unused = sorted(set(table) - set(found) - fixed_words())
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

    from trusted_grader.batch.notebook_grading import notebook_language

    notebook = nbformat.v4.new_notebook()
    for metadata, expected in (({"language": "zh-CN"}, "zh-CN"),
                               ({"language": "../../etc"}, "en"),
                               ({"language": ["zh-CN"]}, "en"),
                               ("zh-CN", "en"), (None, "en")):
        notebook.metadata["course"] = metadata
        assert notebook_language(notebook) == expected
