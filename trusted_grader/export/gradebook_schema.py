"""nbgrader's gradebook schema revision, read in this process.

nbgrader 0.9.6 runs `alembic heads` in a second Python each time it
creates a gradebook (nbgrader/api.py, `get_alembic_version`). That process
imports alembic and nbgrader's migrations: 6-9 s on a busy 2-core machine,
spent at the start of every grading run (the template's gradebook), before
any notebook can start. alembic's own ScriptDirectory gives the same
answer in 0.2 s in a process that has nbgrader imported. `install()` makes
nbgrader use it; tests/export/test_gradebook_schema.py compares it with
nbgrader's subprocess.
"""

import functools


@functools.cache
def alembic_head():
    """The head revision of nbgrader's migrations, e.g. 'e43177bfe90b'."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    heads = ScriptDirectory.from_config(config).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"nbgrader's migrations have {len(heads)} heads "
                           f"({heads}); expected one")
    return heads[0]


def install():
    """nbgrader creates gradebooks with `alembic_head` from now on."""
    import nbgrader.api

    nbgrader.api.get_alembic_version = alembic_head
