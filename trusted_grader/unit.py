"""One grading step in its own process: nbgrader through its Python API.

`run("template", spec)` builds the gradebook of the lessons found;
`run("grade", spec)` autogrades one notebook and writes its feedback.
The grading command runs one of these per submitted notebook, in a process
forked from a server that has nbgrader imported already (saving about two
seconds a notebook), so a crash takes down only its own notebook, and
autograde and generate_feedback share one nbgrader start-up. nbgrader's API
does not read nbgrader_config.py by itself: it is loaded explicitly here,
then pointed at the private course folder ROOT. The result goes to
ROOT/result.json.
"""

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import reference, sandbox

COURSE_ROOT = Path(__file__).resolve().parent.parent
# Outputs longer than this are cut in the autograded notebook and feedback.
MAX_OUTPUT_CHARACTERS = 20_000
SHORT_TEMP = "/tmp" if os.path.isdir("/tmp") else None


def load_config(spec):
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    root = spec["root"]
    config = PyFileConfigLoader(
        "nbgrader_config.py", path=str(COURSE_ROOT)).load_config()
    overrides = Config()
    course = overrides.CourseDirectory
    course.root = root
    course.source_directory = spec["solutions"]
    course.release_directory = "release"
    course.submitted_directory = "submitted"
    course.autograded_directory = "autograded"
    course.feedback_directory = "feedback"
    course.db_url = f"sqlite:///{root}/gradebook.db"
    overrides.Execute.timeout = spec.get("timeout", 120)
    if "lesson" in spec:
        # The kernel starts through autograder.sandbox and talks over Unix
        # sockets, so it needs no network namespace of ours.
        overrides.Execute.kernel_name = sandbox.KERNEL_NAME
        overrides.KernelManager.transport = "ipc"
        # Absolute paths inside the folder the sandbox shares with the
        # kernel (the defaults are a temp file and a relative name).
        runtime = Path(spec["runtime"])
        overrides.KernelManager.ip = str(runtime / "kernel-ipc")
        overrides.KernelManager.connection_file = str(runtime / "kernel.json")
    config.merge(overrides)
    return config


def make_api(spec):
    from nbgrader.apps import NbGraderAPI

    os.chdir(spec["root"])
    return NbGraderAPI(config=load_config(spec))


def build_template(spec):
    api = make_api(spec)
    results = {}
    for lesson in spec["lessons"]:
        results[lesson] = api.generate_assignment(lesson, force=True)
    return results


def write_reference_bundle(spec):
    """UNIT/reference/<lesson>/<lesson>.ipynb: only the reference cells."""
    lesson = spec["lesson"]
    source = Path(spec["solutions"]) / lesson / f"{lesson}.ipynb"
    notebook = nbformat.read(source, as_version=4)
    bundle = nbformat.v4.new_notebook()
    bundle.cells = [cell for cell in notebook.cells
                    if reference.is_reference_cell(cell)]
    target = Path(spec["root"]) / "reference" / lesson
    target.mkdir(parents=True, exist_ok=True)
    nbformat.write(bundle, target / f"{lesson}.ipynb")


def truncate_outputs(path, limit=MAX_OUTPUT_CHARACTERS):
    """Cut floods of output; return how many outputs were cut."""
    notebook = nbformat.read(path, as_version=4)
    cut = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and \
                    len(output.get("text", "")) > limit:
                size = len(output["text"])
                output["text"] = (output["text"][:limit] +
                                  f"\n[... {size - limit} more characters "
                                  "cut by the grader ...]\n")
                cut += 1
            data = output.get("data", {})
            for mime, value in list(data.items()):
                text = "".join(value) if isinstance(value, list) else value
                if isinstance(text, str) and len(text) > 50 * limit:
                    data[mime] = "[output too large: cut by the grader]" \
                        if mime.startswith("text") else ""
                    cut += 1
    if cut:
        nbformat.write(notebook, path)
    return cut


def add_grader_note(path, findings):
    """Put the reason for a 0 at the top of the notebook and feedback."""
    notebook = nbformat.read(path, as_version=4)
    lines = "\n".join(f"* {finding}" for finding in findings)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(
        "**Grader's note: this notebook scores 0.** Code in it interferes "
        "with grading (it changes the checks, the libraries they use or the "
        "kernel instead of answering the exercises):\n\n" + lines +
        "\n\nYour instructor can review it and grade it by hand."))
    nbformat.write(notebook, path)


def grade(spec):
    root = Path(spec["root"])
    lesson, student = spec["lesson"], spec["student"]
    write_reference_bundle(spec)
    # Unix socket paths may not exceed 107 bytes: keep them short.
    runtime = tempfile.mkdtemp(prefix="ag-", dir=SHORT_TEMP)
    spec["runtime"] = runtime
    os.environ["COURSE_SOLUTIONS"] = str(root / "reference")
    os.environ["JUPYTER_PATH"] = sandbox.install_kernelspec(
        root, runtime, spec.get("memory_mb"))
    os.environ["JUPYTER_RUNTIME_DIR"] = runtime
    started = time.perf_counter()
    api = make_api(spec)
    seconds = {"start": time.perf_counter() - started}
    try:
        result = {"autograde": api.autograde(lesson, student, force=True,
                                             create=True)}
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
    seconds["autograde"] = time.perf_counter() - started - seconds["start"]
    notebook = root / "autograded" / student / lesson / f"{lesson}.ipynb"
    if notebook.is_file():
        result["outputs_cut"] = truncate_outputs(notebook)
        if spec.get("findings"):
            add_grader_note(notebook, spec["findings"])
        result["feedback"] = api.generate_feedback(lesson, student,
                                                   force=True)
    seconds["total"] = time.perf_counter() - started
    result["seconds"] = {name: round(value, 2)
                         for name, value in seconds.items()}
    return result


def run(command, spec):
    """Do COMMAND on SPEC and write ROOT/result.json."""
    if command == "template":
        result = build_template(spec)
    else:
        result = grade(spec)
    Path(spec["root"], "result.json").write_text(json.dumps(result),
                                                 encoding="utf-8")


def run_in_child(command, spec, log_path, path_prefix):
    """Entry point of a worker forked by the grading command.

    The worker leads its own process group (so a timeout can kill it and
    the kernel it started together) and logs to LOG_PATH.
    """
    os.setpgrp()
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    # nbgrader shells out to alembic, which lives beside this Python.
    os.environ["PATH"] = path_prefix + os.pathsep + os.environ["PATH"]
    os.environ.pop("NBGRADER_EXECUTION", None)
    run(command, spec)
