"""The grading run's settings: one typed object, one set of defaults.

The command line (`python -m trusted_grader grade --help`) is built from
these traits, and the object travels whole to every step that needs a
setting: to another process as its trait values (`trait_values()`, rebuilt
there by `from_spec`), so every default is the one written here.
"""

from traitlets import Bool, Enum, Float, HasTraits, Int, Unicode

from trusted_grader.paths import SOLUTIONS


class GradingSettings(HasTraits):
    """How a batch of submissions is graded."""

    output = Unicode("grading", help="results folder")
    jobs = Int(1, help="notebooks graded at once")
    timeout = Int(120, help="seconds per notebook cell")
    memory_mb = Int(6144, help="address-space cap per kernel, MiB "
                               "(0: none)")
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
    own_judge = Unicode(
        "04_keras_cnn",
        help="a lesson whose judging trains the submitted models: with "
             "--jobs above 1 it has a judge process of its own, so that "
             "other lessons' judgings never wait behind its trainings "
             "('': one judge for every lesson)")
    seed = Int(None, allow_none=True,
               help="seed of the hidden inputs (default: the output "
                    "folder's last run's, so that its grades can be "
                    "reused; a fresh one for a new folder)")
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
    regrade = Bool(False, help="grade every notebook again, even those "
                               "unchanged since their grade in the output "
                               "folder (trusted_grader/batch/resume.py)")
    # Late work (trusted_grader/batch/lateness.py): none of these changes
    # what a notebook scores before the penalty, so none causes a regrade.
    deadline = Unicode(None, allow_none=True,
                       help="ISO 8601 date-time with a time zone, e.g. "
                            "2025-03-07T23:59+01:00: later submissions "
                            "are late")
    extensions = Unicode(None, allow_none=True,
                         help="CSV of per-student extensions: a header "
                              "row with student, extra_hours and/or "
                              "deadline, optionally lesson")
    late_percent_per_day = Float(10.0, help="percent of its score a late "
                                            "submission loses per day")
    late_max_percent = Float(100.0, help="at most this percent is taken")
    late_cutoff_days = Float(None, allow_none=True,
                             help="a submission more than this many days "
                                  "late scores 0 (None: no cut-off)")
    late_rounding = Enum(("started_days", "pro_rata"), "started_days",
                         help="count every started day as a whole day, "
                              "or the exact fraction")
    late_grace_minutes = Float(0.0, help="submissions this many minutes "
                                         "after the deadline are on time")
    zip_timezone = Unicode("UTC", help="time zone of a zip's member times "
                                       "(they have none), e.g. "
                                       "Europe/Berlin")

    @classmethod
    def from_spec(cls, spec):
        """The settings a grading step's spec carries as trait values."""
        return cls(**spec["settings"])

    def limits(self):
        """The submission size limits, for `submissions`."""
        from trusted_grader.batch.submissions import Limits

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
    if isinstance(trait, Float):
        return float
    return int if isinstance(trait, Int) else str


def option_choices(name):
    """The values a setting may take, or None for any of its type."""
    trait = GradingSettings.class_traits()[name]
    return list(trait.values) if isinstance(trait, Enum) else None
