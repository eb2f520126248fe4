"""Shared pieces of the benchmarks: rows, timing, running notebooks."""

import os
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


def cpu_description():
    """The CPU's model name and whether it has AVX-512. TensorFlow's
    convolutions are much faster with it, so training figures are only
    comparable between machines of the same kind."""
    model, flags = "unknown", set()
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == "model name":
                model = value.strip()
            elif name.strip() == "flags":
                flags = set(value.split())
    return {"cpu_model": model, "cpu_avx512": "avx512f" in flags}


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def execute_notebook(path, grading=False, probe=None):
    """Run a notebook end to end in its folder (as nbval does).

    Returns the seconds it took, or (seconds, figures) when `probe` is
    given: code run in the same kernel afterwards that prints one JSON
    object, so figures come from the notebook's own run, not a re-run.
    `probe` may also be a list of such cells, run in order (each with
    its own cell timeout); then figures is the list of what each printed
    (None for a cell that printed nothing).

    `grading=True` runs it with the grading budget under nbgrader's
    "validate" mode: under "autograde" without the grader's inputs, the
    hidden test cells refuse to run (they answer the judge's calls only).
    """
    import json

    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    env_before = os.environ.get("NBGRADER_EXECUTION")
    if grading:
        os.environ["NBGRADER_EXECUTION"] = "validate"
    else:
        os.environ.pop("NBGRADER_EXECUTION", None)
    client = NotebookClient(notebook, timeout=1800, kernel_name="python3",
                            resources={"metadata": {
                                "path": str(Path(path).parent)}})
    try:
        with client.setup_kernel():
            with Timer() as timer:
                for index, cell in enumerate(notebook.cells):
                    client.execute_cell(cell, index)
            if probe is None:
                return timer.seconds
            figures = []
            for code in [probe] if isinstance(probe, str) else probe:
                probe_cell = nbformat.v4.new_code_cell(code)
                notebook.cells.append(probe_cell)
                client.execute_cell(probe_cell, len(notebook.cells) - 1)
                text = "".join(output.get("text", "")
                               for output in probe_cell.outputs
                               if output.get("name") == "stdout")
                figures.append(json.loads(text) if text.strip() else None)
            if isinstance(probe, str):
                return timer.seconds, figures[0]
            return timer.seconds, figures
    finally:
        if env_before is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = env_before
