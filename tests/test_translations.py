"""The zh-CN edition: complete, current, faithful to the English, graded
the same."""

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import GRADED_LESSON, lesson_notebook, partly_correct, run_grading

ROOT = Path(__file__).resolve().parent.parent
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
def test_every_markdown_cell_has_a_current_translation(name):
    problems = translations.problems(LANGUAGE, name)
    assert not problems, "\n".join(problems) + (
        "\nUpdate translations/zh-CN/ (python tools/translations.py "
        "skeleton zh-CN adds the English of new or changed cells).")


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
        for number in NUMBER.findall(prose(english)):
            assert number in numbers, f"{where}: number {number} missing"


@pytest.mark.parametrize("name", NAMES)
def test_chinese_notebook_has_the_english_cells_code_and_metadata(name):
    english = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    chinese = nbformat.read(ROOT / "notebooks" / LANGUAGE / name,
                            as_version=4)
    assert chinese.metadata["course"] == {"language": LANGUAGE}
    assert len(chinese.cells) == len(english.cells)
    translated = {cell.id for cell in translations.markdown_cells(english)}
    for zh, en in zip(chinese.cells, english.cells):
        assert (zh.id, zh.cell_type, zh.metadata) == \
            (en.id, en.cell_type, en.metadata)
        if zh.id in translated:
            assert CJK.search(zh.source), f"{name} cell {zh.id}"
        else:
            assert zh.source == en.source, f"{name} cell {zh.id}"


def translated(notebook, name):
    return translations.translate(notebook, LANGUAGE, name)


@pytest.mark.slow
def test_chinese_solutions_run_under_nbval(tmp_path):
    """The solutions with Chinese Markdown run, and their marked outputs
    match. Their code is the English code (tested above), so the short
    budgets of nbgrader's validate are enough: this costs about a minute,
    not the English run's five."""
    for name in NAMES:
        english = nbformat.read(ROOT / "solutions" / name, as_version=4)
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(translated(english, name), target)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--nbval-lax",
         "--nbval-current-env", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "NBGRADER_EXECUTION": "validate"})
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.slow
def test_the_same_code_gets_the_same_grades_in_both_languages(root,
                                                              tmp_path):
    """Every lesson's solution and blank notebook, and lesson 01 partly
    right, submitted in English and in Chinese: the same rows in
    grades.csv, and each learner's feedback in their own language."""
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

    def feedback(student):
        return next((output / "feedback" / student).glob(
            f"**/{GRADED_LESSON}.html")).read_text(encoding="utf-8")

    # The judge's verdict on np.roll, as each learner reads it.
    assert "Looks like np.roll" in feedback("enpart")
    assert "看起来像 np.roll" in feedback("zhpart")
    assert "Looks like np.roll" not in feedback("zhpart")
