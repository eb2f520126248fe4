"""nbgrader configuration for the course (nbgrader 0.9.6).

solutions/<lesson>/ is the instructors' source; `nbgrader generate_assignment`
writes the student version to notebooks/<lesson>/. The grading folders live
under grading/ and stay out of git.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when loaded

# SQLite cannot create the gradebook's folder itself.
os.makedirs("grading", exist_ok=True)

c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "grading/submitted"
c.CourseDirectory.autograded_directory = "grading/autograded"
c.CourseDirectory.feedback_directory = "grading/feedback"
c.CourseDirectory.db_url = "sqlite:///grading/gradebook.db"
c.CourseDirectory.course_id = "why-cnns"

c.CourseDirectory.assignment_id = ""
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*",
]

# The stub learners see in place of each solution region.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A test cell whose nbgrader metadata a student deleted is put back and
# scored, instead of silently disappearing (nbgrader/preprocessors/
# overwritecells.py).
c.OverwriteCells.add_missing_cells = True

# nbgrader scores a test cell with any stderr output as 0
# (nbgrader/utils.py: determine_grade). Drop TensorFlow's C++ log lines and
# Keras' UserWarnings about input_shape/input_dim, which say nothing about the
# student's answer.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"(?m)^(WARNING: All log messages before absl::InitializeLog"
    r"|[IWE]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ \S+:\d+\]"
    r"|.*UserWarning: Do not pass an `input_shape`/`input_dim`)"
)

# Per cell: generous for full training in class, far above grading budgets.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True
# After a timed-out cell is interrupted, go on with the next cells instead of
# failing the whole notebook while waiting for the kernel's last output.
c.Execute.raise_on_iopub_timeout = False

# Feedback and the formgrader render student notebooks in the instructor's
# browser: nbconvert sanitises HTML outputs and drops JavaScript and widget
# outputs. (The grading command also sanitises the notebooks themselves,
# trusted_grader/batch/sanitize.py, as nbgrader's templates render Markdown
# cells unsanitised whatever this says.)
c.HTMLExporter.sanitize_html = True
