"""Translations of the notebooks' Markdown and of the exercise stubs'
docstrings, one file per lesson and language.

    python tools/translations.py status            # stale or missing blocks
    python tools/translations.py skeleton zh-CN 01_dense_translation

A translation file, translations/<language>/<notebook>.md, holds one block
per Markdown cell of the English notebook in solutions/, and one per
docstring of a stub (the part of a solution cell learners get around
`# YOUR CODE HERE`), in the notebook's order:

    <!-- cell: <cell id> en: <hash of the English source> -->
    The translated Markdown.

    <!-- docstring: <cell id> <function> en: <hash of the English> -->
    The translated docstring, without its quotes and indentation.

The hash is the first 12 hex digits of the SHA-256 of the English cell's
source (of the docstring's text, for a docstring). When the English
changes, its hash changes and the block is stale until a translator
updates the text and the hash; `status` and the tests list every stale,
missing or unknown block.

In code cells only the stubs' docstrings are translated, and only in the
stubs (solution cells, which are not locked: nbgrader never compares or
restores their source). Everything else in a code cell, the test cells
(locked: nbgrader restores any change from the English gradebook) and the
written-answer cells stay byte for byte as in English, and so do every
cell's id and nbgrader metadata, so that a Chinese notebook is graded as
the same lesson with the English gradebook.
"""

import argparse
import ast
import hashlib
import inspect
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import nbformat

from cnn_course.messages import ENGLISH
from cnn_course.messages import LANGUAGES as ALL_LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
# The catalogue's languages besides English, which is the source.
LANGUAGES = tuple(name for name in ALL_LANGUAGES if name != ENGLISH)
MARKER = re.compile(r"^<!-- cell: (\S+) en: ([0-9a-f]{12}) -->$")
DOCSTRING_MARKER = re.compile(
    r"^<!-- docstring: (\S+) ([A-Za-z_][\w.]*) en: ([0-9a-f]{12}) -->$")
# nbgrader's delimiters of a solution region (ClearSolutions; the course
# keeps its defaults): the lines from one to the other are the solution,
# which learners get as `# YOUR CODE HERE` and `raise NotImplementedError()`.
BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"
# The course's line length (pyproject.toml), which ruff measures with
# East Asian wide and full-width characters counted as two columns.
MAX_LINE_WIDTH = 79


def english_hash(source):
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


@dataclass
class Block:
    cell_id: str
    english_hash: str
    text: str
    # The function (`Class.method` when nested) whose docstring this
    # block translates; None for a Markdown cell's block.
    function: str = None

    @property
    def key(self):
        return block_key(self.cell_id, self.function)


def block_key(cell_id, function=None):
    """A block's key in parse()'s dict: the cell id for Markdown, (cell
    id, function) for a docstring."""
    return cell_id if function is None else (cell_id, function)


def describe(key):
    if isinstance(key, tuple):
        return f"cell {key[0]}'s docstring of {key[1]}"
    return f"cell {key}"


def notebook_names():
    """Every notebook in solutions/, as paths relative to solutions/."""
    solutions = ROOT / "solutions"
    return sorted(str(path.relative_to(solutions))
                  for path in solutions.glob("**/*.ipynb")
                  if ".ipynb_checkpoints" not in path.parts)


def translation_path(language, notebook_name):
    return TRANSLATIONS / language / (Path(notebook_name).stem + ".md")


def parse(text):
    """{key: Block} of a translation file's text (keys: block_key)."""
    blocks, current, lines = {}, None, []

    def close():
        if current is not None:
            current.text = "\n".join(lines).strip("\n")
            blocks[current.key] = current

    for line in text.splitlines():
        cell, docstring = MARKER.match(line), DOCSTRING_MARKER.match(line)
        if cell or docstring:
            close()
            if cell:
                current = Block(cell.group(1), cell.group(2), "")
            else:
                current = Block(docstring.group(1), docstring.group(3), "",
                                docstring.group(2))
            lines = []
            if current.key in blocks:
                raise ValueError(f"{describe(current.key)} appears twice")
        elif current is not None:
            lines.append(line)
        elif line.strip():
            raise ValueError("text before the first cell marker: "
                             f"{line[:60]!r}")
    close()
    return blocks


def read(language, notebook_name):
    path = translation_path(language, notebook_name)
    if not path.is_file():
        return {}
    return parse(path.read_text(encoding="utf-8"))


def markdown_cells(notebook):
    """The Markdown cells to translate: all but the learners' written
    answers, which stay as nbgrader made them (same checksum)."""
    return [cell for cell in notebook.cells if cell.cell_type == "markdown"
            and not cell.metadata.get("nbgrader", {}).get("solution")]


def stub_cells(notebook):
    """The code cells whose docstrings are translated: nbgrader's solution
    cells, which are not locked, so nbgrader neither compares their source
    with its gradebook's nor puts it back. The test cells are locked
    (nbgrader restores their English source by checksum before grading):
    their docstrings stay English."""
    return [cell for cell in notebook.cells if cell.cell_type == "code"
            and cell.metadata.get("nbgrader", {}).get("solution")
            and not cell.metadata.get("nbgrader", {}).get("locked")]


@dataclass
class Docstring:
    """A docstring in a cell's source, where ast found it."""

    function: str
    text: str  # its value as written, indentation and all
    # 0-based indices into source.split("\n"), both inclusive.
    first_line: int
    last_line: int
    indent: int  # the column of its opening quotes
    end_column: int  # UTF-8 byte offset just after its closing quotes


def _solution_lines(lines):
    """Indices of the lines of a solution region, delimiters included
    (found as nbgrader's ClearSolutions finds them)."""
    inside, found = False, set()
    for index, line in enumerate(lines):
        if BEGIN_SOLUTION in line:
            inside = True
        if inside:
            found.add(index)
        if END_SOLUTION in line:
            inside = False
    return found


def stub_docstrings(source):
    """The docstrings learners see in a solution cell's stub: those of its
    functions and classes (`Class.method` when nested) that lie outside
    the solution region. Raises SyntaxError for code that does not
    parse."""
    hidden = _solution_lines(source.split("\n"))
    found = []

    def visit(body, prefix):
        for node in body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                     ast.ClassDef)):
                continue
            name = prefix + node.name
            first = node.body[0]
            if isinstance(first, ast.Expr) and \
                    isinstance(first.value, ast.Constant) and \
                    isinstance(first.value.value, str) and \
                    not hidden.intersection(range(first.lineno - 1,
                                                  first.end_lineno)):
                found.append(Docstring(
                    name, first.value.value, first.lineno - 1,
                    first.end_lineno - 1, first.col_offset,
                    first.end_col_offset))
            visit(node.body, name + ".")

    visit(ast.parse(source).body, "")
    return found


def cleaned(docstring_text):
    """A docstring's text as a translator reads it: without its common
    indentation and the blank lines around it (PEP 257's trim)."""
    return inspect.cleandoc(docstring_text)


def render(text, indent):
    """The lines of a docstring holding `text` with its quotes at column
    `indent`: one line when `text` is one line, else PEP 257's layout
    (the summary after the opening quotes, the closing ones on a line of
    their own)."""
    margin = " " * indent
    lines = text.split("\n")
    if len(lines) == 1:
        return [f'{margin}"""{text}"""']
    return ([f'{margin}"""{lines[0]}']
            + [f"{margin}{line}" if line.strip() else ""
               for line in lines[1:]]
            + [f'{margin}"""'])


def display_width(line):
    """The columns `line` takes as ruff counts them for the line length:
    East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1
               for char in line)


def _text_problems(text):
    """Why `text` cannot stand between a docstring's triple quotes as it
    is (a backslash would start an escape)."""
    found = []
    if '"""' in text or "\\" in text:
        found.append('it contains """ or a backslash')
    if text.endswith('"'):
        found.append('it ends with "')
    return found


def _docstring_problems(where, block, docstring, language):
    current = english_hash(docstring.text)
    if block is None:
        return [f"{where} has no {language} translation"]
    if block.english_hash != current:
        return [f"{where} is stale (its English changed since it was "
                f"translated; now en: {current})"]
    if not block.text.strip():
        return [f"{where} is empty"]
    return [f"{where}: {reason}" for reason in _text_problems(block.text)] + [
        f"{where}: line {line.strip()!r} is wider than {MAX_LINE_WIDTH} "
        "columns" for line in render(block.text, docstring.indent)
        if display_width(line) > MAX_LINE_WIDTH]


def problems(language, notebook_name, blocks=None):
    """What keeps this notebook's translation (`blocks`, by default read
    from its file) from being complete."""
    english = nbformat.read(ROOT / "solutions" / notebook_name, as_version=4)
    if blocks is None:
        blocks = read(language, notebook_name)
    found = []
    known = set()
    for cell in markdown_cells(english):
        known.add(cell.id)
        block, current = blocks.get(cell.id), english_hash(cell.source)
        if block is None:
            found.append(f"{notebook_name}: cell {cell.id} has no "
                         f"{language} translation")
        elif block.english_hash != current:
            found.append(f"{notebook_name}: cell {cell.id} is stale (its "
                         "English changed since it was translated; now "
                         f"en: {current})")
        elif not block.text.strip():
            found.append(f"{notebook_name}: cell {cell.id} is empty")
    for cell in stub_cells(english):
        for docstring in stub_docstrings(cell.source):
            key = block_key(cell.id, docstring.function)
            known.add(key)
            found += _docstring_problems(
                f"{notebook_name}: {describe(key)}", blocks.get(key),
                docstring, language)
    for key in sorted(set(blocks) - known, key=str):
        what = "a stub's docstring" if isinstance(key, tuple) \
            else "a Markdown cell"
        found.append(f"{notebook_name}: {describe(key)} is not {what} of "
                     "the English notebook")
    return found


def _alone_on_its_lines(lines, docstring):
    """Whether nothing but indentation shares the docstring's lines (so
    that replacing those lines replaces the docstring only)."""
    before = lines[docstring.first_line][:docstring.indent]
    after = lines[docstring.last_line].encode("utf-8")[
        docstring.end_column:].decode("utf-8")
    return not before.strip() and not after.strip()


def translate_docstrings(source, cell_id, blocks):
    """`source` with each stub docstring that has a current translation
    in `blocks` replaced by it; every other line kept as it is."""
    lines = source.split("\n")
    # From the last docstring up, so that the others' lines stay put.
    for docstring in reversed(stub_docstrings(source)):
        block = blocks.get(block_key(cell_id, docstring.function))
        if block is None or \
                block.english_hash != english_hash(docstring.text):
            continue  # not the English it translates (a learner's edit)
        if not _alone_on_its_lines(lines, docstring):
            raise ValueError(f"{describe(block.key)} shares its lines with "
                             "other code")
        lines[docstring.first_line:docstring.last_line + 1] = render(
            block.text, docstring.indent)
    return "\n".join(lines)


def translate(notebook, language, notebook_name):
    """A copy of `notebook` with its Markdown and its stubs' docstrings in
    `language`.

    Raises ValueError listing every stale or missing translation.
    """
    blocks = read(language, notebook_name)
    found = problems(language, notebook_name, blocks)
    if found:
        raise ValueError("\n".join(found))
    translated = nbformat.reads(nbformat.writes(notebook), as_version=4)
    for cell in markdown_cells(translated):
        cell.source = blocks[cell.id].text
    for cell in stub_cells(translated):
        cell.source = translate_docstrings(cell.source, cell.id, blocks)
    # Read by the grader, which answers a learner in this language.
    translated.metadata["course"] = {"language": language}
    return translated


def skeleton(language, notebook_name):
    """Write the file with every block present, in the notebook's order:
    kept translations stay, new or stale cells and docstrings get the
    English text to translate."""
    english = nbformat.read(ROOT / "solutions" / notebook_name, as_version=4)
    blocks = read(language, notebook_name)
    markdown = {cell.id for cell in markdown_cells(english)}
    stubs = {cell.id for cell in stub_cells(english)}
    parts = []
    for cell in english.cells:
        if cell.id in markdown:
            block = blocks.get(cell.id)
            current = english_hash(cell.source)
            text = block.text if block and block.english_hash == current \
                else cell.source
            parts.append(f"<!-- cell: {cell.id} en: {current} -->\n"
                         f"{text}\n")
        elif cell.id in stubs:
            for docstring in stub_docstrings(cell.source):
                block = blocks.get(block_key(cell.id, docstring.function))
                current = english_hash(docstring.text)
                text = block.text \
                    if block and block.english_hash == current \
                    else cleaned(docstring.text)
                parts.append(f"<!-- docstring: {cell.id} "
                             f"{docstring.function} en: {current} -->\n"
                             f"{text}\n")
    path = translation_path(language, notebook_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status")
    make = commands.add_parser("skeleton")
    make.add_argument("language", choices=LANGUAGES)
    make.add_argument("notebooks", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "skeleton":
        for name in args.notebooks or notebook_names():
            print(skeleton(args.language, name))
        return 0
    found = [problem for language in LANGUAGES
             for name in notebook_names()
             for problem in problems(language, name)]
    print("\n".join(found) or "every translation is up to date")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
