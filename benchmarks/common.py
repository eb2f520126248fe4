"""Shared pieces of the benchmarks: rows, timing, running notebooks."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    """One figure: JSON key, description, value, unit, bar and verdict."""

    key: str
    what: str
    value: object
    unit: str = ""
    bar: str = ""
    met: bool | None = None


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def execute_notebook(path, grading=False):
    """Seconds to run a notebook end to end in its folder (as nbval does)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    env_before = os.environ.get("NBGRADER_EXECUTION")
    if grading:
        os.environ["NBGRADER_EXECUTION"] = "autograde"
    else:
        os.environ.pop("NBGRADER_EXECUTION", None)
    try:
        with Timer() as timer:
            NotebookClient(notebook, timeout=1200, kernel_name="python3",
                           resources={"metadata": {"path": str(
                               Path(path).parent)}}).execute()
    finally:
        if env_before is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = env_before
    return timer.seconds


def nbgrader_env():
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    return env


def autograde_seconds(lessons):
    """Seconds for `nbgrader autograde` of one student's solution notebooks.

    Runs in a temporary copy of the course; the gradebook set-up
    (generate_assignment) is not counted.
    """
    with tempfile.TemporaryDirectory() as scratch:
        course = Path(scratch)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "solutions", course / "solutions")
        for lesson in lessons:
            subprocess.run([sys.executable, "-m", "nbgrader",
                            "generate_assignment", lesson, "--force"],
                           cwd=course, env=nbgrader_env(), check=True,
                           capture_output=True)
            folder = course / "grading" / "submitted" / "bench" / lesson
            folder.mkdir(parents=True)
            shutil.copy(ROOT / "solutions" / lesson / f"{lesson}.ipynb",
                        folder)
        with Timer() as timer:
            for lesson in lessons:
                subprocess.run([sys.executable, "-m", "nbgrader",
                                "autograde", lesson, "--create"],
                               cwd=course, env=nbgrader_env(), check=True,
                               capture_output=True)
    return timer.seconds
