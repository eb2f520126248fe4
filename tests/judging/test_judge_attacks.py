"""Grades that cannot be taken: attacks on the judge, in every lesson.

Each attack is built on the blank student notebook and graded through the
grading command beside the blank notebook itself. Nothing in the kernel
decides a score, so each must earn no more than the blank notebook,
whatever the static scan says of it: one walks everything the kernel can
reach for the exercises' solutions, one rewrites the check module in
place, one forges the answers files, one replaces the answer recorder.
"""

import os

import nbformat
import pytest
from helpers import LESSONS, cell, lesson_notebook, run_grading

from autograder.expected import module_for
from trusted_grader import sandbox

pytestmark = pytest.mark.slow

WALKER = '''import gc
import os
import sys

NAMES = {names!r}
print("UID", os.getuid())
for secret in ("/etc/shadow", "/etc/gshadow", "/root/.bashrc"):
    try:
        open(secret).read(10)
        print("LEAK-READABLE", secret)
    except OSError:
        pass
seen = 0
for folder, _, files in os.walk("/"):
    if folder.startswith(("/proc", "/sys", "/dev", "/usr", "/lib")) or \
            "site-packages" in folder or "/.pyenv/" in folder or \
            ".ipython" in folder:  # its history holds this very cell
        continue
    for name in files:
        seen += 1
        if seen > 20000:
            break
        path = os.path.join(folder, name)
        try:
            if os.path.getsize(path) > 2_000_000:
                continue
            text = open(path, errors="ignore").read()
        except OSError:
            continue
        if "BEGIN SOLUTION" in text or "BEGIN HIDDEN" in text:
            print("LEAK-FOUND", path)
for module in list(sys.modules.values()):
    for name in NAMES:
        found = getattr(module, name, None)
        home = str(getattr(found, "__module__", ""))
        if callable(found) and ("reference" in home or "solution" in home
                                or "trusted" in home):
            print("LEAK-MODULE", module.__name__, name)
for item in gc.get_objects():
    if callable(item) and getattr(item, "__name__", "") in NAMES and \\
            "reference" in str(getattr(item, "__module__", "")):
        print("LEAK-GC", item)
'''
REWRITER = '''import autograder.recorder
for name in dir(check):
    if name.startswith("hidden_") or name in {names!r}:
        setattr(check, name, lambda *args, **kwargs: 1.0)
autograder.recorder.record = lambda *args, **kwargs: 1.0
'''
FORGER = '''import json
import os

import numpy as np

answers = os.environ.get("COURSE_GRADING_ANSWERS", "answers")
inputs = os.environ.get("COURSE_GRADING_INPUTS", "inputs")
for name in {names!r}:
    for cell_id in ("test_" + name, "hidden_" + name):
        forged = []
        for number in range(300):
            forged.append({{"value": {{"__kind__": "array", "key": "a0"}},
                           "error": None, "mutated": {{}}, "library": None,
                           "seconds": 0.0}})
        record = {{"exercise": name, "callable": True, "answers": forged,
                  "complete": True}}
        os.makedirs(answers, exist_ok=True)
        with open(os.path.join(answers, cell_id + ".json"), "w") as file:
            json.dump(record, file)
        np.savez(os.path.join(answers, cell_id + ".npz"),
                 a0=np.ones((28, 28)))
'''
RECORDER = '''import autograder.recorder


def answer_call(func, args, kwargs, writer, from_scratch=False):
    first = args[0] if args else 0
    return {{"value": writer.encode(first), "error": None, "mutated": {{}},
            "library": None, "seconds": 0.0}}


autograder.recorder.answer_call = answer_call
'''


LINKER = '''import os

answers = os.environ.get("COURSE_GRADING_ANSWERS", "answers")
victim = os.path.join(os.path.dirname(os.path.dirname(answers)),
                      "honest__{lesson}", "answers")
for name in os.listdir(answers):
    os.remove(os.path.join(answers, name))
    os.symlink(os.path.join(victim, name), os.path.join(answers, name))
print("LINKED", len(os.listdir(answers)))
'''


def attack_notebook(root, lesson, source, at_end=False):
    notebook = lesson_notebook(root, "notebooks", lesson)
    names = list(module_for(lesson).EXERCISES)
    code = source.format(names=names, lesson=lesson)
    if at_end:
        notebook.cells.append(nbformat.v4.new_code_cell(code))
    else:
        cell(notebook, names[0]).source = code
    return notebook


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("judge-attacks")
    for lesson in LESSONS:
        notebooks = {
            "blank": lesson_notebook(root, "notebooks", lesson),
            "walker": attack_notebook(root, lesson, WALKER),
            "rewriter": attack_notebook(root, lesson, REWRITER),
            "forger": attack_notebook(root, lesson, FORGER, at_end=True),
            "recorder": attack_notebook(root, lesson, RECORDER),
        }
        if lesson == LESSONS[0]:
            # Links its answers files to an honest classmate's.
            notebooks["honest"] = lesson_notebook(root, "solutions", lesson)
            notebooks["linker"] = attack_notebook(root, lesson, LINKER,
                                                  at_end=True)
        for student, notebook in notebooks.items():
            nbformat.write(notebook, folder / f"{student}_{lesson}.ipynb")
    output = tmp_path_factory.mktemp("graded-judge-attacks")
    _, rows = run_grading(root, folder, output, "--jobs", "2",
                          "--timeout", "60")
    return output, {(row["student"], row["lesson"]): row for row in rows}


def outputs_of(output, student, lesson):
    path = output / "autograded" / student / lesson / f"{lesson}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    return "".join(item.get("text", "") for c in notebook.cells
                   for item in c.get("outputs", []))


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.parametrize("attack", ["walker", "rewriter", "forger",
                                    "recorder"])
def test_attack_earns_no_more_than_blank(graded, lesson, attack):
    _, rows = graded
    row, blank = rows[(attack, lesson)], rows[("blank", lesson)]
    assert float(blank["score"]) == 0.0, blank
    assert float(row["score"]) <= float(blank["score"]), row
    assert row["status"] in {"graded", "tampered"}, row


@pytest.mark.parametrize("lesson", LESSONS)
def test_forged_answers_escape_the_scan_and_still_earn_nothing(
        graded, lesson):
    """No score depends on the static scan: it sees nothing odd in the
    forger (plain os, json and NumPy), and the judge gives it 0."""
    _, rows = graded
    assert rows[("forger", lesson)]["status"] == "graded"
    assert float(rows[("forger", lesson)]["score"]) == 0.0


def test_answers_linked_to_a_classmates_earn_nothing(graded):
    output, rows = graded
    lesson = LESSONS[0]
    assert float(rows[("honest", lesson)]["score"]) == 10
    assert rows[("linker", lesson)]["status"] in {"graded", "tampered"}
    assert float(rows[("linker", lesson)]["score"]) == 0.0
    assert "LINKED" in outputs_of(output, "linker", lesson)


needs_bubblewrap = pytest.mark.skipif(
    not sandbox.bubblewrap_available() and not os.environ.get("CI"),
    reason="bubblewrap is not installed: no filesystem isolation")


@needs_bubblewrap
@pytest.mark.parametrize("lesson", LESSONS)
def test_the_kernel_reaches_no_solution_and_no_secret(graded, lesson):
    output, _ = graded
    text = outputs_of(output, "walker", lesson)
    assert "UID" in text
    assert "LEAK-" not in text
    if sandbox.is_root():
        uid = sandbox.unprivileged_ids()[0]
        assert f"UID {uid}" in text
