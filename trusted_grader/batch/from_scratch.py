"""The from-scratch exercises' answers, from a kernel without libraries.

Lessons 02, 03 and 05 ask for convolutions, pooling, activations and
their gradients written with NumPy alone. Whether a function used
TensorFlow, Keras, SciPy, PyTorch or JAX is not asked of the student's
kernel (whose code can hide
any call from any detector inside it): after nbgrader's run, the grader
runs the notebook a second time in a kernel confined like the first but in
which those packages do not exist (`feedback.FORBIDDEN_LIBRARIES`: each is
covered by a package whose import raises ImportError). The answers of the
from-scratch exercises' test cells are taken from that run only: the first
run leaves those cells unrun (`demo_cells.GradingExecute.answered_apart`),
and any answers it left for them are deleted, whatever happened in either
run.

A lesson whose every exercise is from scratch (03 and 05) runs once:
nbgrader's own run is in the kernel without the libraries, and it
answers every test cell (`runs_once`). A demonstration cell the learner
changed to use TensorFlow then shows the ImportError in the feedback; no
point depends on it. Lesson 02 runs twice: its `conv_output_size` is not
a from-scratch exercise, so it keeps the libraries.

The second run skips the cells no from-scratch answer needs: unchanged
demonstration cells (as the first run does) and the test cells of the
other exercises. It gets a fresh scratch folder and answers folder, so
nothing the first kernel left behind reaches it.

Each test cell of the library-free run is timed by the grader, outside
the kernel; the judge reads those durations (`server.TIMINGS_FILE`) for
the speed cases, never the kernel's own clock.
"""

import contextlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from trusted_grader import sandbox
from trusted_grader.batch import demo_cells

KERNEL_NAME = sandbox.KERNEL_NAME + "-from-scratch"
ANSWERS = "answers-from-scratch"
SCRATCH = "scratch-from-scratch"


def exercises_of(lesson):
    """The lesson's from-scratch exercises (autograder's FROM_SCRATCH)."""
    from autograder.expected import module_for

    return tuple(module_for(lesson).FROM_SCRATCH)


def runs_once(lesson):
    """Whether every exercise of `lesson` is from scratch, so that its one
    nbgrader run can be the library-free run (saving a kernel: 2.6-4 s a
    notebook)."""
    from autograder.expected import module_for

    module = module_for(lesson)
    return bool(module.FROM_SCRATCH) and \
        set(module.FROM_SCRATCH) == set(module.EXERCISES)


def timings_path(root):
    """Where the library-free run's test-cell durations go: beside the
    answers folder, out of the kernel's reach."""
    from trusted_grader.judging.server import TIMINGS_FILE

    return Path(root) / TIMINGS_FILE


def single_run(spec):
    """The from-scratch result of a lesson that `runs_once`: nbgrader's
    run was the library-free one and wrote its timings itself."""
    path = timings_path(spec["root"])
    timings = json.loads(path.read_text(encoding="utf-8")) \
        if path.is_file() else {}
    return {"cell_errors": {}, "seconds": 0.0, "timings": timings,
            "problem": None}


def test_cells(exercises):
    """Grade ids of the exercises' visible and hidden test cells."""
    return [cell for name in exercises
            for cell in (f"test_{name}", f"hidden_{name}")]


def second_run_notebook(notebook, exercises, demo_sources):
    """A copy of the autograded `notebook` holding only the code cells
    the from-scratch answers may need, outputs cleared."""
    wanted = set(test_cells(exercises))
    copy = nbformat.from_dict(json.loads(json.dumps(notebook)))
    kept = []
    for cell in copy.cells:
        if cell.cell_type != "code":
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        is_test = grade_id.startswith(("test_", "hidden_"))
        if is_test and grade_id not in wanted:
            continue
        expected = demo_sources.get(cell.get("id"))
        if expected is not None and \
                demo_cells.normalized(cell.source) == expected:
            continue
        cell.outputs, cell.execution_count = [], None
        kept.append(cell)
    copy.cells = kept
    return copy


def _client_class():
    from nbclient import NotebookClient

    class TimedClient(NotebookClient):
        """Times every cell from this process, not from the kernel."""

        seconds = {}

        async def async_execute_cell(self, cell, cell_index, *args,
                                     **kwargs):
            started = time.perf_counter()
            try:
                return await super().async_execute_cell(
                    cell, cell_index, *args, **kwargs)
            finally:
                grade_id = cell.metadata.get("nbgrader", {}).get(
                    "grade_id")
                if grade_id:
                    self.seconds[grade_id] = time.perf_counter() - started
    return TimedClient


def run(spec, autograded_path):
    """Answer SPEC's lesson's from-scratch test cells in a kernel without
    the libraries; put those answers (and only those) in ROOT/answers.

    Returns {"cell_errors": {grade_id: error}, "seconds": s, "timings":
    {grade_id: s}, "problem": str or None}: the errors the second run's
    test cells raised, how long each test cell took (measured here), and
    what went wrong with the run itself, if anything.
    """
    from traitlets.config import Config

    from trusted_grader.batch.settings import GradingSettings

    settings = GradingSettings.from_spec(spec)
    exercises = exercises_of(spec["lesson"])
    if not exercises:
        return {"cell_errors": {}, "seconds": 0.0, "timings": {},
                "problem": None}
    started = time.perf_counter()
    root = Path(spec["root"])
    cells = test_cells(exercises)
    answers = root / ANSWERS
    shutil.rmtree(answers, ignore_errors=True)
    notebook = second_run_notebook(
        nbformat.read(autograded_path, as_version=4), exercises,
        spec.get("demo_cells") or {})
    runtime = tempfile.mkdtemp(prefix="fs-", dir=_short_temp())
    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(Path(runtime) / "kernel-ipc")
    config.KernelManager.connection_file = str(Path(runtime) /
                                               "kernel.json")
    jupyter_path = sandbox.install_kernelspec(
        root, runtime, spec["inputs"], answers, settings.memory_mb,
        language=spec.get("language", "en"), name=KERNEL_NAME,
        scratch=SCRATCH, without_libraries=True)
    client = _client_class()(
        notebook, config=config, kernel_name=KERNEL_NAME,
        timeout=settings.timeout, allow_errors=True,
        interrupt_on_timeout=True, record_timing=False,
        resources={"metadata": {"path": str(Path(autograded_path).parent)}})
    client.seconds = {}
    problem = None
    try:
        with _jupyter_path(jupyter_path, runtime):
            client.execute()
    except Exception as error:  # the answers recorded so far still count
        problem = f"{type(error).__name__}: {error}"[:500]
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
    _replace_answers(root / "answers", answers, cells)
    timings = {cell: round(seconds, 4)
               for cell, seconds in client.seconds.items() if cell in cells}
    timings_path(root).write_text(json.dumps(timings), encoding="utf-8")
    return {"cell_errors": _cell_errors(notebook, cells),
            "seconds": round(time.perf_counter() - started, 2),
            "timings": timings, "problem": problem}


def discard(spec):
    """Delete the first kernel's answers to the from-scratch test cells
    (when the second run cannot take place)."""
    cells = test_cells(exercises_of(spec["lesson"]))
    _replace_answers(Path(spec["root"]) / "answers",
                     Path(spec["root"]) / ANSWERS, cells)
    return {"cell_errors": {}, "seconds": 0.0, "timings": {},
            "problem": None}


def _short_temp():
    """Unix socket paths may not exceed 107 bytes: keep them short."""
    return "/tmp" if Path("/tmp").is_dir() else None


@contextlib.contextmanager
def environment_set(values):
    """os.environ with `values` set while the block runs, then as it was."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _jupyter_path(path, runtime):
    """The second kernel's Jupyter folders, and grading mode (as nbgrader
    sets it while it autogrades)."""
    return environment_set({"JUPYTER_PATH": path,
                            "JUPYTER_RUNTIME_DIR": runtime,
                            "NBGRADER_EXECUTION": "autograde"})


def _belongs_to(name, cells):
    return any(name.startswith((f"{cell}.", f"{cell}-")) for cell in cells)


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _replace_answers(target, source, cells):
    """Delete TARGET's answers of `cells` (the first kernel's), then move
    in SOURCE's regular files of those cells (the second kernel's)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in list(target.iterdir()):
        if _belongs_to(path.name, cells):
            _remove(path)
    if not source.is_dir():
        return
    for path in source.iterdir():
        if _belongs_to(path.name, cells) and path.is_file() and \
                not path.is_symlink():
            shutil.move(str(path), str(target / path.name))
    shutil.rmtree(source, ignore_errors=True)


def _cell_errors(notebook, cells):
    """{grade_id: "NameError: ..."} of the second run's test cells."""
    errors = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in cells:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors[grade_id] = (f"{output.get('ename')}: "
                                    f"{output.get('evalue')}")[:300]
    return errors
