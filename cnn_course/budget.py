"""Training budgets: full in class, small while nbgrader grades."""

import os


def grading_mode():
    """True while nbgrader executes the notebook (autograde or validate)."""
    return os.environ.get("NBGRADER_EXECUTION") in {"autograde", "validate"}


def autograding():
    """True while the instructor's grader runs the notebook (not while a
    learner validates it)."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


def training_budget(full, grading):
    """Pick the budget for this run: `grading` under nbgrader, else `full`.

    Both are dicts such as {"epochs": 5, "train_size": 60000}; grading a
    class must take seconds per notebook, not minutes.
    """
    return dict(grading if grading_mode() else full)
