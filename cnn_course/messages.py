"""The one catalogue of learner-facing messages, in the learner's language.

Every message a learner reads (a visible check's verdict, the judge's
feedback, the grader's notes in a graded notebook) is written in the code
as an English template and passed through `t`:

    t("{what} returned shape {got}; expected {want}.", what=..., got=...)

`t` fills the template, after looking it up in the catalogue of the
current language: cnn_course/catalogue/<language>/*.json, each a table
{English template: translated template} for one module. English needs no
table. The placeholders of both forms must be the same (a test checks
every template in the code has a translation with the same ones).

The language is, first, the one set with `use_language` (the grader, which
judges notebooks of both languages in one process); else the variable
COURSE_LANGUAGE (the grader sets it for a Chinese notebook's kernel); else
"zh-CN" when the kernel runs in a notebooks/zh-CN/ folder; else English.
"""

import contextlib
import contextvars
import json
import os
from pathlib import Path

ENGLISH = "en"
LANGUAGES = (ENGLISH, "zh-CN")
LANGUAGE_VARIABLE = "COURSE_LANGUAGE"
CATALOGUE = Path(__file__).resolve().parent / "catalogue"

_chosen = contextvars.ContextVar("course_language", default=None)
_tables = {}


def language():
    """The language messages are given in now: "en" or "zh-CN"."""
    chosen = _chosen.get() or os.environ.get(LANGUAGE_VARIABLE)
    if chosen in LANGUAGES:
        return chosen
    with contextlib.suppress(OSError):
        if "zh-CN" in Path.cwd().parts:
            return "zh-CN"
    return ENGLISH


@contextlib.contextmanager
def use_language(name):
    """Give messages in `name` inside this block (this thread only)."""
    if name not in LANGUAGES:
        name = ENGLISH
    token = _chosen.set(name)
    try:
        yield
    finally:
        _chosen.reset(token)


def table(name):
    """{English template: template in `name`}, read once."""
    if name not in _tables:
        merged = {}
        folder = CATALOGUE / name
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            merged.update(json.loads(path.read_text(encoding="utf-8")))
        _tables[name] = merged
    return _tables[name]


def phrase(text):
    """`text` in the current language when the catalogue has it, else as
    it is. For fixed words the notebooks pass to the helper package (a
    claim's statement, a curve's name), which are not `t` templates in
    the code; a test checks that the Chinese runs show none in English."""
    name = language()
    if name == ENGLISH:
        return text
    return table(name).get(text, text)


def t(template, **values):
    """`template` in the current language, filled with `values`."""
    name = language()
    if name != ENGLISH:
        template = table(name).get(template, template)
    return template.format(**values)
