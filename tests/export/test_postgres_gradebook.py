"""`--db-url`: the grading command writes a shared PostgreSQL gradebook.

A real server from Debian's `postgresql` package (not on PATH: its binaries
are in /usr/lib/postgresql/<version>/bin) runs for this module in a
temporary folder, on a free port of 127.0.0.1 and a Unix socket in that
folder; as root it runs as `nobody` (initdb refuses root). Without the
package the tests skip, and fail in CI (CI=true), which installs it.

Two small lesson-01 classes go through the real grading command: every
score nbgrader's Gradebook reads back from the database equals
grades.csv; re-grading a student replaces their submission (no
duplicates), and a run for other students leaves the first run's rows as
they were.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import types
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from helpers import GRADED_LESSON, lesson_notebook, partly_correct, run_grading

from trusted_grader.export import merge

LESSON = GRADED_LESSON
USER = "grader"  # the server's superuser, trusted on its socket and port


# ---------------------------------------------------------- the server ---

def postgres_binaries():
    """The folder with initdb and pg_ctl, newest version first; or None."""
    folders = []
    if shutil.which("pg_ctl"):
        folders.append(Path(shutil.which("pg_ctl")).parent)
    folders += sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda path: int(path.parent.name)
                      if path.parent.name.isdigit() else 0,
                      reverse=True)
    for folder in folders:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unprivileged(folder):
    """The command prefix that runs the server as nobody when we are root
    (the same setpriv as trusted_grader/sandbox.py), giving it `folder`."""
    if os.geteuid() != 0:
        return []
    from trusted_grader import sandbox

    uid, gid = sandbox.unprivileged_ids()
    os.chown(folder, uid, gid)
    return [shutil.which("setpriv") or "/usr/bin/setpriv",
            f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]


class Server:
    def __init__(self, folder, port):
        self.folder, self.port = folder, port

    def url(self, database):
        """The plain URL form an instructor types."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def socket_url(self, database):
        """The driver named, over the Unix socket."""
        return (f"postgresql+psycopg://{USER}@/{database}"
                f"?host={self.folder}&port={self.port}")

    def create_database(self, name):
        import psycopg

        with psycopg.connect(host=str(self.folder), port=self.port,
                             user=USER, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name


@pytest.fixture(scope="module")
def postgres():
    binaries = postgres_binaries()
    if binaries is None:
        message = ("PostgreSQL is not installed (no initdb in "
                   "/usr/lib/postgresql/*/bin): apt-get install postgresql")
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message + "; .ci/run installs it")
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(prefix="pg-"))
    as_server = unprivileged(folder)
    data, log, port = folder / "data", folder / "server.log", free_port()
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "TZ": "UTC"}

    def run(*args, check=True):
        result = subprocess.run([*as_server, *map(str, args)], cwd=folder,
                                env=env, capture_output=True, text=True,
                                timeout=120)
        if check and result.returncode != 0:
            server_log = log.read_text() if log.is_file() else ""
            pytest.fail(f"{args[0]} failed:\n{result.stdout}"
                        f"{result.stderr}{server_log}")

    try:
        run(binaries / "initdb", "-D", data, "-U", USER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync")
        run(binaries / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60",
            "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off -c max_connections=40", "start")
        yield Server(folder, port)
    finally:
        if (data / "postmaster.pid").exists():
            run(binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w",
                "stop", check=False)
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------ reading ---

def submission_counts(url):
    """{(student, lesson): number of submissions} straight from SQL."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as connection:
        rows = connection.execute(
            "SELECT s.student_id, a.name, count(*) "
            "FROM submitted_assignment s "
            "JOIN assignment a ON a.id = s.assignment_id "
            "GROUP BY s.student_id, a.name").fetchall()
    return {(student, lesson): count for student, lesson, count in rows}


def cell_scores(gradebook, student, lesson=LESSON):
    """{cell: (auto, manual, needs manual grade)} and the submission id."""
    submission = gradebook.find_submission(lesson, student)
    scores = {}
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            assert grade.name not in scores, "a cell graded twice"
            scores[grade.name] = (grade.auto_score, grade.manual_score,
                                  grade.needs_manual_grade)
    return submission.id, scores


def open_gradebook(url):
    from nbgrader.api import Gradebook

    return Gradebook(str(merge.database_url(url).render_as_string(
        hide_password=False)), course_id="why-cnns")


def read_back(url, students):
    """{student: (score, max score, needs manual grade, cell scores)} as
    nbgrader's Gradebook reads them from the database at `url`."""
    with open_gradebook(url) as gradebook:
        return {student: summary(gradebook, student)
                for student in students}


def summary(gradebook, student):
    submission = gradebook.find_submission(LESSON, student)
    return (round(submission.score, 2), submission.max_score,
            submission.needs_manual_grade,
            cell_scores(gradebook, student)[1])


def assert_matches_csv(shared, rows, output):
    """Every score of the run's grades.csv equals the one read back from
    the database, and each cell's as in the run's OUTPUT/gradebook.db."""
    from nbgrader.api import Gradebook

    assert set(shared) == {row["student"] for row in rows}
    with Gradebook(f"sqlite:///{output / 'gradebook.db'}") as local:
        for row in rows:
            score, max_score, manual, cells = shared[row["student"]]
            assert score == float(row["score"]), row
            assert max_score == float(row["max_score"]), row
            assert manual == (row["needs_manual_grade"] == "yes"), row
            assert cells == cell_scores(local, row["student"])[1]


# ------------------------------------------------------------- classes ---

def write_class(folder, notebooks):
    folder.mkdir(parents=True)
    for student, notebook in notebooks.items():
        nbformat.write(notebook, folder / f"{student}_{LESSON}.ipynb")
    return folder


@pytest.fixture(scope="module")
def runs(root, postgres, tmp_path_factory):
    """Run 1: ada (correct), bea (partly correct). Run 2, another grader:
    ada again (now partly correct) and cy (blank); bea not in it."""
    folder = tmp_path_factory.mktemp("postgres-runs")
    database = postgres.create_database("course")
    url, socket_url = postgres.url(database), postgres.socket_url(database)
    # One notebook at a time: Python 3.11.7's ast.parse is not thread-safe
    # (CPython gh-106905), and the integrity scan runs in --jobs threads.
    options = ("--jobs", "1", "--timeout", "60", "--seed", "7")
    first = write_class(folder / "first", {
        "ada": lesson_notebook(root, "solutions"),
        "bea": partly_correct(root)})
    _, first_rows = run_grading(root, first, folder / "out1",
                                "--db-url", url, *options)
    read_first = read_back(url, ("ada", "bea"))
    with open_gradebook(url) as gradebook:
        after_first = {student: cell_scores(gradebook, student)
                       for student in ("ada", "bea")}
    counts_first = submission_counts(url)
    second = write_class(folder / "second", {
        "ada": partly_correct(root),
        "cy": lesson_notebook(root, "notebooks")})
    _, second_rows = run_grading(root, second, folder / "out2",
                                 "--db-url", socket_url, *options)
    return types.SimpleNamespace(
        url=url, socket_url=socket_url, first_rows=first_rows,
        second_rows=second_rows, after_first=after_first,
        read_first=read_first,
        counts_first=counts_first, out1=folder / "out1",
        out2=folder / "out2")


def test_every_score_reads_back_from_postgres(runs):
    assert {row["status"] for row in runs.first_rows} == {"graded"}
    assert runs.counts_first == {("ada", LESSON): 1, ("bea", LESSON): 1}
    assert_matches_csv(runs.read_first, runs.first_rows, runs.out1)


def test_regrading_replaces_and_other_students_stay(runs):
    assert {row["status"] for row in runs.second_rows} == {"graded"}
    assert submission_counts(runs.url) == {
        ("ada", LESSON): 1, ("bea", LESSON): 1, ("cy", LESSON): 1}
    assert_matches_csv(read_back(runs.url, ("ada", "cy")),
                       runs.second_rows, runs.out2)
    with open_gradebook(runs.url) as gradebook:
        # bea was not in run 2: her submission is the very same row.
        assert cell_scores(gradebook, "bea") == runs.after_first["bea"]
        # ada's was replaced by run 2's (partly correct now).
        ada_id, ada_scores = cell_scores(gradebook, "ada")
        assert ada_id != runs.after_first["ada"][0]
        assert ada_scores != runs.after_first["ada"][1]
        assert sorted(student.id for student in gradebook.students) == \
            ["ada", "bea", "cy"]


def test_formgrader_queries_work_on_postgres(runs):
    """The queries behind the formgrader's pages (PostgreSQL is stricter
    than SQLite about GROUP BY: nbgrader PR #380)."""
    scores = {row["student"]: float(row["score"])
              for row in runs.second_rows}
    with open_gradebook(runs.url) as gradebook:
        submissions = {item["student"]: item
                       for item in gradebook.submission_dicts(LESSON)}
        assert set(submissions) == {"ada", "bea", "cy"}
        for student, score in scores.items():
            assert round(submissions[student]["score"], 2) == score
        notebooks = gradebook.notebook_submission_dicts(LESSON, LESSON)
        assert len(notebooks) == 3
        assert {item["id"] for item in gradebook.student_dicts()} == \
            {"ada", "bea", "cy"}


def test_two_graders_at_once_into_a_new_database(runs, postgres):
    """Two runs' gradebooks written at the same moment into an empty
    database: nbgrader creates its tables once, both classes land."""
    url = postgres.url(postgres.create_database("at_once"))
    errors = []

    def publish(output):
        try:
            merge.publish(output / "gradebook.db", url)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=publish, args=(output,))
               for output in (runs.out1, runs.out2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert submission_counts(url) == {
        ("ada", LESSON): 1, ("bea", LESSON): 1, ("cy", LESSON): 1}


def test_timestamps_survive_and_changed_cells_are_refused(runs, postgres,
                                                         tmp_path):
    from nbgrader.api import Gradebook

    url = postgres.socket_url(postgres.create_database("changed"))
    copy = tmp_path / "gradebook.db"
    shutil.copy(runs.out1 / "gradebook.db", copy)
    when = datetime(2025, 3, 1, 12, 30, 5)
    with Gradebook(f"sqlite:///{copy}") as gradebook:
        gradebook.find_submission(LESSON, "ada").timestamp = when
        gradebook.db.commit()
    merge.publish(copy, url)
    with open_gradebook(url) as gradebook:
        assert gradebook.find_submission(LESSON, "ada").timestamp == when
    # The lesson gains a graded cell after submissions were written:
    # nbgrader refuses such a change, and so does --db-url.
    with Gradebook(f"sqlite:///{copy}") as gradebook:
        gradebook.add_grade_cell("test_new", LESSON, LESSON, max_score=1,
                                 cell_type="code")
    with pytest.raises(RuntimeError, match="cells changed"):
        merge.publish(copy, url)


def test_url_forms():
    for given in ("postgresql://u:secret@db.example/course",
                  "postgres://u:secret@db.example/course"):
        url = merge.database_url(given)
        assert url.drivername == "postgresql+psycopg"
        assert "secret" not in merge.shown(url)
    assert merge.database_url("postgresql+psycopg://u@h/c").drivername == \
        "postgresql+psycopg"
    assert merge.database_url("sqlite:///x.db").drivername == "sqlite"
    for wrong, reason in (("postgresql+asyncpg://u@h/c", "asyncio"),
                          ("mysql://u:secret@h/c", "only PostgreSQL"),
                          ("no url secret", "not a database URL")):
        with pytest.raises(ValueError, match=reason) as error:
            merge.database_url(wrong)
        assert "secret" not in str(error.value)


def test_a_wrong_database_stops_the_run_before_grading(root, postgres,
                                                       tmp_path):
    import psycopg

    foreign = postgres.create_database("jupyterhub")
    with psycopg.connect(host=str(postgres.folder), port=postgres.port,
                         user=USER, dbname=foreign,
                         autocommit=True) as connection:
        connection.execute("CREATE TABLE alembic_version "
                           "(version_num VARCHAR(32) NOT NULL)")
        # a JupyterHub database's revision
        connection.execute(
            "INSERT INTO alembic_version VALUES ('833da8570507')")
    closed = f"postgresql://u:secret@127.0.0.1:{free_port()}/course"
    for url, reason in ((closed, "cannot open the gradebook database"),
                        (postgres.url(foreign), "database of its own")):
        result = subprocess.run(
            [sys.executable, "-m", "trusted_grader", "grade", str(tmp_path),
             "--output", str(tmp_path / "out"), "--db-url", url],
            cwd=root, capture_output=True, text=True, timeout=120)
        assert result.returncode == 2
        assert reason in result.stderr
        assert "secret" not in result.stderr
        assert not (tmp_path / "out").exists()
