"""Late work and resumable runs of `python -m trusted_grader grade`.

The cheap parts (the deadline, the extensions file, the penalty rule,
where a submission's time comes from, the course fingerprints, the lock)
are tested directly. One small lesson-02 class (the lightest lesson to
grade) is then graded several times into one output folder:

1. a run killed with `kill -9` of its whole process group once some
   notebooks are recorded; nothing of it may run on;
2. the same command again: it grades only what was not recorded, reuses
   the rest and the first run's seed, and applies the late-work rule
   (on time by timestamp.txt, late within the cap, past the cut-off, on
   time thanks to an extension; the cap is tested on the rule alone);
3. one submission changed: only that one is graded;
4. the lesson's solution changed: the lesson is graded again;
5. nothing changed (from the folder, then from a zip of it): nothing is
   graded, every row is the same.
"""

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest
from helpers import LESSON02, cell, exercise_points, lesson_notebook

from trusted_grader.batch import cli, lateness, resume, submissions
from trusted_grader.batch.settings import GradingSettings
from trusted_grader.export import canvas, merge

LESSON = LESSON02
DEADLINE = datetime(2025, 3, 7, 23, 59, tzinfo=timezone(timedelta(hours=1)))
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# The solution notebook's autograded points (2 more await a human).
FULL = 12.0
# What the rows' raw scores may be: lesson 02's check of conv2d_fast's
# speed can cost an honest notebook points on a machine shared with other
# work, so the tests relate the scores to each other rather than to FULL.
RULE = ("--deadline", DEADLINE.isoformat(), "--late-max-percent", "50",
        "--late-cutoff-days", "7")
# When each student submitted, and what the rule makes of it.
SUBMITTED = {
    "ada": DEADLINE - 2 * HOUR,  # by nbgrader's timestamp.txt: on time
    "bea": DEADLINE + 26 * HOUR,  # 2 started days: 20% off
    "dee": DEADLINE + 8 * DAY,  # past the 7-day cut-off: 0
    "eve": DEADLINE + 30 * HOUR,  # but 48 hours of extension: on time
}
EXPECTED = {  # student: (status, hours late, penalty %, source)
    "ada": ("graded", 0.0, 0.0, "timestamp.txt"),
    "bea": ("late", 26.0, 20.0, "file"),
    "dee": ("late", 192.0, 100.0, "file"),
    "eve": ("graded", 0.0, 0.0, "file"),
}


# ------------------------------------------------- settings and rules ---

def settings(**values):
    return GradingSettings(**values)


def test_a_deadline_without_time_zone_stops_the_run(tmp_path, capsys):
    output = tmp_path / "out"
    status = cli.main(["grade", str(tmp_path), "--output", str(output),
                       "--deadline", "2025-03-07T23:59"])
    assert status == 2
    error = capsys.readouterr().err
    assert "--deadline '2025-03-07T23:59' has no time zone" in error
    assert not output.exists()  # nothing was graded


@pytest.mark.parametrize("text, message", [
    ("name,extra_hours\nada,5\n", "line 1: expected a header row"),
    ("student,extra_hours,deadline\nada,,\n",
     "line 2: give either extra_hours or deadline"),
    ("student,extra_hours\nada,5\n\nbea,soon\n",
     "line 4: extra_hours 'soon' is not a number"),
    ("student,extra_hours\nada,-1\n", "line 2: extra_hours '-1'"),
    ("student,deadline\nada,2025-03-09T12:00\n",
     "line 2: deadline '2025-03-09T12:00' has no time zone"),
    ("student,deadline\nada,2025-03-01T12:00Z\n",
     "line 2: deadline 2025-03-01T12:00Z is before --deadline"),
    ("student,extra_hours\nada,5\nada,6\n",
     "line 3: a second row for ada (line 2)"),
    ("student,lesson,extra_hours\nada,05_nope,5\n",
     "line 2: unknown lesson '05_nope'"),
    ("student,extra_hours\nada/x,5\n", "line 2: 'ada/x' is not a student"),
])
def test_extension_files_are_checked_line_by_line(tmp_path, text, message):
    path = tmp_path / "extensions.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(lateness.LateWorkError) as error:
        lateness.read_extensions(path, DEADLINE, [LESSON])
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_extensions_by_hours_or_deadline_and_by_lesson(tmp_path):
    path = tmp_path / "extensions.csv"
    path.write_text("\ufeffStudent,Lesson,Extra_Hours,Deadline\n"
                    "ada,,48,\n"
                    f"ada,{LESSON},,2025-03-20T12:00Z\n"
                    "bea,,0.5,\n", encoding="utf-8")
    rule = lateness.policy(settings(deadline=DEADLINE.isoformat(),
                                    extensions=str(path)), [LESSON])
    assert rule.deadline_for("ada", LESSON) == datetime(
        2025, 3, 20, 12, tzinfo=timezone.utc)
    assert rule.deadline_for("ada", "01_dense_translation") == \
        DEADLINE + 2 * DAY
    assert rule.deadline_for("bea", LESSON) == DEADLINE + HOUR / 2
    assert rule.deadline_for("cy", LESSON) == DEADLINE


@pytest.mark.parametrize("values, message", [
    ({"extensions": "x.csv"}, "--extensions needs --deadline"),
    ({"late_max_percent": 120.0}, "--late-max-percent 120"),
    ({"late_percent_per_day": -1.0}, "--late-percent-per-day -1"),
    ({"zip_timezone": "Mars/Olympus"}, "--zip-timezone 'Mars/Olympus'"),
    ({"deadline": "tomorrow"}, "is not an ISO 8601 date-time"),
])
def test_bad_late_settings_say_what_is_wrong(values, message):
    with pytest.raises(lateness.LateWorkError, match=message):
        lateness.policy(settings(**values), [LESSON])


def test_the_penalty_rule():
    rule = lateness.Policy(percent_per_day=10, max_percent=50,
                           cutoff_days=7, grace_seconds=600)
    hours = 3600
    assert rule.penalty(5 * 60)[0] == 0  # within the grace period
    assert rule.penalty(11 * 60)[0] == 10  # a started day
    assert rule.penalty(26 * hours)[0] == 20
    assert rule.penalty(5 * 24 * hours + 1)[0] == 50  # 60%, capped
    assert "the maximum" in rule.penalty(5 * 24 * hours + 1)[1]
    assert rule.penalty(7 * 24 * hours)[0] == 50  # the cut-off day itself
    assert rule.penalty(7 * 24 * hours + 1) == (
        100.0, "more than 7 days late (the cut-off): scored 0")
    pro_rata = lateness.Policy(percent_per_day=10, rounding="pro_rata")
    assert pro_rata.penalty(36 * hours)[0] == pytest.approx(15)


def test_nbgrader_timestamps_are_read():
    utc = timezone.utc
    assert lateness.parse_timestamp("2025-03-07 21:59:00.123456 UTC") == \
        datetime(2025, 3, 7, 21, 59, 0, 123456, tzinfo=utc)
    assert lateness.parse_timestamp("2025-03-07 22:59:00 +0100") == \
        datetime(2025, 3, 7, 21, 59, tzinfo=utc)
    assert lateness.parse_timestamp("2025-03-07 22:59:00 Europe/Berlin") \
        == datetime(2025, 3, 7, 21, 59, tzinfo=utc)
    assert lateness.parse_timestamp("2025-03-07T21:59:00") == \
        datetime(2025, 3, 7, 21, 59, tzinfo=utc)  # no zone: UTC
    for text in ("", "soon", "2025-03-07 21:59:00 PST"):
        with pytest.raises(ValueError):
            lateness.parse_timestamp(text)


def write_zip(path, members):
    """members: (name, bytes, DOS date_time, extra field bytes)."""
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data, when, extra in members:
            info = zipfile.ZipInfo(name, date_time=when)
            info.extra = extra
            zipped.writestr(info, data)


def test_where_submission_times_come_from(root, tmp_path):
    notebook = nbformat.writes(lesson_notebook(root, "notebooks", LESSON))
    folder = tmp_path / "class"
    stamped = folder / "ada" / LESSON
    stamped.mkdir(parents=True)
    (stamped / f"{LESSON}.ipynb").write_text(notebook, encoding="utf-8")
    (stamped / "timestamp.txt").write_text(
        "2025-03-07 21:00:00.000000 UTC", encoding="utf-8")
    broken = folder / "bea" / LESSON
    broken.mkdir(parents=True)
    (broken / f"{LESSON}.ipynb").write_text(notebook, encoding="utf-8")
    (broken / "timestamp.txt").write_text("yesterday", encoding="utf-8")
    (folder / f"cy_{LESSON}.ipynb").write_text(notebook, encoding="utf-8")
    file_time = datetime(2025, 3, 9, 8, 30, tzinfo=timezone.utc)
    for path in (broken / f"{LESSON}.ipynb", folder / f"cy_{LESSON}.ipynb"):
        os.utime(path, (file_time.timestamp(),) * 2)
    gradable, _ = submissions.collect(folder, [LESSON])
    times = lateness.submission_times(gradable)
    assert times[("ada", LESSON)] == lateness.SubmissionTime(
        datetime(2025, 3, 7, 21, tzinfo=timezone.utc), "timestamp.txt")
    assert times[("bea", LESSON)].when == file_time
    assert times[("bea", LESSON)].source == "file"
    assert "timestamp.txt not used: 'yesterday' is not a time" in \
        times[("bea", LESSON)].note
    assert times[("cy", LESSON)] == lateness.SubmissionTime(file_time,
                                                            "file")

    # From a zip: timestamp.txt, then the member's time, in --zip-timezone
    # unless the member has Info-ZIP's extended timestamp (UTC).
    archive = tmp_path / "download.zip"
    utc_time = datetime(2025, 3, 8, 1, 2, 4, tzinfo=timezone.utc)
    extended = b"UT\x05\x00\x01" + int(utc_time.timestamp()).to_bytes(
        4, "little")
    data = notebook.encode()
    write_zip(archive, [
        (f"sub/ada/{LESSON}/{LESSON}.ipynb", data, (2025, 3, 9, 0, 0, 0),
         b""),
        (f"sub/ada/{LESSON}/timestamp.txt",
         b"2025-03-07 21:00:00.000000 UTC", (2025, 3, 9, 0, 0, 0), b""),
        (f"sub/cy_{LESSON}.ipynb", data, (2025, 3, 8, 1, 2, 4), b""),
        (f"sub/dee_{LESSON}.ipynb", data, (2025, 3, 9, 0, 0, 0), extended),
    ])
    unpacked, refused = submissions.extract_zip(archive, tmp_path / "out")
    assert refused == []
    gradable, _ = submissions.collect(unpacked, [LESSON])
    berlin = lateness.zip_zone("Europe/Berlin")
    times = lateness.submission_times(gradable, archive, unpacked, berlin)
    assert times[("ada", LESSON)].source == "timestamp.txt"
    assert times[("ada", LESSON)].when == datetime(2025, 3, 7, 21,
                                                   tzinfo=timezone.utc)
    assert times[("cy", LESSON)] == lateness.SubmissionTime(
        datetime(2025, 3, 8, 0, 2, 4, tzinfo=timezone.utc), "zip")
    assert times[("dee", LESSON)] == lateness.SubmissionTime(utc_time,
                                                             "zip")


def test_fingerprints_follow_each_lessons_solutions(root, tmp_path):
    solutions = tmp_path / "solutions"
    for lesson in ("01_dense_translation", LESSON):
        shutil.copytree(root / "solutions" / lesson, solutions / lesson)
    lessons = ["01_dense_translation", LESSON]
    base = resume.course_fingerprints(
        settings(solutions=str(solutions), seed=1), lessons)
    assert base == resume.course_fingerprints(
        settings(solutions=str(solutions), seed=1, jobs=2,
                 deadline="2025-03-07T23:59Z"), lessons)
    path = solutions / LESSON / f"{LESSON}.ipynb"
    path.write_bytes(path.read_bytes().replace(b"29", b"30", 1))
    changed = resume.course_fingerprints(
        settings(solutions=str(solutions), seed=1), lessons)
    assert changed[LESSON] != base[LESSON]
    assert changed["01_dense_translation"] == base["01_dense_translation"]
    for other in ({"seed": 2}, {"seed": 1, "timeout": 60}):
        different = resume.course_fingerprints(
            settings(solutions=str(solutions), **other), lessons)
        assert set(different.values()).isdisjoint(changed.values())


def test_one_run_at_a_time_per_output_folder(tmp_path):
    grading_settings = settings(solutions=str(tmp_path))
    with resume.UnitStore(tmp_path, grading_settings, []):
        with pytest.raises(resume.OutputInUse, match="another grading run"):
            with resume.UnitStore(tmp_path, grading_settings, []):
                pass
    with resume.UnitStore(tmp_path, grading_settings, []):
        pass  # free again


def test_a_runs_seed_is_kept_for_the_next(tmp_path):
    from trusted_grader.batch.grading import _choose_seed

    first = settings()
    assert _choose_seed(first, tmp_path) == "fresh"
    resume.remember_seed(tmp_path, first.seed)
    again = settings()
    assert _choose_seed(again, tmp_path) == "reused"
    assert again.seed == first.seed
    given = settings(seed=5)
    assert _choose_seed(given, tmp_path) == "given" and given.seed == 5


# ------------------------------------------------------ grading runs ---

@pytest.fixture(scope="module")
def course(root, tmp_path_factory):
    """A copy of lesson 02's solutions, a class of four students who hand
    in the solution notebook at the SUBMITTED times plus an unreadable
    file, and eve's extension."""
    base = tmp_path_factory.mktemp("late-and-resume")
    solutions = base / "solutions"
    shutil.copytree(root / "solutions" / LESSON, solutions / LESSON)
    folder = base / "class"
    stamped = folder / "ada" / LESSON
    stamped.mkdir(parents=True)
    notebook = lesson_notebook(root, "solutions", LESSON)
    nbformat.write(notebook, stamped / f"{LESSON}.ipynb")
    (stamped / "timestamp.txt").write_text(
        SUBMITTED["ada"].astimezone(timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S.%f %Z"), encoding="utf-8")
    for student in ("bea", "dee", "eve"):
        path = folder / f"{student}_{LESSON}.ipynb"
        nbformat.write(notebook, path)
        when = SUBMITTED[student].timestamp()
        os.utime(path, (when, when))
    (folder / f"fay_{LESSON}.ipynb").write_text("{ not json",
                                                encoding="utf-8")
    extensions = base / "extensions.csv"
    extensions.write_text("student,extra_hours\neve,48\n", encoding="utf-8")
    return {"base": base, "solutions": solutions, "class": folder,
            "output": base / "output",
            "options": ("--solutions", str(solutions), "--jobs", "2",
                        "--timeout", "60", *RULE,
                        "--extensions", str(extensions))}


def command(course, source=None, *options):
    return [sys.executable, "-m", "trusted_grader", "grade",
            str(source or course["class"]), "--output",
            str(course["output"]), *course["options"], *options]


def run(root, course, source=None, *options):
    """One run; (stdout, {(student, lesson): grades.csv row})."""
    result = subprocess.run(command(course, source, *options), cwd=root,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, read_rows(course["output"])


def read_rows(output):
    with open(output / "grades.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    keys = [(row["student"], row["lesson"]) for row in rows]
    assert len(keys) == len(set(keys)), "a row written twice"
    return dict(zip(keys, rows))


def records(output):
    return sorted(path.parent.name for path in
                  (output / "state" / "units").glob("*/record.json"))


def session_processes(session):
    """{pid: start time} of the processes in a session."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:
            found[int(stat.parent.name)] = fields[19]
    return found


def still_running(processes):
    alive = []
    for pid, started in processes.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(
                ")", 1)[1].split()
        except OSError:
            continue
        if fields[19] == started and fields[0] != "Z":
            alive.append(pid)
    return alive


@pytest.fixture(scope="module")
def killed(root, course):
    """The first run, killed with SIGKILL to its process group once two
    notebooks are recorded: (records left, processes of its session)."""
    process = subprocess.Popen(command(course, None, "--seed", "5"),
                               cwd=root, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL,
                               start_new_session=True)
    output = course["output"]
    deadline = time.monotonic() + 600
    try:
        while len(records(output)) < 2 and time.monotonic() < deadline:
            assert process.poll() is None, "the run ended before the kill"
            time.sleep(0.1)
        processes = session_processes(process.pid)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert records(output), "no notebook was recorded in 10 minutes"
    return records(output), processes


@pytest.fixture(scope="module")
def resumed(root, course, killed):
    """The same command again, without --seed."""
    return run(root, course)


def counts(stdout):
    """(graded now, reused) from the run's summary."""
    line = next(line for line in stdout.splitlines()
                if "graded in this run" in line)
    words = line.split()
    return int(words[0]), int(words[words.index("reused") - 1])


def test_a_killed_run_leaves_nothing_running(killed):
    _, processes = killed
    assert len(processes) > 2  # the command, its forkserver, its units
    # They die with the command: none runs on to finish its notebook.
    deadline = time.monotonic() + 5
    while still_running(processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert still_running(processes) == []


def test_the_rerun_resumes_where_the_killed_run_stopped(killed, resumed,
                                                       course):
    recorded, _ = killed
    stdout, rows = resumed
    students = ["ada", "bea", "dee", "eve", "fay"]
    assert sorted(rows) == [(student, LESSON) for student in students]
    assert 2 <= len(recorded) < 4  # killed mid-way
    # Reused: so the run took the killed run's seed (given as --seed 5).
    assert counts(stdout) == (4 - len(recorded), len(recorded))
    assert resume.stored_seed(course["output"]) == 5
    assert records(course["output"]) == sorted(
        f"{student}__{LESSON}" for student in students[:4])
    for name in recorded:
        student = name.split("__")[0]
        log = course["output"] / "logs" / f"{student}_{LESSON}.log"
        assert log.is_file()
        feedback = (course["output"] / "feedback" / student / LESSON /
                    f"{LESSON}.html")
        assert feedback.is_file()


def test_late_rows_carry_their_time_lateness_and_both_scores(resumed):
    _, rows = resumed
    for student, (status, hours, penalty, source) in EXPECTED.items():
        row = rows[(student, LESSON)]
        assert row["status"] == status, row
        assert row["time_source"] == source
        assert datetime.fromisoformat(row["submitted_at"]) == \
            SUBMITTED[student]
        assert row["submitted_at"].endswith("+01:00")  # the deadline's
        assert float(row["hours_late"]) == hours
        assert float(row["penalty_percent"]) == penalty
        raw = float(row["score_before_penalty"])
        assert FULL - 3 <= raw <= FULL
        assert float(row["score"]) == round(raw * (100 - penalty) / 100, 2)
    assert datetime.fromisoformat(rows[("eve", LESSON)]["deadline"]) == \
        DEADLINE + 2 * DAY
    assert datetime.fromisoformat(rows[("bea", LESSON)]["deadline"]) == \
        DEADLINE
    assert "2 started days x 10% = 20% off" in rows[("bea", LESSON)][
        "detail"]
    assert "the cut-off" in rows[("dee", LESSON)]["detail"]
    fay = rows[("fay", LESSON)]
    assert fay["status"] == "invalid_notebook" and fay["score"] == "0"
    assert fay["submitted_at"] == fay["hours_late"] == ""


def test_gradebooks_and_canvas_get_the_score_after_the_penalty(
        resumed, course, tmp_path):
    """nbgrader's own fields: `nbgrader export` computes score - penalty,
    which equals grades.csv's score; a shared gradebook (--db-url) keeps
    them; the Canvas hand-off fills the same score."""
    from nbgrader.api import Gradebook

    _, rows = resumed
    shared = tmp_path / "shared.db"
    merge.publish(course["output"] / "gradebook.db", f"sqlite:///{shared}")
    for path in (course["output"] / "gradebook.db", shared):
        with Gradebook(f"sqlite:///{path}") as gradebook:
            assert gradebook.find_assignment(LESSON).duedate == \
                DEADLINE.astimezone(timezone.utc).replace(tzinfo=None)
            for student in EXPECTED:
                submission = gradebook.find_submission(LESSON, student)
                row = rows[(student, LESSON)]
                final = float(row["score"])
                assert submission.score == pytest.approx(
                    float(row["score_before_penalty"]))
                assert submission.score - \
                    submission.late_submission_penalty == \
                    pytest.approx(final)
                assert submission.timestamp == SUBMITTED[student].astimezone(
                    timezone.utc).replace(tzinfo=None)
            assert gradebook.find_submission(LESSON, "eve").extension == \
                timedelta(hours=48)
    export = tmp_path / "canvas.csv"
    export.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,"
        "Lesson 02 - Convolution by hand (1002)\n"
        "    Points Possible,,,,,14.00\n"
        "\"Brown, Bea\",102,S002,bea,A,\n"
        "\"Diaz, Dee\",104,S004,dee,A,\n", encoding="utf-8")
    text, report = canvas.fill(canvas.read_export(export), rows.values())
    filled = {row["SIS Login ID"]: row[
        "Lesson 02 - Convolution by hand (1002)"]
        for row in csv.DictReader(io.StringIO(text))}
    assert filled == {"": "14.00", "bea": rows[("bea", LESSON)]["score"],
                      "dee": "0"}
    assert float(filled["bea"]) < float(
        rows[("bea", LESSON)]["score_before_penalty"])
    assert report.held_back == []


@pytest.fixture(scope="module")
def changed_submission(root, course, resumed):
    """bea hands in a notebook with conv_output_size broken, at the same
    time."""
    path = course["class"] / f"bea_{LESSON}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    cell(notebook, "conv_output_size").source = (
        "def conv_output_size(n, k, stride=1, padding=0):\n    return 1\n")
    nbformat.write(notebook, path)
    when = SUBMITTED["bea"].timestamp()
    os.utime(path, (when, when))
    stdout, rows = run(root, course)
    return stdout, rows


def test_a_changed_submission_is_graded_again_alone(resumed, course,
                                                   changed_submission):
    _, before = resumed
    stdout, rows = changed_submission
    assert counts(stdout) == (1, 3)
    bea = rows[("bea", LESSON)]
    assert bea["graded_at"] > before[("bea", LESSON)]["graded_at"]
    assert sum(exercise_points(course["output"], "bea", LESSON,
                               "conv_output_size")) < sum(exercise_points(
        course["output"], "ada", LESSON, "conv_output_size")) == 2
    assert float(bea["score"]) == round(
        float(bea["score_before_penalty"]) * 0.8, 2)
    for key, row in rows.items():
        if key != ("bea", LESSON):
            assert row == before[key]


@pytest.fixture(scope="module")
def changed_solution(root, course, changed_submission):
    """A note added to the lesson's solution notebook."""
    path = course["solutions"] / LESSON / f"{LESSON}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("A note."))
    nbformat.write(notebook, path)
    return run(root, course)


def test_a_changed_solution_grades_its_lesson_again(changed_submission,
                                                    changed_solution):
    _, before = changed_submission
    stdout, rows = changed_solution
    assert counts(stdout) == (4, 0)
    for student in EXPECTED:
        row, old = rows[(student, LESSON)], before[(student, LESSON)]
        assert row["graded_at"] > old["graded_at"]
        assert row["status"] == old["status"]


def test_nothing_changed_nothing_is_graded(root, course, changed_solution,
                                          tmp_path):
    _, before = changed_solution
    stdout, rows = run(root, course)
    assert counts(stdout) == (0, 4)
    assert rows == before
    # The store reuses every unit; with --regrade, none.
    options = settings(solutions=str(course["solutions"]),
                       timeout=60, seed=5)
    for regrade, reused in ((False, 4), (True, 0)):
        options.regrade = regrade
        gradable, _ = submissions.collect(course["class"], [LESSON])
        with resume.UnitStore(course["output"], options, [LESSON]) as store:
            assert len(store.split(gradable)[1]) == reused
    # The same class as an LMS zip, its members dated in Berlin time.
    archive = tmp_path / "class.zip"
    berlin = lateness.zip_zone("Europe/Berlin")
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(course["class"].rglob("*")):
            if path.is_file():
                name = str(path.relative_to(course["class"]))
                when = SUBMITTED.get(name.split("_")[0].split("/")[0],
                                     DEADLINE)
                info = zipfile.ZipInfo(name, date_time=when.astimezone(
                    berlin).timetuple()[:6])
                zipped.writestr(info, path.read_bytes())
    stdout, rows = run(root, course, archive, "--zip-timezone",
                       "Europe/Berlin")
    assert counts(stdout) == (0, 4)
    for key, row in rows.items():
        expected = {**before[key]}
        if expected["time_source"] == "file":
            expected["time_source"] = "zip"
        assert row == expected
