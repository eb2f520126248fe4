"""Claims the text makes, checked on the run that makes them.

A notebook says "the dense net fails at 2-3 pixels" only where a cell also
checks it on that notebook's own numbers: `claim(holds, statement)` prints
a green line when the run shows the statement and stops the notebook with
a readable error when it does not, so the text can never say more than the
outputs show (and nbval fails in CI). Under nbgrader the lessons train on
small budgets for which the statements are not made; there a claim that
the short run does not show never stops the notebook: `claim` says so
instead (one that holds anyway is shown as checked).
"""

from cnn_course.budget import grading_mode
from cnn_course.messages import phrase, t


class ClaimNotShown(AssertionError):
    """This run's numbers do not show what the text says."""

    def _render_traceback_(self):
        # IPython shows this instead of a traceback.
        return [f"\u2718 {self}"]


def claim(holds, statement):
    """Print `statement` as checked, or raise ClaimNotShown if not `holds`.

    `holds` is the condition computed from this run's outputs; `statement`
    says in words what it means, e.g. "the NumPy forward pass matches
    model.predict within 1e-5". The statement is English, as written in
    the notebook's code; it is shown in the notebook's language (the
    catalogue's form of it, cnn_course/catalogue/).
    """
    statement = phrase(statement)
    if not bool(holds):
        if grading_mode():
            print(t("(not shown by the grading budget's short run) "
                    "{statement}", statement=statement))
            return
        raise ClaimNotShown(t(
            "This run does not show that {statement}, as the text around "
            "this cell says. If your functions above pass their checks, "
            "rerun the notebook from the top; if it still fails, tell the "
            "course maintainers.", statement=statement))
    print("\u2714 " + t("this run shows that {statement}",
                         statement=statement))
