"""Translations of the notebooks' Markdown, one file per lesson and language.

    python tools/translations.py status            # stale or missing cells
    python tools/translations.py skeleton zh-CN 01_dense_translation

A translation file, translations/<language>/<notebook>.md, holds one block
per Markdown cell of the English notebook in solutions/:

    <!-- cell: <cell id> en: <hash of the English source> -->
    The translated Markdown.

The hash is the first 12 hex digits of the SHA-256 of the English cell's
source. When the English changes, its hash changes and the block is
stale until a translator updates the text and the hash; `status` and the
tests list every stale, missing or unknown block. Code cells and the
written-answer cells are never translated: the generated notebook keeps
them byte for byte, so nbgrader sees the same cells and checksums.
"""

import argparse
import hashlib
import re
import sys
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


def english_hash(source):
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


@dataclass
class Block:
    cell_id: str
    english_hash: str
    text: str


def notebook_names():
    """Every notebook in solutions/, as paths relative to solutions/."""
    solutions = ROOT / "solutions"
    return sorted(str(path.relative_to(solutions))
                  for path in solutions.glob("**/*.ipynb")
                  if ".ipynb_checkpoints" not in path.parts)


def translation_path(language, notebook_name):
    return TRANSLATIONS / language / (Path(notebook_name).stem + ".md")


def parse(text):
    """{cell id: Block} of a translation file's text."""
    blocks, current, lines = {}, None, []

    def close():
        if current is not None:
            current.text = "\n".join(lines).strip("\n")
            blocks[current.cell_id] = current

    for line in text.splitlines():
        found = MARKER.match(line)
        if found:
            close()
            if found.group(1) in blocks:
                raise ValueError(f"cell {found.group(1)} appears twice")
            current, lines = Block(found.group(1), found.group(2), ""), []
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
    for cell_id in sorted(set(blocks) - known):
        found.append(f"{notebook_name}: cell {cell_id} is not a Markdown "
                     "cell of the English notebook")
    return found


def translate(notebook, language, notebook_name):
    """A copy of `notebook` with its Markdown in `language`.

    Raises ValueError listing every stale or missing translation.
    """
    blocks = read(language, notebook_name)
    found = problems(language, notebook_name, blocks)
    if found:
        raise ValueError("\n".join(found))
    translated = nbformat.reads(nbformat.writes(notebook), as_version=4)
    for cell in markdown_cells(translated):
        cell.source = blocks[cell.id].text
    # Read by the grader, which answers a learner in this language.
    translated.metadata["course"] = {"language": language}
    return translated


def skeleton(language, notebook_name):
    """Write the file with every block present: kept translations stay,
    new or stale cells get the English text to translate."""
    english = nbformat.read(ROOT / "solutions" / notebook_name, as_version=4)
    blocks = read(language, notebook_name)
    parts = []
    for cell in markdown_cells(english):
        block = blocks.get(cell.id)
        current = english_hash(cell.source)
        text = block.text if block and block.english_hash == current \
            else cell.source
        parts.append(f"<!-- cell: {cell.id} en: {current} -->\n{text}\n")
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
