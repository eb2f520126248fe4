"""The grading run's settings: one typed object, one set of defaults.

The command line (`python -m autograder grade --help`) is built from these
traits, and the object travels whole to every step that needs a setting.
"""

from traitlets import HasTraits, Int, Unicode

from trusted_grader.paths import SOLUTIONS


class GradingSettings(HasTraits):
    """How a batch of submissions is graded."""

    output = Unicode("grading", help="results folder")
    jobs = Int(1, help="notebooks graded at once")
    timeout = Int(120, help="seconds per notebook cell")
    memory_mb = Int(6144, help="address-space cap per kernel, MiB")
    notebook_timeout = Int(900, help="seconds per notebook, all steps")
    judge_timeout = Int(600, help="seconds the judge may take a notebook")
    seed = Int(None, allow_none=True,
               help="seed of the hidden inputs (default: a fresh one)")
    solutions = Unicode(str(SOLUTIONS), help="the instructor's solutions")
    progress = Int(1, help="show a progress bar (0: no)")


def option_defaults():
    """{name: (default, help)} of every setting, for argparse."""
    return {name: (trait.default_value, trait.help)
            for name, trait in GradingSettings.class_traits().items()}
