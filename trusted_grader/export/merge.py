"""Merge the per-student gradebooks of a grading run into one.

Each notebook was graded in a private course folder with its own SQLite
gradebook; here, in a single process, their scores and comments are copied
into OUTPUT/gradebook.db and their autograded notebooks into
OUTPUT/autograded/, so that nbgrader's formgrader (run from the course
folder, whose nbgrader_config.py points at grading/) can show every
submission for manual grading.

With `--db-url`, `publish` then writes that gradebook into a shared
database (PostgreSQL, nbgrader's own schema through its `Gradebook` API)
that a formgrader elsewhere, e.g. on JupyterHub, reads. Other runs' rows
stay: the run's lessons and cells are created or updated, its students
created when new, and only its own submissions replaced.
"""

import contextlib
import functools
import importlib.util
import os
import shutil
import sys
import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

GRADE_FIELDS = ("auto_score", "manual_score", "extra_credit",
                "needs_manual_grade")
COMMENT_FIELDS = ("auto_comment", "manual_comment")
CELL_KINDS = ("grade_cells", "solution_cells", "task_cells",
              "source_cells")
# PostgreSQL drivers SQLAlchemy has a dialect for, preferred first:
# requirements.txt installs psycopg (3).
POSTGRES_DRIVERS = (("psycopg", "psycopg"), ("psycopg2", "psycopg2"))
URL_FORM = "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
# pg_advisory_lock key held while a run writes a shared gradebook, so that
# two graders' runs (and nbgrader's table creation) take turns.
LOCK_KEY = 0x6E626772  # "nbgr"


def merge_gradebooks(template, units_dir, output, roots=None):
    """OUTPUT/gradebook.db and OUTPUT/autograded/ from the unit folders
    `roots` (default: every folder in `units_dir`)."""
    output = Path(output)
    merged = output / "gradebook.db"
    merged.unlink(missing_ok=True)
    shutil.copy(Path(template) / "gradebook.db", merged)
    shutil.rmtree(output / "autograded", ignore_errors=True)
    if roots is None:
        if not Path(units_dir).is_dir():
            return merged
        roots = sorted(Path(units_dir).iterdir())
    with Gradebook(f"sqlite:///{merged}") as target:
        for root in roots:
            source_db = root / "gradebook.db"
            if not source_db.is_file():
                continue
            with Gradebook(f"sqlite:///{source_db}") as source, \
                    warnings.catch_warnings():
                # nbgrader's add_submission autoflushes half-built rows and
                # SQLAlchemy warns; the rows are complete at commit.
                warnings.simplefilter("ignore", SAWarning)
                copy_submissions(source, target)
            autograded = root / "autograded"
            if autograded.is_dir():
                shutil.copytree(autograded, output / "autograded",
                                dirs_exist_ok=True)
    return merged


def copy_submissions(source, target):
    """Every submission of `source` into `target`, replacing the one the
    same student may already have there for the same lesson."""
    for student in source.students:
        target.update_or_create_student(student.id)
        for submission in student.submissions:
            lesson = submission.assignment.name
            with contextlib.suppress(MissingEntry):
                target.remove_submission(lesson, student.id)
            target.add_submission(lesson, student.id,
                                  timestamp=submission.timestamp,
                                  extension=submission.extension)
            for notebook in submission.notebooks:
                # The late penalty in points (trusted_grader.batch.lateness).
                target.find_submission_notebook(
                    notebook.name, lesson, student.id
                ).late_submission_penalty = notebook.late_submission_penalty
                for grade in notebook.grades:
                    merged = target.find_grade(grade.name, notebook.name,
                                               lesson, student.id)
                    for name in GRADE_FIELDS:
                        setattr(merged, name, getattr(grade, name))
                for comment in notebook.comments:
                    merged = target.find_comment(comment.name, notebook.name,
                                                 lesson, student.id)
                    for name in COMMENT_FIELDS:
                        setattr(merged, name, getattr(comment, name))
    target.db.commit()


# ----------------------------------------------- a shared gradebook ---

def database_url(db_url):
    """The SQLAlchemy URL of `--db-url`, with a driver that is installed.

    postgresql:// (and postgres://) get the installed driver, psycopg 3
    first; postgresql+psycopg:// or +psycopg2:// pick one; sqlite:///PATH
    also works. Raises ValueError saying what is wrong.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(db_url)
    except ArgumentError:
        # The text may hold a password: not repeated.
        raise ValueError(f"--db-url is not a database URL; expected "
                         f"{URL_FORM}") from None
    backend, _, driver = url.drivername.partition("+")
    backend = {"postgres": "postgresql"}.get(backend, backend)
    if backend not in {"postgresql", "sqlite"}:
        raise ValueError(f"--db-url {shown(url)}: only PostgreSQL "
                         f"({URL_FORM}) and sqlite:/// are supported")
    if backend == "postgresql" and not driver:
        driver = _installed_postgres_driver()
    url = url.set(drivername=backend + (f"+{driver}" if driver else ""))
    try:
        dialect = url.get_dialect()
        if getattr(dialect, "is_async", False):
            raise ValueError(f"--db-url {shown(url)}: {driver} is an "
                             "asyncio driver; nbgrader needs postgresql:// "
                             "or postgresql+psycopg://")
        dialect.import_dbapi()
    except (ArgumentError, ImportError) as error:
        raise ValueError(f"--db-url {shown(url)}: its driver is not "
                         f"installed ({error}); requirements.txt installs "
                         "psycopg: use postgresql:// or "
                         "postgresql+psycopg://") from None
    return url


def _installed_postgres_driver():
    for driver, module in POSTGRES_DRIVERS:
        if importlib.util.find_spec(module) is not None:
            return driver
    raise ValueError("no PostgreSQL driver is installed: "
                     "pip install -r requirements.txt (psycopg)")


def shown(url):
    """The URL without its password, for messages."""
    return url.render_as_string(hide_password=True)


def _reason(error):
    """The first line of a database error, without SQLAlchemy's links."""
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else repr(error)


@contextlib.contextmanager
def _venv_on_path():
    """nbgrader shells out to `alembic` when it creates a gradebook
    (nbgrader/api.py: get_alembic_version): the venv's bin/ on PATH."""
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + old
    try:
        yield
    finally:
        os.environ["PATH"] = old


@functools.cache
def nbgrader_revision():
    """The alembic revision of the schema this nbgrader writes."""
    from trusted_grader.export.gradebook_schema import alembic_head

    return alembic_head()


def check_database(db_url):
    """Before grading: the database at `db_url` opens, and is empty or an
    nbgrader gradebook of this nbgrader's schema. Its URL, or ValueError.
    """
    import nbgrader
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import SQLAlchemyError

    url = database_url(db_url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            revision = None
            if "alembic_version" in tables:
                revision = connection.execute(text(
                    "SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as error:
        raise ValueError(f"cannot open the gradebook database "
                         f"{shown(url)}: {_reason(error)}") from None
    finally:
        engine.dispose()
    expected = nbgrader_revision()
    if tables and revision != expected:
        # nbgrader's Gradebook adds its tables to any database that already
        # has tables, without recording its schema: refuse instead.
        raise ValueError(
            f"{shown(url)} is not a gradebook of nbgrader "
            f"{nbgrader.__version__} (schema revision {revision or 'none'}, "
            f"expected {expected}): give the gradebook a database of its "
            "own (not JupyterHub's), or upgrade an older gradebook with "
            "`nbgrader db upgrade`")
    return url


@contextlib.contextmanager
def _exclusive(url):
    """One run at a time writes a shared PostgreSQL gradebook."""
    if url.get_backend_name() != "postgresql":
        yield
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"),
                               {"key": LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": LOCK_KEY})
    finally:
        engine.dispose()


def publish(merged, db_url):
    """Write the run's gradebook `merged` (an SQLite file) into the
    database at `db_url`: create or update its lessons' notebooks and
    cells, create its students if new, replace their submissions of this
    run's lessons. Raises RuntimeError (the URL's password hidden)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        url = check_database(db_url)
    except ValueError as error:
        raise RuntimeError(f"{error}; this run's gradebook is in "
                           f"{merged}") from None
    try:
        with _exclusive(url), _venv_on_path(), \
                Gradebook(f"sqlite:///{merged}") as source, \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            course = _course_of(source)
            with Gradebook(url.render_as_string(hide_password=False),
                           course_id=course) as target:
                copy_lessons(source, target)
                copy_submissions(source, target)
    except (SQLAlchemyError, RuntimeError, ValueError) as error:
        raise RuntimeError(
            f"writing the gradebook to {shown(url)} failed: "
            f"{_reason(error)}; this run's gradebook is in {merged}") \
            from None


def _course_of(gradebook):
    courses = {assignment.course_id for assignment in gradebook.assignments}
    return courses.pop() if len(courses) == 1 else "default_course"


def copy_lessons(source, target):
    """Create or update every lesson of `source`, its notebooks and their
    cells, in `target`, as nbgrader's generate_assignment would."""
    for assignment in source.assignments:
        try:
            existing = target.find_assignment(assignment.name)
        except MissingEntry:
            existing = target.add_assignment(assignment.name,
                                             course_id=assignment.course_id)
        if assignment.duedate is not None:  # the run's --deadline
            existing.duedate = assignment.duedate
        for notebook in assignment.notebooks:
            copy_notebook(notebook, assignment.name, target)


def _cell_names(notebook):
    return {kind: sorted(cell.name for cell in getattr(notebook, kind))
            for kind in CELL_KINDS}


def copy_notebook(notebook, lesson, target):
    name = notebook.name
    try:
        existing = target.find_notebook(name, lesson)
    except MissingEntry:
        existing = None
    if existing is not None and \
            _cell_names(existing) != _cell_names(notebook):
        if existing.submissions:
            # nbgrader's own rule (nbgrader/preprocessors/savecells.py).
            raise RuntimeError(
                f"lesson {lesson}'s cells changed since its submissions "
                "there were graded, and nbgrader cannot add or remove "
                "cells of a notebook with submissions; remove the lesson "
                f"there (`nbgrader db assignment remove {lesson}`) or use "
                "a new database")
        target.remove_notebook(name, lesson)
        existing = None
    if existing is None:
        target.add_notebook(name, lesson, kernelspec=notebook.kernelspec)
    for cell in notebook.grade_cells:
        target.update_or_create_grade_cell(
            cell.name, name, lesson, max_score=cell.max_score,
            cell_type=cell.cell_type)
    for cell in notebook.solution_cells:
        target.update_or_create_solution_cell(cell.name, name, lesson)
    for cell in notebook.task_cells:
        target.update_or_create_task_cell(
            cell.name, name, lesson, max_score=cell.max_score,
            cell_type=cell.cell_type)
    for cell in notebook.source_cells:
        target.update_or_create_source_cell(
            cell.name, name, lesson, cell_type=cell.cell_type,
            locked=cell.locked, source=cell.source, checksum=cell.checksum)
