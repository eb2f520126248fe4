"""The grader reads nbgrader's schema revision in its own process
(trusted_grader/export/gradebook_schema.py) instead of nbgrader's
`alembic heads` subprocess: the same revision, and gradebooks nbgrader
accepts."""

import subprocess
import sys
from pathlib import Path

from trusted_grader.export import gradebook_schema


def test_the_revision_is_the_one_alembic_reports():
    """The in-process head equals what `alembic heads` prints for
    nbgrader's migrations (the command nbgrader 0.9.6 runs)."""
    from nbgrader.dbutil import _temp_alembic_ini

    alembic = Path(sys.executable).parent / "alembic"
    with _temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:
        output = subprocess.check_output([str(alembic), "-c", ini, "heads"],
                                         text=True)
    assert gradebook_schema.alembic_head() == output.split()[0]


def test_a_gradebook_made_after_install_opens_as_nbgrader_made_it(
        tmp_path):
    """nbgrader creates a gradebook with the installed function, records
    the revision, and opens it again without complaint."""
    from nbgrader.api import Gradebook
    from sqlalchemy import create_engine, text

    gradebook_schema.install()
    url = f"sqlite:///{tmp_path}/gradebook.db"
    with Gradebook(url) as gradebook:
        gradebook.add_assignment("lesson")
    with create_engine(url).connect() as connection:
        revision = connection.execute(text(
            "SELECT version_num FROM alembic_version")).scalar()
    assert revision == gradebook_schema.alembic_head()
    with Gradebook(url) as gradebook:
        assert [a.name for a in gradebook.assignments] == ["lesson"]
