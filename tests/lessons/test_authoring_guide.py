"""README's "Authoring an exercise", followed on a copy of the course.

An instructor adds a small exercise, `flip_image`, to lesson 01 exactly as
the guide says: the solution notebook's four cells, the declaration in
`autograder/lesson01.py`, the hidden test in
`trusted_grader/judging/hidden/lesson01.py`, the Chinese forms of its
messages and of its Markdown and docstring; then runs the guide's
generated steps and grades a right and a wrong answer with the grading
command. The copy is a git repository of the course's files, so `git
status` shows every file the guide made the instructor touch: at most
three plus the solution notebook and the translations, and the files the
guide says are generated.

The copy is graded with its own code, although this virtual
environment's editable install points at the course itself: the guide's
tools run in the copy with it on PYTHONPATH (as a clone with its own
`.venv` would have it); the grading command, run in the copy, puts the
copy on PYTHONPATH for the processes it starts
(`trusted_grader/__main__.py`), and the sandbox mounts the copy's
`autograder/` and `cnn_course/` for the kernels and imports them from
there (`sandbox.COURSE_IMPORTS`). `flip_image` exists only in the copy, so its
points can come from nowhere else.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from helpers import (
    LESSON01,
    ROOT,
    cell,
    exercise_points,
    judge_output,
    run_grading,
)

from autograder import lesson01

pytestmark = pytest.mark.slow

LESSON = LESSON01
NAME = "flip_image"
VISIBLE_POINTS, HIDDEN_POINTS = 1, 2
NOTEBOOK = f"solutions/{LESSON}/{LESSON}.ipynb"
# The files the guide names, in its words and in this lesson's.
AUTHORED = {
    "solutions/<lesson>/<lesson>.ipynb": NOTEBOOK,
    "autograder/lessonNN.py": "autograder/lesson01.py",
    "trusted_grader/judging/hidden/lessonNN.py":
        "trusted_grader/judging/hidden/lesson01.py",
}
TRANSLATED = {
    "cnn_course/catalogue/zh-CN/": "cnn_course/catalogue/zh-CN/"
                                   "lesson01_04.json",
    "translations/zh-CN/": f"translations/zh-CN/{LESSON}.md",
}
GENERATED = {
    "autograder/expected/": f"autograder/expected/{LESSON}.json",
    "notebooks/": f"notebooks/{LESSON}/{LESSON}.ipynb",
    "notebooks/zh-CN/": f"notebooks/zh-CN/{LESSON}/{LESSON}.ipynb",
}
# The guide's commands, as it writes them: the translations' skeleton,
# then the generated files.
SKELETON = "python tools/translations.py skeleton zh-CN"
GENERATE = ("python tools/expected_values.py <lesson>",
            "python tools/clean_notebooks.py",
            "python tools/release.py <lesson>")

# ------------------------------------------------ what the author writes ---

MARKDOWN = """## Exercise 4 — Mirroring an image

Write `flip_image(image)`: the image mirrored left to right, so that
column `j` becomes column `W - 1 - j`; same shape and dtype; the input is
not modified."""
MARKDOWN_ZH = """## 练习 4——镜像翻转图像

编写 `flip_image(image)`：把图像左右镜像，第 `j` 列变成第 `W - 1 - j` 列；
形状和 dtype 不变；不修改输入。"""
DOCSTRING = "Mirror `image` left to right."
DOCSTRING_ZH = "把 `image` 左右镜像。"
SOLUTION = f'''def flip_image(image):
    """{DOCSTRING}"""
    ### BEGIN SOLUTION
    return image[:, ::-1].copy()
    ### END SOLUTION
'''
UPSIDE_DOWN = '''def flip_image(image):
    """Mirror `image` left to right."""
    return image[::-1].copy()
'''
TEST_CELL = f'''"""Check flip_image: columns mirrored, shape and dtype kept."""
check.{NAME}({NAME})'''
HIDDEN_CELL = f'''"""Hidden tests of flip_image (run when graded)."""
### BEGIN HIDDEN TESTS
check.hidden_{NAME}({NAME}, points={HIDDEN_POINTS})
### END HIDDEN TESTS'''

DECLARATION = '''

# ----------------------------------------------------------- flip_image ---

def flip_inputs(rng):
    """Two images whose rows and columns all differ."""
    return {"inputs": [rng.permutation(20).reshape(4, 5).astype(np.uint8),
                       rng.permutation(6).reshape(2, 3) / 10.0]}


def flip_problem(flip_image, image, want):
    """Message for what flip_image got wrong on one image, or None."""
    what = render_call("flip_image", (image,))
    got = require_array(call(flip_image, "flip_image", image), what)
    problem = compare_arrays(got, want, what)
    if problem is not None and same_array(got, image[::-1]):
        problem += "\\n" + t("Flipped upside down: mirror the columns "
                            "(axis 1), not the rows.")
    return problem


@lesson.exercise(parameters=("image",), inputs=flip_inputs,
                 problem=flip_problem)
def flip_image():
    """Visible check of flip_image on two small images."""
    return t("flip_image: columns mirrored, shape and dtype kept.")
'''
HIDDEN_TEST = '''

@hidden_test(checks.flip_image)
def hidden_flip_image(flip_image, score, ref, rng):
    """Hidden tests: random images of two sizes no visible case has."""
    for height, width in ((7, 9), (12, 5)):
        image = rng.permutation(height * width).reshape(
            height, width).astype(np.float32)
        score.case(t("random {height}x{width} image", height=height,
                     width=width),
                   lambda i=image: checks.flip_image.problem(
                       flip_image, i, ref.flip_image(i)))
'''
MESSAGES_ZH = {
    "Flipped upside down: mirror the columns (axis 1), not the rows.":
        "上下翻转了：应镜像列（axis 1），而不是行。",
    "flip_image: columns mirrored, shape and dtype kept.":
        "flip_image：列已镜像，形状和 dtype 不变。",
    "random {height}x{width} image": "随机 {height}x{width} 图像",
}


def guide():
    """README's "Authoring an exercise" section, its lines joined."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Authoring an exercise", 1)[1]
    return " ".join(section.split("\n## ")[0].split())


def copy_course(target):
    """The course's tracked files in a git repository of their own."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    for name in listed.split("\0"):
        if name and (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "-c", "user.name=guide", "-c", "user.email=guide@test",
        "commit", "-q", "-m", "the course as it was")


def git(course, *args):
    return subprocess.run(["git", *args], cwd=course, check=True,
                          capture_output=True, text=True).stdout


def run(course, command):
    """A command of the guide, `python tools/...`, run in the copy with
    the copy's packages."""
    env = {**os.environ, "PYTHONPATH": str(course)}
    result = subprocess.run([sys.executable, *command.split()[1:]],
                            cwd=course, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def add_notebook_cells(course):
    """Step 1: after the lesson's last exercise, its Markdown, solution
    cell, visible test cell and hidden test cell."""
    path = course / NOTEBOOK
    notebook = nbformat.read(path, as_version=4)

    def code(source, grade_id, **nbgrader):
        new = nbformat.v4.new_code_cell(source)
        new.id = f"cell-{grade_id.replace('_', '-')}"
        new.metadata["nbgrader"] = {"grade_id": grade_id,
                                    "schema_version": 3, **nbgrader}
        return new

    markdown = nbformat.v4.new_markdown_cell(MARKDOWN)
    markdown.id = "cell-flip-image-text"
    new_cells = [
        markdown,
        code(SOLUTION, NAME, grade=False, locked=False, solution=True),
        code(TEST_CELL, f"test_{NAME}", grade=True, locked=True,
             points=VISIBLE_POINTS, solution=False),
        code(HIDDEN_CELL, f"hidden_{NAME}", grade=True, locked=True,
             points=HIDDEN_POINTS, solution=False),
    ]
    last = notebook.cells.index(cell(notebook, "hidden_build_dense_model"))
    notebook.cells[last + 1:last + 1] = new_cells
    nbformat.write(notebook, path)


def append(path, text):
    with open(path, "a", encoding="utf-8") as file:
        file.write(text)


def translate(course):
    """The guide's translation steps: the skeleton's English of the new
    Markdown cell and docstring replaced by Chinese, and the new messages'
    Chinese forms in the lesson's catalogue file."""
    path = course / TRANSLATED["translations/zh-CN/"]
    text = path.read_text(encoding="utf-8")
    for english, chinese in ((MARKDOWN, MARKDOWN_ZH),
                             (DOCSTRING, DOCSTRING_ZH)):
        assert text.count(f"-->\n{english}\n") == 1, english
        text = text.replace(f"-->\n{english}\n", f"-->\n{chinese}\n")
    path.write_text(text, encoding="utf-8")
    catalogue = course / TRANSLATED["cnn_course/catalogue/zh-CN/"]
    table = json.loads(catalogue.read_text(encoding="utf-8"))
    table.update(MESSAGES_ZH)
    catalogue.write_text(json.dumps(table, indent=1, ensure_ascii=False,
                                    sort_keys=True) + "\n", encoding="utf-8")


def test_the_guide_names_these_files_and_steps():
    text = guide()
    for named in [*AUTHORED, *TRANSLATED, *GENERATED]:
        assert named in text, named
    for command in (SKELETON, *GENERATE):
        assert command in text, command
    assert "tests/kernel/test_messages.py" in text


def in_git():
    return subprocess.run(["git", "rev-parse", "--is-inside-work-tree"],
                          cwd=ROOT, capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def followed(tmp_path_factory):
    """The copy after following the guide, and the two answers graded."""
    if not in_git():
        pytest.skip("the course's files are listed by git")
    assert NAME not in lesson01.EXERCISES  # only the copy will have it
    watched = [ROOT / path for path in (*AUTHORED.values(),
                                        *TRANSLATED.values(),
                                        *GENERATED.values())]
    before = {path: path.read_bytes() for path in watched}
    course = tmp_path_factory.mktemp("course")
    copy_course(course)

    add_notebook_cells(course)
    append(course / AUTHORED["autograder/lessonNN.py"], DECLARATION)
    append(course / AUTHORED["trusted_grader/judging/hidden/lessonNN.py"],
           HIDDEN_TEST)
    run(course, SKELETON)
    translate(course)
    for command in GENERATE:
        run(course, command.replace("<lesson>", LESSON))

    submissions = tmp_path_factory.mktemp("submissions")
    right = nbformat.read(course / NOTEBOOK, as_version=4)
    nbformat.write(right, submissions / f"right_{LESSON}.ipynb")
    cell(right, NAME).source = UPSIDE_DOWN
    nbformat.write(right, submissions / f"wrong_{LESSON}.ipynb")
    output = tmp_path_factory.mktemp("grading")
    # As the guide's reader runs it, in the course's folder.
    result, rows = run_grading(course, submissions, output, "--seed", "22")
    # Nothing of the course itself changed.
    assert {path: path.read_bytes() for path in watched} == before
    return {"course": course, "output": output, "stdout": result.stdout,
            "rows": {row["student"]: row for row in rows}}


def changed_files(course):
    status = git(course, "status", "--porcelain", "--untracked-files=all")
    return {line[3:] for line in status.splitlines()}


def test_only_the_files_the_guide_names_changed(followed):
    changed = changed_files(followed["course"])
    authored = set(AUTHORED.values())
    translated = set(TRANSLATED.values())
    generated = set(GENERATED.values())
    assert changed == authored | translated | generated
    assert len(changed - translated - {NOTEBOOK} - generated) <= 3


def test_the_generated_files_hold_the_exercise(followed):
    course = followed["course"]
    cases = json.loads((course / GENERATED["autograder/expected/"])
                       .read_text(encoding="utf-8"))
    assert len(cases[NAME]["expected"]) == 2
    student = nbformat.read(course / GENERATED["notebooks/"], as_version=4)
    assert "raise NotImplementedError()" in cell(student, NAME).source
    assert f"hidden_{NAME}" not in "".join(c.source for c in student.cells)
    chinese = nbformat.read(course / GENERATED["notebooks/zh-CN/"],
                            as_version=4)
    assert DOCSTRING_ZH in cell(chinese, NAME).source
    assert MARKDOWN_ZH in "".join(c.source for c in chinese.cells)


def test_the_copy_has_every_translation(followed):
    """The guide's checks of translations pass in the copy."""
    course = followed["course"]
    run(course, "python tools/translations.py status")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q",
         "tests/kernel/test_messages.py"],
        cwd=course, env={**os.environ, "PYTHONPATH": str(course)},
        capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_right_answer_gets_the_new_points(followed):
    right = followed["rows"]["right"]
    assert right["status"] == "graded", right
    assert exercise_points(followed["output"], "right", LESSON, NAME) == (
        VISIBLE_POINTS, HIDDEN_POINTS)


def test_the_wrong_answer_loses_them_with_the_exercise_named(followed):
    rows, output = followed["rows"], followed["output"]
    assert rows["wrong"]["status"] == "graded", rows["wrong"]
    assert exercise_points(output, "wrong", LESSON, NAME) == (0, 0)
    assert float(rows["right"]["score"]) - float(rows["wrong"]["score"]) \
        == VISIBLE_POINTS + HIDDEN_POINTS
    said = judge_output(output, "wrong", LESSON, f"hidden_{NAME}")
    assert re.search(rf"{NAME}\(<float32 array \(\d+, \d+\)>\)", said), said
    assert "Flipped upside down" in said, said
