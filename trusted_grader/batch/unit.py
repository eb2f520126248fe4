"""One grading step in its own process: nbgrader through its Python API.

`run("template", spec)` builds the gradebook of the lessons found;
`run("autograde", spec)` runs one submitted notebook in the sandboxed
kernel, which only records answers; `run("finish", spec)` writes the
judge's points and messages into the gradebook and the autograded notebook
and generates the feedback. The grading command runs each step in a process
forked from a server that has nbgrader imported already (saving about two
seconds a notebook), so a crash takes down only its own notebook.
nbgrader's API does not read nbgrader_config.py by itself: it is loaded
explicitly here, then pointed at the private course folder ROOT. The
result goes to ROOT/result-<command>.json.
"""

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from cnn_course.messages import ENGLISH, t, use_language
from trusted_grader import sandbox
from trusted_grader.batch import demo_cells, from_scratch, sanitize
from trusted_grader.batch.settings import GradingSettings
from trusted_grader.export import gradebook_schema
from trusted_grader.paths import COURSE_ROOT

# Outputs longer than this are cut in the autograded notebook and feedback.
MAX_OUTPUT_CHARACTERS = 20_000
SHORT_TEMP = "/tmp" if os.path.isdir("/tmp") else None


def load_config(spec):
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    root = spec["root"]
    settings = GradingSettings.from_spec(spec)
    config = PyFileConfigLoader(
        "nbgrader_config.py", path=str(COURSE_ROOT)).load_config()
    overrides = Config()
    course = overrides.CourseDirectory
    course.root = root
    course.source_directory = settings.solutions
    course.release_directory = "release"
    course.submitted_directory = "submitted"
    course.autograded_directory = "autograded"
    course.feedback_directory = "feedback"
    course.db_url = f"sqlite:///{root}/gradebook.db"
    overrides.Execute.timeout = settings.timeout
    # nbconvert's HTMLExporter, its templates compiled once per run.
    from trusted_grader.batch.feedback_html import FeedbackExporter

    overrides.GenerateFeedback.exporter_class = FeedbackExporter
    if "demo_cells" in spec:
        from nbgrader.converters import Autograde
        from nbgrader.preprocessors import Execute

        from trusted_grader.batch.demo_cells import GradingExecute

        # nbgrader's own list, with Execute leaving demo cells unrun.
        overrides.Autograde.autograde_preprocessors = [
            GradingExecute if step is Execute else step
            for step in Autograde.class_traits()[
                "autograde_preprocessors"].default()]
        overrides.GradingExecute.skip_cells = spec["demo_cells"]
        if from_scratch.library_free(spec["lesson"]):
            # The judge times the from-scratch answers from out here.
            overrides.GradingExecute.timings_file = str(
                from_scratch.timings_path(root))
    if "runtime" in spec:
        # The kernel starts through trusted_grader.sandbox and talks over
        # Unix sockets, so it needs no network namespace of ours.
        overrides.Execute.kernel_name = sandbox.KERNEL_NAME
        overrides.KernelManager.transport = "ipc"
        # Absolute paths inside the folder the sandbox shares with the
        # kernel (the defaults are a temp file and a relative name).
        runtime = Path(spec["runtime"])
        overrides.KernelManager.ip = str(runtime / "kernel-ipc")
        overrides.KernelManager.connection_file = str(runtime / "kernel.json")
        # After the last cell the kernel has written every answer (each
        # test cell writes its own before it returns): it is killed, with
        # its sandbox (bwrap --die-with-parent, its own PID namespace),
        # instead of being asked to shut down, which took 0.9 s of every
        # notebook (TensorFlow's and Python's teardown, then polling).
        overrides.Execute.shutdown_kernel = "immediate"
    config.merge(overrides)
    return config


def make_api(spec):
    from nbgrader.apps import NbGraderAPI

    gradebook_schema.install()  # no `alembic` subprocess per gradebook
    os.chdir(spec["root"])
    return NbGraderAPI(config=load_config(spec))


def build_template(spec):
    api = make_api(spec)
    results = {}
    for lesson in spec["lessons"]:
        results[lesson] = api.generate_assignment(lesson, force=True)
    return results


def autograded_path(spec):
    lesson, student = spec["lesson"], spec["student"]
    return Path(spec["root"]) / "autograded" / student / lesson / \
        f"{lesson}.ipynb"


def autograde(spec):
    """Run the notebook; its kernel writes answers to ROOT/answers."""
    root = Path(spec["root"])
    settings = GradingSettings.from_spec(spec)
    # Unix socket paths may not exceed 107 bytes: keep them short.
    runtime = tempfile.mkdtemp(prefix="ag-", dir=SHORT_TEMP)
    spec["runtime"] = runtime
    language = spec.get("language", ENGLISH)
    lesson = spec["lesson"]
    library_free = from_scratch.library_free(lesson)
    os.environ["JUPYTER_PATH"] = sandbox.install_kernelspec(
        root, runtime, spec["inputs"], root / "answers",
        settings.memory_mb, language=language,
        without_libraries=library_free)
    os.environ["JUPYTER_RUNTIME_DIR"] = runtime
    spec["demo_cells"] = demo_cells.demo_sources(
        Path(settings.solutions) / lesson / f"{lesson}.ipynb")
    started = time.perf_counter()
    api = make_api(spec)
    try:
        with use_language(language):  # the notes on unrun demo cells
            result = {"autograde": api.autograde(
                spec["lesson"], spec["student"], force=True, create=True)}
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
    result["seconds"] = {"autograde": round(time.perf_counter() - started,
                                            2)}
    clear_test_scores(spec)
    if autograded_path(spec).is_file():
        result["cell_errors"] = cell_errors(autograded_path(spec))
        try:
            comment_unanswered(spec)
        except Exception as error:  # a comment never costs the grade
            result["comment_error"] = f"{type(error).__name__}: {error}"
    # For the log: the test cells' seconds, timed outside the kernel.
    result["from_scratch"] = {"library_free": library_free,
                              "timings": from_scratch.timings(root)
                              if library_free else {}}
    if autograded_path(spec).is_file():  # safe even where finish won't run
        sanitize.sanitize_file(autograded_path(spec), language)
    return result


def change_grades(spec, change):
    """Call `change(grade)` on every grade of this submission, then save."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{spec['root']}/gradebook.db") as gradebook:
        try:
            submission = gradebook.find_submission(spec["lesson"],
                                                   spec["student"])
        except MissingEntry:
            return  # nothing was recorded, so nothing scores
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                change(grade)
        gradebook.db.commit()


def clear_test_scores(spec):
    """nbgrader scored the test cells from the kernel's own output; no
    such score may stand. The judge's points replace these zeros."""
    def clear(grade):
        if grade.cell.cell_type == "code":
            grade.auto_score = 0.0
            grade.needs_manual_grade = False
    change_grades(spec, clear)


# nbgrader's comment on a solution cell left as released
# (nbgrader/preprocessors/saveautogrades.py, SaveAutoGrades._add_comment).
NO_RESPONSE = "No response."


def comment_unanswered(spec):
    """Comment "No response." on every stub left as released, in either
    edition, as nbgrader does for the English one.

    nbgrader finds a stub untouched when its checksum is the one in the
    gradebook, which is the English stub's; the Chinese edition's stubs
    differ from it only in their docstrings (tools/translations.py), so
    the cells are compared here without docstrings, as the look-alike
    finder compares them (similarity.without_docstrings)."""
    from nbgrader.api import Gradebook, MissingEntry

    from trusted_grader.export.similarity import without_docstrings

    lesson, student = spec["lesson"], spec["student"]
    notebook = nbformat.read(autograded_path(spec), as_version=4)
    with Gradebook(f"sqlite:///{spec['root']}/gradebook.db") as gradebook:
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.cell_type != "code" or not \
                    cell.metadata.get("nbgrader", {}).get("solution"):
                continue
            try:
                released = gradebook.find_source_cell(grade_id, lesson,
                                                      lesson)
                comment = gradebook.find_comment(grade_id, lesson, lesson,
                                                 student)
            except MissingEntry:
                continue
            if comment.auto_comment is None and \
                    without_docstrings(cell.source) == \
                    without_docstrings(released.source):
                comment.auto_comment = NO_RESPONSE
        gradebook.db.commit()


def cell_errors(path):
    """{grade_id: "NameError: ..."} of test cells that raised."""
    notebook = nbformat.read(path, as_version=4)
    errors = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        for output in cell.get("outputs", []):
            if grade_id and output.get("output_type") == "error":
                errors[grade_id] = (f"{output.get('ename')}: "
                                    f"{output.get('evalue')}")[:300]
    return errors


def truncate_outputs(notebook, limit=MAX_OUTPUT_CHARACTERS):
    """Cut floods of output; return how many outputs were cut."""
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
    return cut


def add_grader_note(notebook, findings):
    """Put the reason for a 0 at the top of the notebook and feedback."""
    lines = "\n".join(f"* {finding}" for finding in findings)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(t(
        "**Grader's note: this notebook scores 0.** Code in it interferes "
        "with grading (it changes the checks, the libraries they use or the "
        "kernel instead of answering the exercises):\n\n{findings}"
        "\n\nYour instructor can review it and grade it by hand.",
        findings=lines)))


def show_judgement(notebook, results, errors):
    """Replace each test cell's outputs with the judge's lines."""
    from trusted_grader.judging.server import no_answers

    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in results:
            continue
        text = results[grade_id]["output"]
        # The judge wrote in this step's language (finish_in_language).
        if grade_id in errors and no_answers() in text:
            text += "  " + t("The cell raised {error}",
                             error=errors[grade_id]) + "\n"
        cell.outputs = [nbformat.v4.new_output(
            "stream", name="stdout", text=text)]


def record_scores(spec, results):
    """The judge's points become the test cells' autograded scores."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{spec['root']}/gradebook.db") as gradebook:
        for grade_id, result in results.items():
            try:
                grade = gradebook.find_grade(
                    grade_id, spec["lesson"], spec["lesson"],
                    spec["student"])
            except MissingEntry:
                continue
            grade.auto_score = float(result["score"])
            grade.needs_manual_grade = False
        gradebook.db.commit()


def zero_scores(spec):
    """Override every grade of the submission with 0, for the formgrader."""
    def zero(grade):
        grade.manual_score = 0.0
    change_grades(spec, zero)


def finish(spec):
    """Scores and messages from the judge, then the feedback."""
    started = time.perf_counter()
    path = autograded_path(spec)
    results = spec.get("judgement") or {}
    record_scores(spec, results)
    notebook = nbformat.read(path, as_version=4)
    show_judgement(notebook, results, spec.get("cell_errors") or {})
    outcome = {"outputs_cut": truncate_outputs(notebook)}
    if spec.get("findings"):
        zero_scores(spec)
        add_grader_note(notebook, spec["findings"])
    outcome["sanitized"] = sanitize.sanitize_notebook(notebook)  # no script
    nbformat.write(notebook, path)
    api = make_api(spec)
    outcome["feedback"] = api.generate_feedback(spec["lesson"],
                                                spec["student"], force=True)
    outcome["seconds"] = {"finish": round(time.perf_counter() - started, 2)}
    return outcome


def finish_in_language(spec):
    with use_language(spec.get("language", ENGLISH)):
        return finish(spec)


STEPS = {"template": build_template, "autograde": autograde,
         "finish": finish_in_language}


def run(command, spec):
    """Do COMMAND on SPEC and write ROOT/result-COMMAND.json."""
    result = STEPS[command](spec)
    Path(spec["root"], f"result-{command}.json").write_text(
        json.dumps(result), encoding="utf-8")


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
