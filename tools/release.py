"""Generate the student notebooks from solutions/ (the only way to make them).

    python tools/release.py                  # every lesson into notebooks/
    python tools/release.py 01_dense_translation
    python tools/release.py --output /tmp/x  # elsewhere, throwaway gradebook

Runs `nbgrader generate_assignment` (which strips solutions and hidden tests,
locks cells and records each lesson in the gradebook), copies the course's
start page (solutions/00_start_here.ipynb, no exercises) beside the lessons,
then runs the same clean step as for solutions/, so that notebooks/ is
byte-for-byte reproducible.

Each translated edition, notebooks/<language>/ (zh-CN), is made from the
English student notebooks: the same cells, ids, code and nbgrader metadata,
with the Markdown and the stubs' docstrings from translations/<language>/
(tools/translations.py). A stale or missing translation stops the release
and names the cell.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clean_notebooks  # noqa: E402

import translations  # noqa: E402
from trusted_grader.paths import lesson_ids  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# The learners' start page: plain Markdown, copied as it is.
START_PAGE = "00_start_here.ipynb"


def lessons():
    return lesson_ids(ROOT / "solutions")


def nbgrader_env():
    """nbgrader shells out to alembic: put this Python's bin/ on PATH."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def generate(lesson_ids, output=None):
    with tempfile.TemporaryDirectory() as scratch:
        options = []
        if output is not None:
            db = Path(scratch) / "gradebook.db"
            options = [f"--CourseDirectory.release_directory={output}",
                       f"--CourseDirectory.db_url=sqlite:///{db}"]
        for lesson in lesson_ids:
            subprocess.run(
                [sys.executable, "-m", "nbgrader", "generate_assignment",
                 lesson, "--force", "--log-level=WARN", *options],
                cwd=ROOT, env=nbgrader_env(), check=True)
    release_dir = Path(output) if output is not None else ROOT / "notebooks"
    paths = [path for lesson in lesson_ids
             for path in (release_dir / lesson).glob("*.ipynb")]
    release_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "solutions" / START_PAGE, release_dir / START_PAGE)
    paths.append(release_dir / START_PAGE)
    for language in translations.LANGUAGES:
        paths += translate_release(release_dir, language, lesson_ids)
    clean_notebooks.main([str(path) for path in paths])
    return release_dir


def translate_release(release_dir, language, lesson_ids):
    """Write release_dir/<language>/: the start page and `lesson_ids`,
    translated; return the paths written."""
    import nbformat

    names = [START_PAGE] + [f"{lesson}/{lesson}.ipynb"
                            for lesson in lesson_ids]
    written = []
    for name in names:
        english = nbformat.read(release_dir / name, as_version=4)
        translated = translations.translate(english, language, name)
        target = release_dir / language / name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(translated, target)
        written.append(target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="default: all lessons")
    parser.add_argument("--output", help="release folder (default notebooks/)")
    args = parser.parse_args(argv)
    release_dir = generate(args.lessons or lessons(), args.output)
    print(f"student notebooks written to {release_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
