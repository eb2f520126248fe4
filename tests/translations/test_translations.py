"""The zh-CN edition: complete, current, faithful to the English, graded
the same."""

import ast
import re
import sys

import nbformat
import pytest
from helpers import (
    GRADED_LESSON,
    ROOT,
    lesson_notebook,
    partly_correct,
    run_grading,
)

sys.path.insert(0, str(ROOT / "tools"))
import translations  # noqa: E402

LANGUAGE = "zh-CN"
NAMES = translations.notebook_names()
CJK = re.compile(r"[\u4e00-\u9fff]")
INLINE_CODE = re.compile(r"`[^`]+`")
MATH = re.compile(r"\$[^$]+\$")
LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Lower-case words: an English sentence has many; a line of layer names
# (Conv2D → ReLU → MaxPooling2D) has none to translate.
LATIN_WORD = re.compile(r"\b[a-z]{2,}\b")


def pairs(name):
    """(English source, translated text) of every translated cell."""
    english = nbformat.read(ROOT / "solutions" / name, as_version=4)
    blocks = translations.read(LANGUAGE, name)
    return [(cell.id, cell.source, blocks[cell.id].text)
            for cell in translations.markdown_cells(english)
            if cell.id in blocks]


def prose(text, formulas=True):
    """The text without code, math, links' targets and HTML (and without
    displayed formulas such as "kernel = kernel − learning_rate · ...")."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    if not formulas:
        text = "\n".join(line for line in text.splitlines()
                         if " = " not in line)
    for pattern in (INLINE_CODE, MATH, LINK_TARGET, re.compile(r"<[^>]+>")):
        text = pattern.sub(" ", text)
    return text


@pytest.mark.parametrize("name", NAMES)
def test_every_markdown_cell_and_stub_docstring_has_a_current_translation(
        name):
    problems = translations.problems(LANGUAGE, name)
    assert not problems, "\n".join(problems) + (
        "\nUpdate translations/zh-CN/ (python tools/translations.py "
        "skeleton zh-CN adds the English of new or changed cells and "
        "docstrings).")


def test_a_changed_english_cell_makes_its_translation_stale(tmp_path):
    name = "01_dense_translation/01_dense_translation.ipynb"
    blocks = translations.read(LANGUAGE, name)
    cell_id = next(iter(blocks))
    text = translations.translation_path(LANGUAGE, name).read_text(
        encoding="utf-8")
    changed = text.replace(f"en: {blocks[cell_id].english_hash}",
                           "en: 000000000000", 1)
    parsed = translations.parse(changed)
    assert parsed[cell_id].english_hash == "000000000000"
    with pytest.raises(ValueError, match="appears twice"):
        translations.parse(text + "\n" + text)


@pytest.mark.parametrize("name", NAMES)
def test_translations_are_chinese_paragraph_by_paragraph(name):
    for cell_id, _, text in pairs(name):
        for paragraph in re.split(r"\n\s*\n", prose(text, formulas=False)):
            words = LATIN_WORD.findall(paragraph)
            if len(words) >= 4:
                assert CJK.search(paragraph), (
                    f"{name} cell {cell_id}: untranslated paragraph "
                    f"{paragraph.strip()[:80]!r}")


@pytest.mark.parametrize("name", NAMES)
def test_numbers_code_formulas_and_links_are_kept(name):
    for cell_id, english, text in pairs(name):
        where = f"{name} cell {cell_id}"
        assert sorted(INLINE_CODE.findall(english)) == \
            sorted(INLINE_CODE.findall(text)), f"{where}: code spans differ"
        assert sorted(MATH.findall(english)) == sorted(MATH.findall(text)), \
            f"{where}: formulas differ"
        assert sorted(LINK_TARGET.findall(english)) == \
            sorted(LINK_TARGET.findall(text)), f"{where}: links differ"
        numbers = set(NUMBER.findall(prose(text)))
        for number in NUMBER.findall(in_wan(prose(english))):
            assert number in numbers, f"{where}: number {number} missing"


MILLION = re.compile(r"(\d+(?:\.\d+)?) million")


def in_wan(text):
    """`text` with "0.8 million" as Chinese counts it, in 万 (ten
    thousands): "80 万" (translations/zh-CN/STYLE.md)."""
    return MILLION.sub(
        lambda found: f"{float(found.group(1)) * 100:g} 万", text)


def test_millions_are_counted_in_wan():
    assert NUMBER.findall(in_wan("about 0.8 million weights")) == ["80"]
    assert NUMBER.findall(in_wan("the 5.4 million weights")) == ["540"]
    assert in_wan("a million windows") == "a million windows"


def code_around_docstrings(source):
    """The lines of a cell's source outside its stub docstrings."""
    lines = source.split("\n")
    for docstring in reversed(translations.stub_docstrings(source)):
        del lines[docstring.first_line:docstring.last_line + 1]
    return lines


@pytest.mark.parametrize("name", NAMES)
def test_chinese_notebook_has_the_english_cells_code_and_metadata(name):
    """The same cells, ids and nbgrader metadata (checksums included);
    the same code, test cells byte for byte and stubs but for their
    docstrings."""
    english = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    chinese = nbformat.read(ROOT / "notebooks" / LANGUAGE / name,
                            as_version=4)
    assert chinese.metadata["course"] == {"language": LANGUAGE}
    assert len(chinese.cells) == len(english.cells)
    translated = {cell.id for cell in translations.markdown_cells(english)}
    stubs = {cell.id for cell in translations.stub_cells(english)}
    for zh, en in zip(chinese.cells, english.cells):
        where = f"{name} cell {zh.id}"
        assert (zh.id, zh.cell_type, zh.metadata) == \
            (en.id, en.cell_type, en.metadata)
        if zh.id in translated:
            assert CJK.search(zh.source), where
        elif zh.id in stubs:
            assert code_around_docstrings(zh.source) == \
                code_around_docstrings(en.source), where
            assert [docstring.function for docstring in
                    translations.stub_docstrings(zh.source)] == \
                [docstring.function for docstring in
                 translations.stub_docstrings(en.source)], where
        else:
            assert zh.source == en.source, where


# A tuple of names, numbers and arithmetic, as in a docstring's shapes:
# (N, H, W), (B,), (H - kh + 1, W - kw + 1, C_out), (1024, relu).
SHAPE_ITEM = r"[\w'*]+(?:\s*[-+*/]+\s*[\w']+)*"
SHAPE = re.compile(rf"\(\s*{SHAPE_ITEM}(?:\s*,\s*{SHAPE_ITEM})*\s*,?\)")


def stub_docstrings(notebook):
    """(cell id, function, parameters, docstring) of every stub."""
    found = []
    for cell in translations.stub_cells(notebook):
        functions = {node.name: [arg.arg for arg in node.args.args]
                     for node in ast.walk(ast.parse(cell.source))
                     if isinstance(node, ast.FunctionDef)}
        found += [(cell.id, docstring.function,
                   functions.get(docstring.function, []), docstring)
                  for docstring in translations.stub_docstrings(
                      cell.source)]
    return found


def as_word(name):
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")


# English words no name in a docstring is: a docstring mostly of code
# ("x @ W + b for x of shape (n,) ...") has no run of three English words
# but some of these.
FUNCTION_WORDS = re.compile(
    r"(?<![\w.])(?:the|of|and|for|is|are|an|to|in|on|by|with|from|if|or|"
    r"its|it|each|every|where|else|that|which|as|at|be|not|one|"
    r"[Rr]eturns?)(?![\w(])")


def english_left(text, parameters):
    """The English in a docstring, outside what is code in it (shapes,
    code spans, the function's parameter names, identifiers): runs of
    English words and English function words."""
    for pattern in (SHAPE, INLINE_CODE, *map(as_word, parameters)):
        text = pattern.sub(" | ", text)
    return english_sentences(text) + FUNCTION_WORDS.findall(
        IDENTIFIER.sub(" | ", text))


@pytest.mark.parametrize("name", NAMES)
def test_every_stub_of_the_chinese_notebooks_has_a_chinese_docstring(name):
    """No English sentence left in a stub's docstring (names, shapes and
    formulas are code); the shapes, code spans and parameter names the
    English docstring gives are all there; no line is over 79 columns
    (ruff's E501 counts a Chinese character as two)."""
    english = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    chinese = nbformat.read(ROOT / "notebooks" / LANGUAGE / name,
                            as_version=4)
    pairs = list(zip(stub_docstrings(english), stub_docstrings(chinese)))
    assert len(pairs) == len(translations.stub_cells(english))
    for (cell_id, function, parameters, en), (*_, zh) in pairs:
        where = f"{name} cell {cell_id}, {function}"
        assert english_left(en.text, parameters), (
            f"{where}: the scan misses the English docstring")
        assert CJK.search(zh.text), where
        left = english_left(zh.text, parameters)
        assert not left, f"{where}: English left: {left}"
        for shape in SHAPE.findall(en.text) + INLINE_CODE.findall(en.text):
            assert shape in zh.text, f"{where}: {shape} is missing"
        for parameter in parameters:
            if as_word(parameter).search(en.text):
                assert as_word(parameter).search(zh.text), (
                    f"{where}: the parameter {parameter} is not named")
    for cell in translations.stub_cells(chinese):
        for line in cell.source.split("\n"):
            assert translations.display_width(line) <= 79, (
                f"{name} cell {cell.id}: {line!r}")


@pytest.mark.parametrize("name", NAMES)
def test_chinese_notebooks_are_what_the_tool_makes_of_the_english(name):
    """A Chinese notebook edited by hand, or not made again after its
    translation changed, differs from the tool's translation of the
    English student notebook (tests/lessons/test_release.py runs the whole
    release; this names the cell)."""
    english = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    chinese = nbformat.read(ROOT / "notebooks" / LANGUAGE / name,
                            as_version=4)
    made = translated(english, name)
    for have, want in zip(chinese.cells, made.cells, strict=True):
        assert have.source == want.source, (
            f"{name} cell {have.id} is not what tools/translations.py "
            "makes: run python tools/release.py")


LESSON_01 = "01_dense_translation/01_dense_translation.ipynb"


def solutions_with(tmp_path, monkeypatch, change):
    """translations reading a copy of lesson 01's solutions in which
    `change(source of the mean_image cell)` gives that cell's source."""
    notebook = nbformat.read(ROOT / "solutions" / LESSON_01, as_version=4)
    cell = next(cell for cell in notebook.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id")
                == "mean_image")
    cell.source = change(cell.source)
    target = tmp_path / "solutions" / LESSON_01
    target.parent.mkdir(parents=True)
    nbformat.write(notebook, target)
    monkeypatch.setattr(translations, "ROOT", tmp_path)
    return notebook


def test_a_changed_english_docstring_makes_its_translation_stale(
        tmp_path, monkeypatch):
    notebook = solutions_with(tmp_path, monkeypatch, lambda source:
                              source.replace("Pixel-wise mean",
                                             "Pixel-wise average"))
    problems = translations.problems(LANGUAGE, LESSON_01)
    assert len(problems) == 1
    assert "docstring of mean_image is stale" in problems[0]
    with pytest.raises(ValueError, match="mean_image is stale"):
        translations.translate(notebook, LANGUAGE, LESSON_01)


def test_a_new_stub_docstring_needs_a_translation(tmp_path, monkeypatch):
    solutions_with(tmp_path, monkeypatch, lambda source: source.replace(
        "def mean_image", 'def helper():\n    """Given."""\n\n\n'
        "def mean_image"))
    assert translations.problems(LANGUAGE, LESSON_01) == [
        f"{LESSON_01}: cell cell-07's docstring of helper has no "
        f"{LANGUAGE} translation"]


def test_docstring_blocks_are_parsed_checked_and_rendered():
    blocks = translations.read(LANGUAGE, LESSON_01)
    key = ("cell-13", "shift_image")
    block = blocks[key]
    assert block.function == "shift_image" and CJK.search(block.text)
    assert blocks["cell-12"].function is None  # a Markdown cell's block
    text = translations.translation_path(LANGUAGE, LESSON_01).read_text(
        encoding="utf-8")
    marker = f"<!-- docstring: cell-13 shift_image en: {block.english_hash}"
    with pytest.raises(ValueError, match="shift_image appears twice"):
        translations.parse(text + "\n" + marker + " -->\nx\n")
    assert translations.render("一行。", 4) == ['    """一行。"""']
    assert translations.render("第一行。\n\n第二行。", 4) == [
        '    """第一行。', "", "    第二行。", '    """']
    for bad, reason in (("中文 " * 30, "wider than 79 columns"),
                        ("a \\n b", "backslash"), ('"quoted"', 'ends with')):
        changed = dict(blocks)
        changed[key] = translations.Block("cell-13", block.english_hash, bad,
                                          "shift_image")
        found = translations.problems(LANGUAGE, LESSON_01, changed)
        assert len(found) == 1 and reason in found[0], found


def test_only_the_released_english_docstrings_are_replaced():
    """A docstring a learner changed, or one inside the solution (which
    learners never see), is left as it is; so is the code around."""
    blocks = translations.read(LANGUAGE, LESSON_01)
    english = nbformat.read(ROOT / "notebooks" / LESSON_01, as_version=4)
    stub = next(cell.source for cell in english.cells if cell.id == "cell-13")
    made = translations.translate_docstrings(stub, "cell-13", blocks)
    assert CJK.search(made) and made.endswith(
        "    # YOUR CODE HERE\n    raise NotImplementedError()")
    edited = stub.replace("Move the content", "Shift the content")
    assert translations.translate_docstrings(edited, "cell-13",
                                             blocks) == edited
    solution = ('def shift_image(image, dx, dy=0):\n    ### BEGIN SOLUTION'
                '\n    def inner():\n        """Solution only."""\n'
                "    ### END SOLUTION\n")
    assert translations.stub_docstrings(solution) == []


def translated(notebook, name):
    return translations.translate(notebook, LANGUAGE, name)


# Run before a Chinese notebook's own cells: every figure shown prints
# its words (titles, axis labels, legends, ticks) on one marked line, so
# that the scan below reads figures as it reads printed text.
FIGURE_WORDS = "FIGURE-WORDS:"
FIGURE_HOOK = f"""
import matplotlib.pyplot as _pyplot
from matplotlib.text import Text as _Text

_show = _pyplot.show


def _show_with_words(*args, **kwargs):
    for number in _pyplot.get_fignums():
        figure = _pyplot.figure(number)
        figure.canvas.draw()
        words = [text.get_text() for text in figure.findobj(_Text)]
        print({FIGURE_WORDS!r}, " | ".join(word for word in words if word))
    return _show(*args, **kwargs)


_pyplot.show = _show_with_words
"""
# Words a Chinese learner may see in English: Keras's own output, its
# training log ("Epoch 1/5", "accuracy: 0.97 - loss: 0.1") and
# model.summary()'s table ("Layer (type)", "Total params: 5,130").
ALLOWED_ENGLISH = re.compile(
    r"^Epoch \d+/\d+$|\d+/\d+ - .*(?:step|loss).*$"
    r"|^.*Layer \(type\).*$|(?:Non-)?(?:[Tt]rainable|Total|Optimizer)"
    r" params:.*$", re.M)
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,;:()+]+[A-Za-z]{2,}){2,}")
IDENTIFIER = re.compile(r"\S*[_.\[\]=0-9|]\S*|\w+\(\S*")


def english_sentences(text):
    """Runs of three or more English words in `text` (outputs of a
    Chinese notebook), after dropping Keras's training log and words
    that are code: with _ . ( ) [ ] = or digits in them."""
    text = ALLOWED_ENGLISH.sub(" ", text.replace(FIGURE_WORDS, " | "))
    text = IDENTIFIER.sub(" | ", text)
    return ENGLISH_RUN.findall(text)


def test_the_output_scan_finds_english_and_passes_chinese():
    assert english_sentences("✔ this run shows that conv2d_fast equals")
    assert english_sentences(
        f"{FIGURE_WORDS} 0 | 1 | horizontal shift (pixels, + is right)")
    assert not english_sentences(
        f"{FIGURE_WORDS} -3 px | -2 px | -1 px | 0 | 1\n"
        "✔ 本次运行表明 conv2d_fast 与 tf.nn.conv2d 的结果相差不超过 1e-5\n"
        "Epoch 1/5\n469/469 - 3s - 6ms/step - accuracy: 0.92 - loss: 0.3\n"
        "形状 (3, 3, 1, 8)，float32\n{'train_size': 1000}\n"
        "│ Layer (type)   │ Output Shape  │  Param # │\n"
        " Total params: 5,130 (20.04 KB)")


def output_text(cell):
    """What a learner reads in a code cell's outputs (figures' words
    included, as printed by FIGURE_HOOK)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append("\n".join(output.traceback))
        elif "image/png" not in output.get("data", {}):
            # A figure's text/plain ("<Figure size 640x480 with 1 Axes>")
            # is not shown beside its image.
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.slow
def test_chinese_solutions_run_with_chinese_outputs_only(tmp_path,
                                                         monkeypatch):
    """The solutions with Chinese Markdown run, from a notebooks/zh-CN/
    folder as the learner's do, and all a learner reads in their outputs
    and figures is Chinese, apart from code, numbers and Keras's log; no
    figure lacks a glyph (matplotlib warns "Glyph ... missing from
    font"). Their code is the English code (tested above), whose marked
    outputs nbval compares; the short budgets of nbgrader's validate are
    enough here: this costs about a minute, not the English run's five.
    """
    from nbclient import NotebookClient

    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    found = []
    for name in NAMES:
        english = nbformat.read(ROOT / "solutions" / name, as_version=4)
        notebook = translated(english, name)
        notebook.cells.insert(0, nbformat.v4.new_code_cell(FIGURE_HOOK))
        folder = (tmp_path / "notebooks" / LANGUAGE / name).parent
        folder.mkdir(parents=True, exist_ok=True)
        NotebookClient(notebook, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(folder)}}
                       ).execute()
        figures = 0
        for cell in notebook.cells[1:]:
            if cell.cell_type != "code":
                continue
            text = output_text(cell)
            figures += text.count(FIGURE_WORDS)
            where = f"{name} cell {cell.id}"
            found += [f"{where}: {sentence!r}"
                      for sentence in english_sentences(text)]
            if "missing from font" in text:
                found.append(f"{where}: a glyph is missing from the font")
        if "start_here" not in name:
            assert figures, f"{name}: no figure was shown"
    assert not found, "\n".join(found)


def solution_comments(output, lesson, student):
    """{grade id: nbgrader's comment} of the student's code solution
    cells, from the graded run's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{output / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(lesson, lesson,
                                                      student)
        return {comment.name: comment.auto_comment
                for comment in notebook.comments
                if gradebook.find_source_cell(comment.name, lesson,
                                              lesson).cell_type == "code"}


@pytest.mark.slow
def test_the_same_code_gets_the_same_grades_in_both_languages(root,
                                                              tmp_path):
    """Every lesson's solution and blank notebook, and lesson 01 partly
    right, submitted in English and in Chinese: the same rows in
    grades.csv and the same comments on the stubs, and each learner's
    feedback in their own language."""
    submitted = tmp_path / "submitted"
    for lesson in (path.parent.name for path in
                   sorted((ROOT / "solutions").glob("*/*.ipynb"))):
        name = f"{lesson}/{lesson}.ipynb"
        notebooks = {"right": lesson_notebook(root, "solutions", lesson),
                     "blank": lesson_notebook(root, "notebooks", lesson)}
        if lesson == GRADED_LESSON:
            notebooks["part"] = partly_correct(root)
        for student, notebook in notebooks.items():
            for language, copy in (("en", notebook),
                                   ("zh", translated(notebook, name))):
                folder = submitted / f"{language}{student}" / lesson
                folder.mkdir(parents=True)
                nbformat.write(copy, folder / f"{lesson}.ipynb")
    output = tmp_path / "out"
    _, rows = run_grading(root, submitted, output, "--jobs", "2")
    graded = {(row["student"], row["lesson"]): row for row in rows}
    # Six learners, a row for each lesson (the "part" ones miss all but
    # one).
    lessons = {lesson for _, lesson in graded}
    assert len(lessons) == len(list(ROOT.glob("solutions/*/*.ipynb")))
    assert len(graded) == 6 * len(lessons)
    for (student, lesson), english in graded.items():
        if student.startswith("zh"):
            continue
        chinese = graded[("zh" + student[2:], lesson)]
        for column in ("status", "score", "max_score",
                       "needs_manual_grade"):
            assert english[column] == chinese[column], (student, lesson,
                                                        column)
    assert float(graded[("enright", GRADED_LESSON)]["score"]) > \
        float(graded[("enpart", GRADED_LESSON)]["score"]) > 0
    # nbgrader's "No response." on a stub left as released: the Chinese
    # stubs differ from the gradebook's English ones in their docstrings.
    for lesson in lessons:
        english, chinese = (solution_comments(output, lesson, student)
                            for student in ("enblank", "zhblank"))
        assert english == chinese and set(english.values()) == {
            "No response."}, lesson
        assert set(solution_comments(output, lesson, "zhright").values()
                   ) == {None}, lesson

    def feedback(student):
        return next((output / "feedback" / student).glob(
            f"**/{GRADED_LESSON}.html")).read_text(encoding="utf-8")

    # The judge's verdict on np.roll, as each learner reads it.
    assert "Looks like np.roll" in feedback("enpart")
    assert "看起来像 np.roll" in feedback("zhpart")
    assert "Looks like np.roll" not in feedback("zhpart")
