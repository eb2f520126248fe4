"""The run's template gradebooks: every lesson's cells, before grading.

A unit (one student's lesson) is graded in a private course folder whose
gradebook already knows its lesson's cells and points, copied from a
template that nbgrader's generate_assignment made. Each lesson has a
template of its own, built by a worker of its own
(`unit.build_template`), two at a time and in the order the units need
them (the most training-heavy lesson first), so that the first notebook
starts as soon as its own lesson's template is ready, while the others
are still being built: one gradebook of four lessons took 2-4 s before
any notebook could start. Each is kept in the output folder's state
(`resume.UnitStore.template`) for the next run.

The merged gradebook of the run, and the one a Dask worker receives,
start from `combined()`: the lessons' templates in one gradebook, each
lesson copied into the first as the merged gradebook copies lessons.
"""

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from trusted_grader.batch import notebook_grading


class TemplateFailed(RuntimeError):
    """nbgrader could not make a lesson's template: nothing of that
    lesson can be graded, and the run stops."""


def build(folder, lesson, settings):
    """A course folder FOLDER whose gradebook knows `lesson`'s cells."""
    folder = Path(folder)
    folder.mkdir(parents=True)
    result = notebook_grading.run_unit(
        "template", {"root": str(folder), "lessons": [lesson],
                     "settings": settings.trait_values()})
    outcome = result.get(lesson, {})
    if not outcome.get("success"):
        raise TemplateFailed(
            f"nbgrader generate_assignment {lesson} failed:\n"
            f"{outcome.get('error', '')}{outcome.get('log', '')}"
            f"{result['process_log'][-2000:]}")
    return folder


class Templates:
    """Each lesson's template, built in the background from `start()` on
    (or found in `store`, a resume.UnitStore); `of(lesson)` waits for
    one, `combined()` for all. `lessons` in the order they are needed."""

    def __init__(self, work, lessons, settings, store=None, builders=2):
        self.folder = Path(work) / "template"
        self.lessons = list(lessons)
        self.settings = settings
        self.store = store
        self.builders = max(1, min(builders, len(self.lessons)))
        self._pool = None
        self._futures = {}
        self._combined = None

    def start(self):
        """Start building (at most `builders` at once)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self.builders, thread_name_prefix="template")
            self._futures = {lesson: self._pool.submit(self._make, lesson)
                             for lesson in self.lessons}

    def _make(self, lesson):
        def make():
            return build(self.folder / lesson, lesson, self.settings)

        try:
            return make() if self.store is None \
                else self.store.template(lesson, make)
        except TemplateFailed:
            raise
        except Exception as error:
            raise TemplateFailed(
                f"the template of {lesson} could not be made: "
                f"{type(error).__name__}: {error}") from error

    def of(self, lesson):
        """The course folder of `lesson`'s template (TemplateFailed if it
        could not be made)."""
        self.start()
        return self._futures[lesson].result()

    def combined(self):
        """A course folder whose gradebook knows every lesson's cells."""
        if self._combined is None:
            target = self.folder / "all"
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            combine([self.of(lesson) / "gradebook.db"
                     for lesson in self.lessons], target / "gradebook.db")
            self._combined = target
        return self._combined

    def close(self):
        """Stop building what has not started yet."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def combine(gradebooks, target):
    """One gradebook at `target` holding the lessons of `gradebooks`
    (files made by generate_assignment with one nbgrader: same schema),
    each copied as the merged gradebook copies them
    (`export.merge.copy_lessons`)."""
    # Imported here, as grading imports export: not at the command's start.
    from nbgrader.api import Gradebook

    from trusted_grader.export.merge import copy_lessons

    target = Path(target)
    target.unlink(missing_ok=True)
    if not gradebooks:
        return target
    shutil.copy(gradebooks[0], target)
    with Gradebook(f"sqlite:///{target}") as combined:
        for source in gradebooks[1:]:
            with Gradebook(f"sqlite:///{source}") as lesson:
                copy_lessons(lesson, combined)
    return target
