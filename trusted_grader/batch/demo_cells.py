"""Demonstration cells: run for the learner, not while the grader grades.

A code cell tagged `demo` in solutions/ only shows something (a model
trained, a curve plotted, a timing): no exercise and no check needs what
it computes. When the grader autogrades, `GradingExecute` leaves such a
cell unrun if its code is the solutions' code, and says so in the cell's
output; a learner who changed the cell gets it run as written. The tags
are read from the trusted solutions, never from the submission.

Skipping them is most of what makes grading a class fast: lesson 04's
demo training alone took longer than all of its checks.
"""

import json
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Dict, Unicode

from cnn_course.messages import t

TAG = "demo"


def skipped_note():
    """The output that stands for an unrun demonstration cell."""
    return t("[not run while grading: this cell only demonstrates. "
             "Your functions are graded by the check cells.]") + "\n"


def normalized(source):
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def demo_sources(solution_path):
    """{cell id: code} of the cells tagged `demo` in a solution notebook."""
    notebook = nbformat.read(solution_path, as_version=4)
    return {cell.id: normalized(cell.source) for cell in notebook.cells
            if cell.cell_type == "code"
            and TAG in cell.metadata.get("tags", [])}


class GradingExecute(Execute):
    """nbgrader's Execute, leaving unchanged demonstration cells unrun.
    Where the kernel is the library-free one (`from_scratch`), it times
    the test cells from outside the kernel for the judge
    (`timings_file`)."""

    skip_cells = Dict(
        value_trait=Unicode(), key_trait=Unicode(),
        help="{cell id: code} of the demonstration cells not to run when "
             "the submitted cell's code is this code.").tag(config=True)
    timings_file = Unicode(
        "", help="where to write {grade id: seconds} of the test cells "
                 "this run executes, timed here, outside the kernel "
                 "(empty: not written)").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self.seconds = {}
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self.timings_file:
                Path(self.timings_file).write_text(json.dumps(
                    {cell: round(seconds, 4)
                     for cell, seconds in self.seconds.items()}),
                    encoding="utf-8")

    def preprocess_cell(self, cell, resources, index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        expected = self.skip_cells.get(cell.get("id"))
        if cell.cell_type == "code" and expected is not None and \
                normalized(cell.source) == expected:
            cell.outputs = [new_output("stream", name="stdout",
                                       text=skipped_note())]
            cell.execution_count = None
            return cell, resources
        started = time.perf_counter()
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            if str(grade_id).startswith(("test_", "hidden_")):
                self.seconds[grade_id] = time.perf_counter() - started
