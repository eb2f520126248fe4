"""The mistakes the judge named, read back from its messages.

Under each test cell the judge writes one line per failed case, then the
likely mistake, indented:

    ✘ <case>: conv2d(<uint8 array (11, 9)>, ...): 110 value(s) differ; ...
      Looks like a true convolution: the kernel is flipped. ...

Every message is a template of the message catalogue (cnn_course/
messages.py: `t(template, **values)`) filled with the case's numbers, in
the notebook's language. To count a mistake once however its numbers
differ, and the same in both editions, each line of the judge's output is
traced back to its English template: every line of every catalogue
template (English, and the Chinese of cnn_course/catalogue/zh-CN/)
becomes a regular expression whose fields match any text, and the most
specific one that matches wins. The English line is the mistake's
identifier; filled with the values the message shows, it gives the
English example an instructor reads.

The first message of a failed case says what went wrong (kind SYMPTOM:
"8 value(s) differ", "is not implemented yet"); each message under it is
the likely cause the judge recognised (kind MISTAKE: "the kernel is
flipped"). No code runs here and no message is trusted to be well formed:
text that matches no template is skipped.
"""

import functools
import re
import string
from dataclasses import dataclass

from autograder.feedback import FAIL_MARK

SYMPTOM = "symptom"
MISTAKE = "mistake"
# A stub's NotImplementedError: the cases under it say nothing more (the
# hints that follow, e.g. "Raise ValueError for stride < 1", are about
# code that was never written). tests/export/test_class_report.py checks that
# the catalogue still has this template.
NOT_IMPLEMENTED = "{name} is not implemented yet."
# The indentation of the lines under a failed case (scoring.HiddenScore,
# server.LessonJudge._judge_visible).
INDENT = "  "
# Where a case's label ends and its message begins ("<case>: <message>");
# the Chinese catalogue also writes the full-width colon.
LABEL_ENDS = re.compile(": |\uff1a")
# Templates with less fixed text than this match too much to name anything.
SHORTEST_TEMPLATE = 4
EXAMPLE_CHARACTERS = 300


@dataclass(frozen=True)
class Template:
    """One catalogue template, as a pattern over messages."""

    english: str
    pattern: re.Pattern
    fields: tuple
    fixed: int
    anchor: str


@dataclass(frozen=True)
class Finding:
    """A message of the judge traced to its template."""

    kind: str
    template: str
    english: str


def _pattern(text):
    """One line of a template as a regular expression, and its fields."""
    parts, fields = [], []
    for literal, field, _, _ in string.Formatter().parse(text):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(r"(.*?)")
            fields.append(field)
    return re.compile("".join(parts)), tuple(fields)


def _line_templates(english_text, text):
    """The lines of a template `text` (the English `english_text` or its
    translation) as Templates named by the English line.

    Lines, not whole templates: the judge indents every line under a
    failed case's first one, shows them once per cell, and some templates
    end in a field that is itself the likely mistake (".\n{hint}")."""
    english_lines = english_text.split("\n")
    lines = text.split("\n")
    made = []
    for index, line in enumerate(lines):
        # A translation with other line breaks is named by its whole
        # English template.
        name = english_lines[index] if len(lines) == len(english_lines) \
            else english_text
        pattern, fields = _pattern(line)
        literals = [literal for literal, _, _, _ in
                    string.Formatter().parse(line)]
        made.append(Template(
            english=name, pattern=pattern, fields=fields,
            fixed=sum(len(literal) for literal in literals),
            anchor=max(literals, key=len).strip()))
    return made


@functools.cache
def catalogue():
    """Every line of every template of the catalogue in every language,
    most specific (most fixed text) first."""
    from cnn_course.messages import ENGLISH, LANGUAGES, table

    found = {}
    for language in LANGUAGES:
        if language == ENGLISH:
            continue
        # Every translation table holds every English template (a test
        # checks that), so its keys are the English catalogue too.
        for english_text, translated in table(language).items():
            for text in (english_text, translated):
                try:
                    made = _line_templates(english_text, text)
                except ValueError:  # a malformed translation: skipped
                    continue
                for template in made:
                    found.setdefault(template.pattern.pattern, template)
    templates = [template for template in found.values()
                 if template.fixed >= SHORTEST_TEMPLATE]
    return tuple(sorted(templates, key=lambda item: -item.fixed))


def english(template, values):
    """The English line filled with the values a message showed."""
    filled = dict(zip(template.fields, values))
    parts = []
    for literal, field, _, _ in string.Formatter().parse(template.english):
        parts.append(literal)
        if field is not None:
            parts.append(filled.get(field, ""))
    return "".join(parts)


def _swallowed(values):
    """How many "label: message" boundaries the fields took: a match
    that takes one more than another has most likely read a case's label
    as part of a message (a value may hold one, e.g. an error's text)."""
    return sum(len(LABEL_ENDS.findall(value)) for value in values)


def _message(line, labelled):
    """(template, values) of one line of the judge's output, or None.
    `labelled`: the line may begin with a case's label ("<case>: "),
    which is not part of the message."""
    starts = [0]
    if labelled:
        starts += [match.end() for match in LABEL_ENDS.finditer(line)]
    best = None
    for start in starts:
        piece = line[start:]
        for template in catalogue():
            if template.anchor and template.anchor not in piece:
                continue
            match = template.pattern.fullmatch(piece)
            if match is None:
                continue
            # The fewest label boundaries inside fields, then the most
            # fixed text, then the message without the label.
            rank = (-_swallowed(match.groups()), template.fixed, start)
            if best is None or rank > best[0]:
                best = (rank, template, match.groups())
    return None if best is None else best[1:]


def _blocks(output):
    """The failed cases of one cell's output: [first line, lines under
    it], without the mark and the indentation."""
    blocks, current = [], None
    for line in output.splitlines():
        if line.startswith(FAIL_MARK):
            current = [line[len(FAIL_MARK):].lstrip(" ")]
            blocks.append(current)
        elif current is not None and line.startswith(INDENT):
            current.append(line[len(INDENT):])
        else:
            current = None
    return blocks


def findings(output):
    """The judge's messages in one test cell's output, as Findings."""
    found = []
    for lines in _blocks(output):
        for index, line in enumerate(lines):
            message = _message(line, labelled=index == 0)
            if message is None:
                continue
            template, values = message
            found.append(Finding(SYMPTOM if index == 0 else MISTAKE,
                                 template.english,
                                 english(template, values)))
            if template.english == NOT_IMPLEMENTED:
                break
    return found


def anonymised(text, student):
    """An example message without the student's id, and short."""
    if student:
        text = re.sub(rf"(?<!\w){re.escape(student)}(?!\w)", "<student>",
                      text, flags=re.IGNORECASE)
    if len(text) > EXAMPLE_CHARACTERS:
        text = text[:EXAMPLE_CHARACTERS - 1] + "\u2026"
    return text
