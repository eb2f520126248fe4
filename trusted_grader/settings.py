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
    # An honest lesson-04 judging, one training included, took 5 s on 2
    # idle cores and up to 52 s on 2 cores shared by other work (load 7).
    judge_timeout = Int(120, help="seconds the judge may take one notebook "
                                  "(then: grading_error, a fresh judge)")
    judge_start_timeout = Int(
        300, help="seconds the judge may take to start: list every "
                  "lesson's calls and write (or check) their inputs")
    # The judge's peak address space (VmPeak, 2 cores, 20 threads) judging
    # the four lessons' honest answers: 1.6-1.7 GiB (resident 0.9-1.0
    # GiB); judging a lesson-04 model of 22 million parameters (the judge
    # loads up to 24 million, model_limits): 2.4 GiB (resident 1.8 GiB).
    # Each thread adds 8 MiB, and TensorFlow starts more on more cores.
    judge_memory_mb = Int(4096, help="address-space cap of the judge, MiB "
                                     "(0: none)")
    seed = Int(None, allow_none=True,
               help="seed of the hidden inputs (default: a fresh one)")
    solutions = Unicode(str(SOLUTIONS), help="the instructor's solutions")
    progress = Int(1, help="show a progress bar (0: no)")
    canvas_gradebook = Unicode(
        None, allow_none=True,
        help="a Canvas gradebook export (CSV): write a copy with the "
             "scores filled in, matched by SIS Login ID, to "
             "OUTPUT/canvas_gradebook.csv for Canvas's Grades → Import")
    max_notebook_mb = Int(50, help="largest notebook read, MiB")
    max_archive_mb = Int(4096, help="largest unpacked zip, MiB")
    max_archive_members = Int(20_000, help="most files read from a zip")
    db_url = Unicode(None, allow_none=True,
                     help="also write the gradebook into this shared "
                          "database, e.g. postgresql://user@host/gradebook "
                          "(nbgrader's schema): replaces only this run's "
                          "students' submissions")
    scheduler = Unicode(None, allow_none=True,
                        help="Dask scheduler address, e.g. tcp://host:8786: "
                             "grade on that cluster's workers")

    def limits(self):
        """The submission size limits, for `submissions`."""
        from trusted_grader.submissions import Limits

        return Limits(notebook_bytes=self.max_notebook_mb * 2**20,
                      archive_bytes=self.max_archive_mb * 2**20,
                      archive_members=self.max_archive_members)


def option_defaults():
    """{name: (default, help)} of every setting, for argparse."""
    return {name: (trait.default_value, trait.help)
            for name, trait in GradingSettings.class_traits().items()}


def option_type(name):
    """The Python type argparse converts a setting's value to."""
    trait = GradingSettings.class_traits()[name]
    return str if isinstance(trait, Unicode) else int
