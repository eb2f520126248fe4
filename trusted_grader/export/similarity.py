"""Look-alike submissions: pairs and clusters of students whose code is
suspiciously similar, for the instructor to look at.

Never a grade: nothing here changes a score or a status, and the report
says so. It points at pairs worth reading side by side; whether one copied
is the instructor's judgement.

The comparison is copydetect's (https://github.com/blingenf/copydetect,
pinned in requirements.txt), the winnowing fingerprints of MOSS (Schleimer,
Wilkerson and Aiken, SIGMOD 2003) in a maintained library: each student's
code is tokenised with Pygments, every name becomes V, every function
name F, every string S, comments and whitespace go; the fingerprints are
the hashes of every 25-character run of what is left, so renamed
variables, rewritten comments, other blank lines and functions in another
order (the runs are a set, not a sequence) change almost nothing. Chosen
over a hand-written matcher because it is a maintained, documented tool
instructors may already know, whose report shows the matching passages;
over Dolos because that is a JavaScript tool (Node) that this Python
course does not ship. Every fingerprint is kept (copydetect's default
window of 1): Python salts its string hashes in every process, so a wider
winnowing window would keep a different subset in every run and the
scores would drift from run to run.

What is compared: per lesson, the student's solution cells, minus what
every student got and what most of them wrote. A solution cell left as
released is no code of the student's: it equals a stub of the released
notebook (notebooks/<lesson>/<lesson>.ipynb) apart from its docstrings,
which the Chinese edition (notebooks/zh-CN/) has in Chinese and a
later release may have reworded. The released notebook's fingerprints
are removed from each student's, and so are those in more than half of
the lesson's submissions (MOSS's -m: the shape every correct answer
has). A pair is
flagged when one student's remaining code is at least THRESHOLD found in
the other's (copydetect's similarity, the larger of the two directions:
copying one function is a pair too) and they share at least MIN_SHARED
characters of it (so two short answers with one natural line in common
are not a pair). The threshold was calibrated on independently written
correct solutions of lesson 02 (tests/export/lesson02_class.py): they share at
most about half of their code (e.g. `(n + 2*padding - k) // stride +
1`, window loops, `np.pad`), copies with renamed variables, reordered
functions and new comments 98-100%.
"""

import ast
import html
import io
import itertools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# Characters of normalised code per fingerprint (copydetect's default
# noise threshold): a match shorter than this is never seen.
NOISE_CHARACTERS = 25
THRESHOLD = 0.75
MIN_SHARED = 100
# A fingerprint in more than this share of a lesson's submissions (when
# there are at least COMMON_MINIMUM) is common code, not evidence.
COMMON_SHARE = 0.5
COMMON_MINIMUM = 4
# Code read per submission: bounds the tokeniser's time on a huge cell.
MAX_CODE_CHARACTERS = 200_000
# Statuses whose file was never read as a notebook.
UNREAD = {"invalid_notebook", "too_large", "bad_filename", "unsafe_path",
          "duplicate", "missing"}


@dataclass
class Pair:
    """Two students of a lesson whose code looks alike."""

    lesson: str
    first: str
    second: str
    similarity: float
    shared: int
    # (first's code, second's code) as HTML with <mark>ed passages.
    passages: tuple = ("", "")


@dataclass
class LessonResult:
    lesson: str
    compared: int = 0
    pairs: list = field(default_factory=list)
    clusters: list = field(default_factory=list)
    # The highest similarity of a pair that was not flagged: how far the
    # honest look-alikes are from the threshold in this class.
    highest_unflagged: float = 0.0


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def template_sources(template):
    """The code of every code cell of the released notebook."""
    return [_source(cell) for cell in template.cells
            if cell.get("cell_type") == "code"]


def without_docstrings(source):
    """`source` with the text of every docstring replaced by an empty
    string (`source` itself when it does not parse).

    A stub is the same code in both editions of a lesson, but its
    docstring is English in notebooks/ and Chinese in notebooks/zh-CN/
    (tools/translations.py), and a later release may reword it. Compared
    without docstrings, an untouched stub of either edition or of any
    release is the released stub. Counted as the student's code, it
    would add the joins between the untouched stubs, which every student
    who left the same exercises shares: blank Chinese notebooks paired
    up as copies."""
    # The scan's parser: ast.parse under its lock (see integrity).
    from trusted_grader.batch.integrity import UNPARSABLE, _parse

    try:
        tree = _parse(source)
    except UNPARSABLE:
        return source  # not a stub: stubs parse
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                             ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and \
                    isinstance(first.value, ast.Constant) and \
                    isinstance(first.value.value, str):
                spans.append(first.value)
    if not spans:
        return source
    # ast gives columns as UTF-8 byte offsets within a line.
    lines = source.encode("utf-8").splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    code = source.encode("utf-8")
    for node in sorted(spans, key=lambda node: (node.lineno,
                                                node.col_offset),
                       reverse=True):
        begin = starts[node.lineno - 1] + node.col_offset
        end = starts[node.end_lineno - 1] + node.end_col_offset
        code = code[:begin] + b'""' + code[end:]
    return code.decode("utf-8")


def student_code(notebook, template):
    """The code a student wrote in `notebook`: its solution cells (by the
    template's grade ids), without those left as released (in either
    edition: see without_docstrings).

    Only solution cells: other code cells are the lesson's own (demos,
    figures), and a notebook released again with a changed demo cell
    would make every student who kept the old one look alike."""
    solution_ids = {
        cell.metadata["nbgrader"].get("grade_id")
        for cell in template.cells
        if cell.get("cell_type") == "code"
        and cell.get("metadata", {}).get("nbgrader", {}).get("solution")}
    given = {without_docstrings(source)
             for source in template_sources(template)}
    parts = []
    for cell in notebook.cells:
        metadata = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or not isinstance(metadata, dict):
            continue
        source = _source(cell)
        if not source.strip() or without_docstrings(source) in given:
            continue  # a stub left as released: nothing written
        if metadata.get("solution") and (
                metadata.get("grade_id") in solution_ids
                or not solution_ids):  # no template: every answer
            parts.append(source)
    return "\n\n".join(parts)[:MAX_CODE_CHARACTERS]


def _fingerprint(code, boilerplate=frozenset()):
    """copydetect's fingerprint of `code`, without the hashes of
    `boilerplate` (the template's code).

    copydetect can drop boilerplate itself, but it removes one index per
    boilerplate hash, so a template line repeated in the code (every
    stub's `raise NotImplementedError()`) would stay; the hashes are
    removed here from its documented attributes instead."""
    from copydetect import CodeFingerprint

    fingerprint = CodeFingerprint(
        "submission.py", NOISE_CHARACTERS, 1, fp=io.StringIO(code),
        language="python")
    return _without(fingerprint, boilerplate) if boilerplate \
        else fingerprint


def _without(fingerprint, hashes):
    """`fingerprint` without `hashes`, its coverage counted again."""
    from copydetect.utils import get_token_coverage

    fingerprint.hashes = fingerprint.hashes - hashes
    fingerprint.hash_idx = {
        value: places for value, places in fingerprint.hash_idx.items()
        if value not in hashes}
    fingerprint.token_coverage = get_token_coverage(
        fingerprint.hash_idx, NOISE_CHARACTERS,
        len(fingerprint.filtered_code))
    return fingerprint


def _common_hashes(prints):
    """Fingerprints in more than COMMON_SHARE of a lesson's submissions:
    what most of the class writes is the shape of the answer or code
    given to everyone (MOSS ignores such passages too, its -m option),
    not a sign that two copied."""
    if len(prints) < COMMON_MINIMUM:
        return frozenset()
    counts = Counter(value for fingerprint in prints.values()
                     for value in fingerprint.hashes)
    limit = COMMON_SHARE * len(prints)
    return frozenset(value for value, count in counts.items()
                     if count > limit)


def compare_lesson(lesson, codes, template):
    """A LessonResult for {student: code} of one lesson; `template` is
    the released notebook."""
    from copydetect import compare_files
    from copydetect.utils import highlight_overlap

    boilerplate = frozenset().union(*(
        _fingerprint(source).hashes
        for source in template_sources(template)))
    prints = {student: _fingerprint(code, boilerplate)
              for student, code in sorted(codes.items()) if code.strip()}
    common = _common_hashes(prints)
    if common:
        prints = {student: _without(fingerprint, common)
                  for student, fingerprint in prints.items()}
    result = LessonResult(lesson, compared=len(prints))
    for first, second in itertools.combinations(sorted(prints), 2):
        one, other = prints[first], prints[second]
        common = len(one.hashes & other.hashes)
        if not common:
            continue
        shared, similarities, slices = compare_files(one, other)
        similarity = float(max(similarities))
        if similarity < THRESHOLD or shared < MIN_SHARED:
            result.highest_unflagged = max(result.highest_unflagged,
                                           similarity)
            continue
        passages = tuple(
            highlight_overlap(fingerprint.raw_code, cut, "<mark>",
                              "</mark>", escape_html=True)[0]
            for fingerprint, cut in zip((one, other), slices))
        result.pairs.append(Pair(lesson, first, second,
                                 round(similarity, 3), int(shared),
                                 passages))
    result.pairs.sort(key=lambda pair: (-pair.similarity, pair.first,
                                        pair.second))
    result.clusters = clusters(result.pairs)
    return result


def clusters(pairs):
    """Groups of three or more students joined by flagged pairs."""
    groups = {}
    for pair in pairs:
        joined = groups.get(pair.first, {pair.first}) | \
            groups.get(pair.second, {pair.second})
        for student in joined:
            groups[student] = joined
    unique = {frozenset(group) for group in groups.values()}
    return sorted((sorted(group) for group in unique if len(group) >= 3),
                  key=lambda group: (-len(group), group))


def released_notebook(lesson, solutions):
    """The lesson's released notebook (what every student got): beside
    the solutions folder, else this course's notebooks/; None if none."""
    import nbformat

    from trusted_grader.paths import COURSE_ROOT

    for folder in (Path(solutions).parent / "notebooks",
                   COURSE_ROOT / "notebooks"):
        path = folder / lesson / f"{lesson}.ipynb"
        if path.is_file():
            return nbformat.read(path, as_version=4)
    return None


def compare(entries, solutions, max_bytes=None):
    """{lesson: LessonResult} of every lesson in `entries`; notebooks
    that cannot be read are left out (their status says why)."""
    import nbformat

    from trusted_grader.batch import submissions

    notebooks = {}
    for entry in entries:
        if not entry.lesson or entry.path is None or \
                entry.status in UNREAD:
            continue
        try:
            notebook = submissions.read_notebook(entry.path, max_bytes)
        except (submissions.InvalidNotebook, OSError):
            continue
        notebooks.setdefault(entry.lesson, {})[entry.student] = notebook
    results = {}
    for lesson, submitted in sorted(notebooks.items()):
        template = released_notebook(lesson, solutions) or \
            nbformat.v4.new_notebook()
        results[lesson] = compare_lesson(
            lesson, {student: student_code(notebook, template)
                     for student, notebook in submitted.items()}, template)
    return results


# ---------------------------------------------------------- the page ---

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
.note { background: #fff7e0; border: 1px solid #e0c060; padding: .6em 1em; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto;
      font-size: 12px; white-space: pre-wrap; }
mark { background: #ffd54f; }
h2 { border-bottom: 1px solid #ccc; }
"""
# No script, no request: the page only shows escaped text.
POLICY = ("default-src 'none'; style-src 'unsafe-inline'; "
          "img-src data:")
NEVER_A_GRADE = ("Similarity never changes a grade or a status. These "
                 "pairs share most of the code they wrote after the "
                 "released notebook's code is removed and names, "
                 "comments and the order of functions are ignored; "
                 "whether one copied is for you to judge.")


def page(results, title="Look-alike submissions"):
    """similarity.html: every flagged pair's code side by side, the
    matching passages marked. Student code appears only escaped."""
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">{html.escape(NEVER_A_GRADE)}</p>']
    flagged = [pair for result in results.values() for pair in result.pairs]
    if not flagged:
        parts.append("<p>No pair of submissions looks alike.</p>")
    for pair in flagged:
        anchor = html.escape(f"{pair.lesson}-{pair.first}-{pair.second}")
        parts += [
            f'<h2 id="{anchor}">{html.escape(pair.lesson)}: '
            f"{html.escape(pair.first)} and {html.escape(pair.second)} "
            f"({pair.similarity:.0%})</h2>",
            '<div class="pair">',
            *(f"<div><h3>{html.escape(student)}</h3><pre>{code}</pre>"
              "</div>"
              for student, code in zip((pair.first, pair.second),
                                       pair.passages)),
            "</div>"]
    parts.append("</body></html>")
    return "\n".join(parts)
