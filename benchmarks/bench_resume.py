"""Resumable runs: a re-run with nothing changed against the first run.

A class of CLASS_SIZE lesson-02 submissions (the lightest lesson to
grade) is graded by the grading command as an instructor runs it (a new
process, its imports included, `--jobs 2`), then graded again into the
same output folder with nothing changed: every notebook's recorded grade
is reused (trusted_grader/batch/resume.py). Bar: the re-run takes under 10% of
the first run's time.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, Row, Timer

CLASS_SIZE = 12
LESSON = "02_convolution_by_hand"
BAR = 0.10


def grading_command(source, output):
    """Seconds and standard output of one run of the grading command."""
    environment = {**os.environ, "PATH": str(Path(sys.executable).parent)
                   + os.pathsep + os.environ.get("PATH", "")}
    with Timer() as timer:
        result = subprocess.run(
            [sys.executable, "-m", "trusted_grader", "grade", str(source),
             "--output", str(output), "--jobs", "2"],
            cwd=ROOT, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        raise RuntimeError(f"the grading command failed:\n{result.stderr}")
    return timer.seconds, result.stdout


def summary_counts(stdout):
    """(graded in the run, reused) from the command's summary line."""
    line = next(line for line in stdout.splitlines()
                if "graded in this run" in line)
    words = line.split()
    return int(words[0]), int(words[words.index("reused") - 1])


def run(notebooks=True):
    with tempfile.TemporaryDirectory(prefix="bench-resume-") as scratch:
        source = Path(scratch) / "class"
        source.mkdir()
        solution = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
        for number in range(CLASS_SIZE):
            shutil.copy(solution, source / f"student{number:02d}_{LESSON}"
                                           ".ipynb")
        output = Path(scratch) / "output"
        first, first_out = grading_command(source, output)
        again, again_out = grading_command(source, output)
    ratio = again / first
    counts = (summary_counts(first_out), summary_counts(again_out))
    all_reused = counts == ((CLASS_SIZE, 0), (0, CLASS_SIZE))
    return [
        Row("resume_first_run_seconds",
            f"{CLASS_SIZE} lesson-02 submissions, grading command, "
            "--jobs 2, new output folder", round(first, 1), "s"),
        Row("resume_rerun_seconds",
            "  the same command again, nothing changed (every grade "
            "reused)", round(again, 1), "s"),
        Row("resume_rerun_ratio", "  re-run / first run",
            round(ratio, 3), "", f"< {BAR}", ratio < BAR and all_reused),
    ]
