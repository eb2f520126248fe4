"""The class report: what a grading run tells the instructor.

Every run writes, beside grades.csv:

- OUTPUT/report.html: per lesson and exercise, how many submissions got
  full, partial and no credit; the distribution of scores; the mistakes
  the judge named, most common first, with how many students made each
  and one anonymised example (mistakes.py); the statuses counted; the
  look-alike submissions (similarity.py). One self-contained page: the
  figures are inline SVG, there is no script and nothing is fetched, so
  it opens offline. It names the seed and the course version that
  produced it, and shows no student's code.
- OUTPUT/report/*.csv: the same figures as tables.
- OUTPUT/similarity.html: each look-alike pair's code side by side, the
  matching passages marked, for the instructor only.

Nothing here changes a grade: it reads the entries, the merged gradebook
and the judge's messages after grades.csv is written. The judge's
messages come from the run (entry.extra["judgement"], set by
notebook_grading.grade_notebook, also on Dask workers); for a graded submission
without them (e.g. one a later run did not regrade) they are read from
its autograded notebook, where the judge's text replaced the test cells'
outputs; the report counts any submission whose messages it could not
read.
"""

import csv
import hashlib
import html
import io
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

from trusted_grader.export import mistakes
from trusted_grader.paths import COURSE_ROOT

CREDIT = ("full", "partial", "none", "awaiting_manual", "not_scored")
CREDIT_LABELS = {"full": "full credit", "partial": "partial credit",
                 "none": "no credit", "awaiting_manual": "awaiting a human",
                 "not_scored": "not scored"}
CREDIT_COLOURS = {"full": "#2e7d32", "partial": "#f9a825",
                  "none": "#c62828", "awaiting_manual": "#5c6bc0",
                  "not_scored": "#9e9e9e"}
# Statuses whose points came from the gradebook (notebook_grading.read_scores);
# "late" is graded work handed in after the deadline (lateness.py).
SCORED = {"graded", "late", "timeout", "tampered"}
# Statuses whose judge messages describe the submission's own answers
# (a tampered one's score is void, so its messages count for nothing).
JUDGED = {"graded", "late", "timeout"}
# Statuses whose grading always ended with the judge's text in the
# autograded notebook (notebook_grading.grade_notebook's last step).
FINISHED = {"graded", "late"}
SCORE_BINS = 10
TOP_MISTAKES_PLOTTED = 10
# Code that makes the grade: its hash is the grader's version.
GRADER_CODE = ("autograder", "trusted_grader")
POLICY = ("default-src 'none'; style-src 'unsafe-inline'; "
          "img-src data:")


# ------------------------------------------------------- the run's facts

def course_version(solutions, lessons):
    """{name: value} naming the course that graded this run: the
    checkout's git commit (and whether the course's code or solutions
    differ from it), and SHA-256 hashes of the graded lessons' solution
    notebooks and of the grader's code."""
    from trusted_grader.judging.reference import solutions_fingerprint

    digest = hashlib.sha256()
    for package in GRADER_CODE:
        for path in sorted((COURSE_ROOT / package).rglob("*")):
            if path.suffix in {".py", ".json"} and path.is_file():
                digest.update(str(path.relative_to(COURSE_ROOT)).encode())
                digest.update(path.read_bytes())
    version = {"solutions_sha256": solutions_fingerprint(solutions,
                                                         lessons),
               "grader_sha256": digest.hexdigest()}
    commit = _git("rev-parse", "HEAD")
    if commit:
        changed = _git("status", "--porcelain", "--", "solutions",
                       *GRADER_CODE)
        version["git_commit"] = commit + (" (with uncommitted changes)"
                                          if changed else "")
    return version


def _git(*arguments):
    """git's output in the course folder, or "" where there is no git."""
    try:
        result = subprocess.run(["git", "-C", str(COURSE_ROOT),
                                 *arguments], capture_output=True,
                                text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


# ----------------------------------------------------- exercise credit

def exercise_of(cell_name):
    """The exercise a grade cell scores: test_conv2d, hidden_conv2d ->
    conv2d; a short answer's cell is its own exercise."""
    for prefix in ("test_", "hidden_"):
        if cell_name.startswith(prefix):
            return cell_name[len(prefix):]
    return cell_name


def credit_of(score, maximum, awaiting):
    if awaiting:
        return "awaiting_manual"
    if score >= maximum - 1e-6 and maximum > 0:
        return "full"
    return "none" if score <= 1e-6 else "partial"


def exercise_credit(gradebook_path, entries, lessons):
    """{lesson: {"exercises": {exercise: max points}, "counts":
    {exercise: Counter(credit)}}} from the merged gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    table = {}
    with Gradebook(f"sqlite:///{gradebook_path}") as gradebook:
        for lesson in lessons:
            try:
                cells = gradebook.find_assignment(lesson).notebooks[0] \
                    .grade_cells
            except (MissingEntry, IndexError):
                continue
            maxima = {}
            for cell in cells:  # in the notebook's order
                exercise = exercise_of(cell.name)
                maxima[exercise] = maxima.get(exercise, 0.0) + \
                    float(cell.max_score)
            counts = {exercise: Counter() for exercise in maxima}
            for entry in entries:
                if entry.lesson != lesson:
                    continue
                scores = _submission_scores(gradebook, entry)
                for exercise in maxima:
                    if scores is None:
                        counts[exercise]["not_scored"] += 1
                        continue
                    score, awaiting = scores.get(exercise, (0.0, False))
                    counts[exercise][credit_of(score, maxima[exercise],
                                               awaiting)] += 1
            table[lesson] = {"exercises": maxima, "counts": counts}
    return table


def _submission_scores(gradebook, entry):
    """{exercise: (points, awaiting a human)} of one submission, or None
    where grades.csv has no score from the gradebook."""
    from nbgrader.api import MissingEntry

    if entry.status not in SCORED:
        return None
    try:
        notebook = gradebook.find_submission_notebook(
            entry.lesson, entry.lesson, entry.student)
    except MissingEntry:
        return None
    scores = {}
    for grade in notebook.grades:
        exercise = exercise_of(grade.name)
        points, awaiting = scores.get(exercise, (0.0, False))
        scores[exercise] = (points + float(grade.score or 0.0),
                            awaiting or bool(grade.needs_manual_grade))
    return scores


# ------------------------------------------------------------ mistakes

def judge_outputs(entry, output):
    """{test cell: the judge's text} of one submission, or None."""
    judgement = entry.extra.get("judgement")
    if isinstance(judgement, dict) and judgement:
        return {cell: str(result.get("output", ""))
                for cell, result in judgement.items()
                if isinstance(result, dict)}
    if entry.status not in FINISHED:
        return None
    return _outputs_from_notebook(
        Path(output) / "autograded" / entry.student / entry.lesson /
        f"{entry.lesson}.ipynb")


def _outputs_from_notebook(path):
    """The test cells' outputs of an autograded notebook, which the
    grader's last step replaced with the judge's text."""
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception:  # a missing or unreadable file: no messages
        return None
    found = {}
    for cell in notebook.cells:
        metadata = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not metadata.get("grade") or \
                metadata.get("solution"):
            continue
        found[metadata.get("grade_id", "")] = "".join(
            output.get("text", "") for output in cell.get("outputs", [])
            if output.get("output_type") == "stream")
    return found


def class_mistakes(entries, output):
    """(mistakes, judged, unavailable): mistakes is {lesson: [row]} with
    row {"exercise", "kind", "mistake", "students", "example"}, most
    common first; judged and unavailable count submissions per lesson
    whose messages were read or could not be."""
    students = defaultdict(set)
    examples = {}
    judged, unavailable = Counter(), Counter()
    for entry in entries:
        if entry.status not in JUDGED or not entry.lesson:
            continue
        outputs = judge_outputs(entry, output)
        if outputs is None:
            unavailable[entry.lesson] += 1
            continue
        judged[entry.lesson] += 1
        for cell, text in outputs.items():
            for finding in mistakes.findings(text):
                key = (entry.lesson, exercise_of(cell), finding.kind,
                       finding.template)
                students[key].add(entry.student)
                example = mistakes.anonymised(finding.english,
                                              entry.student)
                if key not in examples or \
                        (len(example), example) < (len(examples[key]),
                                                   examples[key]):
                    examples[key] = example
    rows = defaultdict(list)
    for key, who in students.items():
        lesson, exercise, kind, template = key
        rows[lesson].append({"exercise": exercise, "kind": kind,
                             "mistake": template, "students": len(who),
                             "example": examples[key]})
    for lesson in rows:
        rows[lesson].sort(key=lambda row: (-row["students"], row["kind"],
                                           row["exercise"], row["mistake"]))
    return dict(rows), judged, unavailable


# ------------------------------------------------------------- figures

def warm_up():
    """Import what the report draws and compares with (matplotlib's SVG
    output, copydetect): about 1.2 s, which the grading run spends here
    while its last notebooks are graded (a worker slot is free), instead
    of after them."""
    import copydetect  # noqa: F401
    import matplotlib.backends.backend_svg  # noqa: F401
    import matplotlib.figure  # noqa: F401


def _svg(figure):
    """A matplotlib figure as inline SVG (glyphs drawn as paths: no
    font is fetched)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path",
                                "svg.hashsalt": "class-report"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight",
                       metadata={"Date": None})
    text = buffer.getvalue()
    # The XML prologue has no place inside HTML; the metadata is only
    # Dublin Core names.
    text = re.sub(r"<metadata>.*?</metadata>\s*", "",
                  text[text.index("<svg"):], flags=re.DOTALL)
    return text


def credit_figure(lesson, credit):
    from matplotlib.figure import Figure

    exercises = list(credit["exercises"])
    figure = Figure(figsize=(7.5, 0.45 * len(exercises) + 1.2))
    axes = figure.subplots()
    left = [0] * len(exercises)
    for kind in CREDIT:
        values = [credit["counts"][exercise][kind]
                  for exercise in exercises]
        if not any(values):
            continue
        axes.barh(exercises, values, left=left, label=CREDIT_LABELS[kind],
                  color=CREDIT_COLOURS[kind])
        left = [a + b for a, b in zip(left, values)]
    axes.invert_yaxis()
    axes.set_xlabel("submissions")
    axes.set_title(f"{lesson}: credit per exercise")
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=5,
                fontsize=8, frameon=False)
    return _svg(figure)


def score_bins(entries, lesson):
    """[(from %, to %, submissions)] of the lesson's submitted notebooks'
    scores (grades.csv's score over its maximum)."""
    counts = [0] * SCORE_BINS
    for entry in entries:
        if entry.lesson != lesson or entry.status == "missing" or \
                entry.score is None or not entry.max_score:
            continue
        share = max(0.0, min(1.0, entry.score / entry.max_score))
        counts[min(int(share * SCORE_BINS), SCORE_BINS - 1)] += 1
    width = 100 // SCORE_BINS
    return [(index * width, (index + 1) * width, count)
            for index, count in enumerate(counts)]


def score_figure(lesson, bins):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 2.6))
    axes = figure.subplots()
    axes.bar([start for start, _, _ in bins],
             [count for _, _, count in bins], width=100 / SCORE_BINS,
             align="edge", color="#1565c0", edgecolor="white")
    axes.set_xlim(0, 100)
    axes.set_xlabel("score, % of the lesson's points (the last bar "
                    "includes 100%)")
    axes.set_ylabel("submissions")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title(f"{lesson}: scores")
    return _svg(figure)


def mistakes_figure(lesson, rows):
    from matplotlib.figure import Figure

    named = [row for row in rows if row["kind"] == mistakes.MISTAKE]
    named = named[:TOP_MISTAKES_PLOTTED]
    if not named:
        return ""
    labels = [f"{row['exercise']}: {_short(row['mistake'], 60)}"
              for row in named]
    figure = Figure(figsize=(7.5, 0.4 * len(named) + 1.0))
    axes = figure.subplots()
    axes.barh(labels, [row["students"] for row in named], color="#6a1b9a")
    axes.invert_yaxis()
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("students")
    axes.set_title(f"{lesson}: the judge's most common named mistakes")
    axes.tick_params(axis="y", labelsize=8)
    return _svg(figure)


def _short(text, limit):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


# -------------------------------------------------------------- tables

def write_tables(folder, facts):
    """OUTPUT/report/*.csv: the report's figures as tables."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    _csv(folder / "run.csv", ["name", "value"],
         list(facts["run"].items()))
    _csv(folder / "exercises.csv",
         ["lesson", "exercise", "max_points", *CREDIT],
         [[lesson, exercise, f"{maximum:g}",
           *(credit["counts"][exercise][kind] for kind in CREDIT)]
          for lesson, credit in facts["credit"].items()
          for exercise, maximum in credit["exercises"].items()])
    _csv(folder / "scores.csv",
         ["lesson", "from_percent", "to_percent", "submissions"],
         [[lesson, *bin_] for lesson, bins in facts["scores"].items()
          for bin_ in bins])
    _csv(folder / "mistakes.csv",
         ["lesson", "exercise", "kind", "mistake", "students", "example"],
         [[lesson, row["exercise"], row["kind"], row["mistake"],
           row["students"], row["example"]]
          for lesson, rows in facts["mistakes"].items() for row in rows])
    _csv(folder / "statuses.csv", ["lesson", "status", "count"],
         [[lesson, status, count] for (lesson, status), count
          in sorted(facts["statuses"].items())])
    _csv(folder / "similarity.csv",
         ["lesson", "student", "other_student", "similarity",
          "shared_characters", "cluster"],
         [[lesson, pair.first, pair.second, f"{pair.similarity:.3f}",
           pair.shared, _cluster_name(result.clusters, pair)]
          for lesson, result in facts["similarity"].items()
          for pair in result.pairs])


def _csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


def _cluster_name(groups, pair):
    for group in groups:
        if pair.first in group and pair.second in group:
            return " ".join(group)
    return ""


# ---------------------------------------------------------------- page

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em;
       color: #222; line-height: 1.4; }
table { border-collapse: collapse; margin: .5em 0 1.2em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left;
         vertical-align: top; font-size: 14px; }
th { background: #f0f0f0; }
td.number { text-align: right; }
code { font-size: 13px; white-space: pre-wrap; }
.figure svg { max-width: 100%; height: auto; }
.note { background: #fff7e0; border: 1px solid #e0c060; padding: .5em 1em; }
h2 { border-bottom: 2px solid #1565c0; margin-top: 2em; }
"""


def _escape(value):
    return html.escape(str(value))


def _table(header, rows, numeric=()):
    parts = ["<table><tr>", *(f"<th>{_escape(name)}</th>"
                              for name in header), "</tr>"]
    for row in rows:
        parts.append("<tr>")
        for index, value in enumerate(row):
            number = ' class="number"' if index in numeric else ""
            parts.append(f"<td{number}>{value}</td>")
        parts.append("</tr>")
    parts.append("</table>")
    return "".join(parts)


def page(facts):
    """report.html: the run's facts as one self-contained page. Every
    value is escaped; student ids appear only in the status counts'
    totals and the look-alike pairs, never their code."""
    run = facts["run"]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        "<title>Class report</title>", f"<style>{STYLE}</style>",
        "</head><body>", "<h1>Class report</h1>",
        "<p>What this grading run found across the class. Counts are of "
        "submitted notebooks (one student's lesson); no student's code "
        "is shown here.</p>",
        _table(["run", ""], [[_escape(name), f"<code>{_escape(value)}"
                              "</code>"] for name, value in run.items()]),
        "<h2>Statuses</h2>", _status_table(facts["statuses"])]
    for lesson in facts["lessons"]:
        parts += _lesson_section(lesson, facts)
    parts += _similarity_section(facts["similarity"])
    parts.append("</body></html>")
    return "\n".join(parts)


def _status_table(statuses):
    lessons = sorted({lesson for lesson, _ in statuses})
    names = sorted({status for _, status in statuses})
    rows = [[_escape(status or "(no lesson)"),
             *(str(statuses.get((lesson, status), 0))
               for lesson in lessons)]
            for status in names]
    header = ["status", *(lesson or "(unplaced files)"
                          for lesson in lessons)]
    return _table(header, rows, numeric=range(1, len(lessons) + 1))


def _lesson_section(lesson, facts):
    parts = [f'<h2 id="{_escape(lesson)}">{_escape(lesson)}</h2>']
    credit = facts["credit"].get(lesson)
    if credit:
        parts += ["<h3>Credit per exercise</h3>",
                  f'<div class="figure">{credit_figure(lesson, credit)}'
                  "</div>",
                  _table(["exercise", "points",
                          *(CREDIT_LABELS[kind] for kind in CREDIT)],
                         [[_escape(exercise), f"{maximum:g}",
                           *(str(credit["counts"][exercise][kind])
                             for kind in CREDIT)]
                          for exercise, maximum
                          in credit["exercises"].items()],
                         numeric=range(1, len(CREDIT) + 2))]
    bins = facts["scores"].get(lesson)
    if bins and any(count for _, _, count in bins):
        parts += ["<h3>Scores</h3>",
                  f'<div class="figure">{score_figure(lesson, bins)}'
                  "</div>"]
    parts += _mistakes_section(lesson, facts)
    return parts


def _mistakes_section(lesson, facts):
    rows = facts["mistakes"].get(lesson, [])
    judged = facts["judged"].get(lesson, 0)
    unavailable = facts["unavailable"].get(lesson, 0)
    parts = ["<h3>Mistakes the judge named</h3>",
             f"<p>From the judge's messages to {judged} submission(s) "
             "(graded, late or timed out; a tampered one's are left out). A "
             "mistake is one message of the judge's catalogue, counted "
             "once per student whatever its numbers; the example is the "
             "English message one student got, without their name.</p>"]
    if unavailable:
        parts.append(f'<p class="note">The judge\'s messages to '
                     f"{unavailable} submission(s) could not be read "
                     "(not in this run's results nor in their autograded "
                     "notebooks): their mistakes are not counted.</p>")
    figure = mistakes_figure(lesson, rows)
    if figure:
        parts.append(f'<div class="figure">{figure}</div>')
    for kind, title in ((mistakes.MISTAKE,
                         "Likely causes the judge recognised"),
                        (mistakes.SYMPTOM, "What the failed cases showed")):
        chosen = [row for row in rows if row["kind"] == kind]
        parts.append(f"<h4>{title}</h4>")
        if not chosen:
            parts.append("<p>None.</p>")
            continue
        parts.append(_table(
            ["exercise", "students", "mistake (message template)",
             "example"],
            [[_escape(row["exercise"]), str(row["students"]),
              f"<code>{_escape(row['mistake'])}</code>",
              # A message without values is its own example.
              "" if row["example"] == row["mistake"]
              else _escape(row["example"])] for row in chosen],
            numeric=(1,)))
    return parts


def _similarity_section(results):
    from trusted_grader.export import similarity

    parts = ["<h2>Look-alike submissions</h2>",
             f'<p class="note">{_escape(similarity.NEVER_A_GRADE)}</p>',
             "<p>Compared with copydetect (winnowing fingerprints, as in "
             "MOSS) after removing the released notebook's code; a pair "
             f"is listed when at least {similarity.THRESHOLD:.0%} of one "
             "student's remaining code is found in the other's and they "
             f"share at least {similarity.MIN_SHARED} characters of it "
             "(names, comments and whitespace removed). Their code side "
             'by side: <a href="similarity.html">similarity.html</a>.</p>']
    if not results:
        parts.append("<p>No submission could be compared.</p>")
    for lesson, result in results.items():
        parts.append(
            f"<h3>{_escape(lesson)}</h3><p>{result.compared} "
            "submission(s) compared; the most similar pair not listed "
            f"shares {result.highest_unflagged:.0%}.</p>")
        if result.clusters:
            parts.append(_table(
                ["cluster of look-alikes", "students"],
                [[", ".join(_escape(student) for student in group),
                  str(len(group))] for group in result.clusters],
                numeric=(1,)))
        if result.pairs:
            parts.append(_table(
                ["student", "other student", "similarity",
                 "shared characters"],
                [[_escape(pair.first), _escape(pair.second),
                  f"{pair.similarity:.0%}", str(pair.shared)]
                 for pair in result.pairs], numeric=(2, 3)))
        else:
            parts.append("<p>No pair looks alike.</p>")
    return parts


# ------------------------------------------------------------ the run

def gather(entries, settings, output):
    """Every figure of the report, as data."""
    from trusted_grader.export import similarity

    lessons = sorted({entry.lesson for entry in entries if entry.lesson})
    statuses = Counter((entry.lesson, entry.status) for entry in entries)
    found, judged, unavailable = class_mistakes(entries, output)
    credit = exercise_credit(Path(output) / "gradebook.db", entries,
                             lessons) \
        if (Path(output) / "gradebook.db").is_file() else {}
    run = {"seed": settings.seed,
           "generated": datetime.now(timezone.utc).isoformat(
               timespec="seconds"),
           **course_version(settings.solutions, lessons),
           "submissions": sum(1 for entry in entries if entry.lesson),
           "students": len({entry.student for entry in entries})}
    return {"run": run, "lessons": lessons, "statuses": dict(statuses),
            "credit": credit, "mistakes": found, "judged": judged,
            "unavailable": unavailable,
            "scores": {lesson: score_bins(entries, lesson)
                       for lesson in lessons},
            "similarity": similarity.compare(
                entries, settings.solutions,
                settings.max_notebook_mb * 2**20)}


def write_report(entries, settings, output):
    """OUTPUT/report.html, OUTPUT/report/*.csv and OUTPUT/similarity.html.

    A failure here never costs the run its grades (grades.csv is already
    written): it is logged to OUTPUT/logs/report.log and said on stderr.
    """
    from trusted_grader.export import similarity

    output = Path(output)
    try:
        facts = gather(entries, settings, output)
        write_tables(output / "report", facts)
        (output / "similarity.html").write_text(
            similarity.page(facts["similarity"]), encoding="utf-8")
        (output / "report.html").write_text(page(facts), encoding="utf-8")
    except Exception as error:  # the grades stand without a report
        import traceback

        (output / "logs").mkdir(parents=True, exist_ok=True)
        (output / "logs" / "report.log").write_text(
            traceback.format_exc(), encoding="utf-8")
        print(f"class report: not written ({type(error).__name__}: "
              f"{error}); see {output / 'logs' / 'report.log'}",
              file=sys.stderr)
        return None
    return output / "report.html"
