"""The grading steps' forkserver, warmed up before it forks a worker.

Each nbgrader step (`unit`: the template, a notebook's autograde, its
finish) runs in a process forked from one server
(`notebook_grading.workers`), so that what the server loaded once every
step has for free. The server first imports `unit` and nbgrader, the
larger part; then this module pays the steps' first-use costs, which a
forked process would otherwise pay again at every step because they are
filled in on first use: Python's compiled regular expressions (Pygments'
lexers, the Markdown renderer), Jinja's and nbconvert's lazily imported
filters, BeautifulSoup's CSS selectors, nbformat's compiled schema
validator, SQLAlchemy's mapper set-up, nbgrader's schema revision
(`gradebook_schema.alembic_head`) and IPython, which jupyter_client
imports to find a kernel, and the feedback's Jinja templates, compiled
(`feedback_html`). Measured: the feedback step took 1.7 s in a fresh
process and 0.85 s after one feedback; `warm_up` costs about 0.6 s, once
per run.

`warm_up` only renders and validates a small notebook made here, and
makes a gradebook in a temporary folder: it reads nothing of the run and
writes nothing that a grading step reads.
"""

import tempfile

import IPython  # noqa: F401  (jupyter_client imports it to find kernels)


def _example():
    from nbformat.v4 import (
        new_code_cell,
        new_markdown_cell,
        new_notebook,
        new_output,
    )

    return new_notebook(
        cells=[new_markdown_cell("# A title\n\nSome *text*, `code`, a "
                                 "[link](https://example.org), $x^2$.\n\n"
                                 "- one\n- two\n"),
               new_code_cell("import numpy as np\n\n\ndef f(x):\n"
                             "    return np.zeros(3)  # a comment\n",
                             outputs=[new_output("stream", name="stdout",
                                                 text="✔ passed\n")])],
        metadata={"kernelspec": {"name": "python3", "language": "python",
                                 "display_name": "Python 3"},
                  "language_info": {"name": "python",
                                    "pygments_lexer": "ipython3"}})


def warm_up():
    """Pay the grading steps' first-use costs in this process."""
    import nbformat
    from nbgrader.api import Gradebook

    from trusted_grader.batch import feedback_html, sanitize
    from trusted_grader.export import gradebook_schema

    notebook = _example()
    nbformat.validate(notebook)
    sanitize.sanitize_notebook(notebook)
    feedback_html.warm_up(notebook)
    gradebook_schema.install()
    gradebook_schema.alembic_head()
    with tempfile.TemporaryDirectory(prefix="preload-") as folder, \
            Gradebook(f"sqlite:///{folder}/gradebook.db") as gradebook:
        gradebook.add_assignment("example")
        gradebook.find_assignment("example")


warm_up()
