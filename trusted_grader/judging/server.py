"""The trusted judge: scores a lesson from the kernel's recorded answers.

No learner code runs here. For each lesson of a grading run the judge

1. lists the graded calls (`LessonJudge.collect`): it runs every visible
   check and every hidden check with a `replay.Collector` in place of the
   learner's function, on inputs made from the run's seed, and writes
   those inputs (data only) to INPUTS/<lesson>/<cell>.*, the folder the
   kernel reads when graded;
2. judges one submission (`LessonJudge.judge`): after its kernel has
   answered the calls (ANSWERS/<cell>.*), it runs the same checks again
   with a `replay.Replay` that returns the recorded answers, reads the
   answers as data (no pickles; Keras models with ``safe_mode=True``), and
   gives each test cell its points and the checks' messages.

A visible test cell earns its point when its fixed cases pass *and* at
least one hidden case on fresh inputs passes (a function written for the
visible cases only gets nothing). An exercise whose function returns
zeros, a constant or its input for every hidden call gets nothing.

`python -m trusted_grader.judging.server --serve ...` runs the judge as a
server (one per grading run, confined by the grader's sandbox, its address
space capped by --memory-mb), the other end of the pipe whose grading side is
`trusted_grader.batch.judge_client`: it collects the calls, prints one JSON
line when ready, then answers one JSON request per line on standard input with
one JSON line.

A lesson's inputs are written once per run: each file whole, then
MANIFEST (the calls' fingerprints and each file's SHA-256), then READY. A
judge started again in the same run (after one died or was stopped) finds
READY, lists the calls again into a private folder and checks the files
against them instead of rewriting what kernels may be reading.
"""

import argparse
import contextlib
import functools
import hashlib
import importlib
import io
import json
import os
import sys
import tempfile
import time
import warnings
import zlib
from pathlib import Path

import nbformat
import numpy as np

from autograder import answers
from autograder.feedback import FAIL_MARK, CheckFailure
from autograder.recorder import FAILED, READY
from cnn_course.messages import ENGLISH, t, use_language
from trusted_grader.judging import reference, replay

# Beside a lesson's inputs: the calls' fingerprints and each input file's
# SHA-256, written after the files and before READY.
MANIFEST = "manifest.json"


def no_answers():
    """The feedback of a test cell whose kernel recorded no answers."""
    return t("no answers were recorded for this cell: it did not reach "
             "the check (an error earlier in the cell or the notebook?)")


def lesson_module(lesson):
    """The kernel-side checks of a lesson: 01_dense_translation -> 01."""
    return importlib.import_module(f"autograder.lesson{lesson[:2]}")


def hidden_module(lesson):
    return importlib.import_module(f"trusted_grader.judging.hidden.lesson"
                                   f"{lesson[:2]}")


def exercise_rng(seed, lesson, name):
    """The generator of one exercise's hidden inputs in a grading run."""
    return np.random.default_rng(
        [int(seed), zlib.crc32(f"{lesson}/{name}".encode())])


def cell_points(lesson, solutions=None):
    """{grade_id: points} of the lesson's test cells, from solutions/."""
    path = reference.solution_notebook(lesson, solutions)
    notebook = nbformat.read(path, as_version=4)
    points = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and \
                cell.cell_type == "code":
            points[meta["grade_id"]] = float(meta.get("points", 0))
    return points


def load_model(path):
    """A learner's saved Keras model, or a stand-in saying why not.

    The file is checked before Keras opens it (`model_limits.file_problem`:
    declared member sizes, names, count and compression, the config's
    declared parameters, the weights' declared datasets); one over a limit
    raises CheckFailure naming the limit, so the check's case that asked
    for this answer scores 0 with that message, and nothing of the file
    is decompressed or allocated.
    """
    from cnn_course import import_tensorflow
    from trusted_grader.judging import model_limits

    problem = model_limits.file_problem(path)
    if problem:
        raise CheckFailure(t("the model it returned was not opened: {why}",
                             why=problem))
    keras = import_tensorflow()[1]
    try:
        with contextlib.redirect_stdout(io.StringIO()), \
                warnings.catch_warnings():
            # The optimizer's saved state does not matter to any check.
            warnings.simplefilter("ignore")
            return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:
        return answers.unsupported(
            "UnloadableModel", f"{type(error).__name__}: {error}")


def _run_captured(function):
    """(result, printed text, CheckFailure message or None)."""
    output = io.StringIO()
    failure = None
    result = None
    with contextlib.redirect_stdout(output), np.errstate(all="ignore"):
        try:
            result = function()
        except CheckFailure as error:
            failure = error.message
        except Exception as error:  # a check must never stop the judge
            failure = t("the check could not judge this answer: "
                        "{error_type}: {error}",
                        error_type=type(error).__name__, error=error)
    return result, output.getvalue(), failure


class LessonJudge:
    """Collects and judges the graded calls of one lesson."""

    def __init__(self, lesson, seed, inputs=None, solutions=None):
        self.lesson, self.seed = lesson, int(seed)
        self.inputs = Path(inputs) / lesson if inputs else None
        self.checks = lesson_module(lesson)
        self.hidden = hidden_module(lesson)
        self.ref = reference.load(lesson, solutions)
        self.points = cell_points(lesson, solutions)
        self.keys = {}

    @property
    def exercises(self):
        return self.checks.EXERCISES

    def _visible(self, name):
        return getattr(self.checks, name).__wrapped__

    def _hidden(self, name):
        return getattr(self.hidden, f"hidden_{name}")

    def _hidden_points(self, name):
        return self.points.get(f"hidden_{name}", 1.0)

    def _run_hidden(self, name, func):
        points = self._hidden_points(name)
        rng = exercise_rng(self.seed, self.lesson, name)
        return self._hidden(name)(func, points, rng)

    def collect(self):
        """List every graded call; write its inputs for the kernel, or
        check those an earlier judge of the run wrote.

        Written: each file whole (`answers.write_whole`), then MANIFEST,
        then READY, which kernels wait for (autograder.recorder). If READY
        is already there, the files are never rewritten (a kernel may be
        reading them): the calls are listed into a private folder and
        compared with the files (`verify_inputs`; InputsMismatch if they
        differ). `self.inputs_state` is then "verified", else "written"
        (None without an inputs folder).
        """
        self.inputs_state = None
        if self.inputs is not None and (self.inputs / READY).exists():
            with tempfile.TemporaryDirectory(prefix="judge-verify-") as \
                    listed:
                self._list_calls(Path(listed))
                verify_inputs(self.inputs, Path(listed), self.keys)
            self.inputs_state = "verified"
            return self.keys
        self._list_calls(self.inputs)
        if self.inputs is not None:
            write_manifest(self.inputs, self.keys)
            answers.write_whole(self.inputs / READY,
                                lambda file: file.write(b"ready\n"))
            self.inputs_state = "written"
        return self.keys

    def _list_calls(self, folder):
        """Run every check with a Collector; write the inputs to `folder`
        (None: keep only the calls' fingerprints, in self.keys)."""
        with replay.collection():
            for name in self.exercises:
                for cell, check in (
                        (f"test_{name}", self._visible(name)),
                        (f"hidden_{name}",
                         functools.partial(self._run_hidden, name))):
                    self._collect_cell(cell, name, check, folder)

    def _collect_cell(self, cell, name, check, folder):
        writer = answers.Writer(folder or "/nonexistent", cell)
        # A hidden module may list its calls with cheap stand-ins for
        # costly references (lesson 05's train_cnn: the starting weights,
        # not a training); the checks then only list, never judge.
        stand_ins = getattr(self.hidden, "collection_stand_ins", None)
        stand_in = stand_ins(self.ref).get(name) if stand_ins else None
        collector = replay.Collector(stand_in or getattr(self.ref, name),
                                     writer)
        _, _, failure = _run_captured(functools.partial(check, collector))
        if failure:
            raise RuntimeError(f"{self.lesson} {cell}: the reference "
                               f"fails its own check: {failure}")
        self.keys[cell] = collector.keys
        if folder is not None:
            collector.write(name)

    def _replay(self, cell, name, folder, timings):
        """A Replay of the recorded answers, or (None, why not)."""
        try:
            reader = answers.Reader(folder, cell, load_model=load_model)
        except answers.DataError as error:
            missing = str(error).endswith("is missing")
            return None, no_answers() if missing else \
                t("the recorded answers are unreadable: {error}",
                  error=error)
        record = reader.data if isinstance(reader.data, dict) else {}
        if not isinstance(record.get("answers"), list):
            return None, t("the recorded answers are malformed")
        if record.get("callable") is False:
            return answers.unsupported(record.get("type", "object")), None
        return replay.Replay(name, record, reader, self.keys[cell],
                             seconds=timings.get(cell)), None

    def judge(self, folder, library_findings=None):
        """{cell: {"score", "max_score", "output"}} for one submission.

        `folder` holds the kernel's answers; the grader's outside
        measurements of the test cells' durations are read from
        `outside_timings(folder)`. `library_findings` (the static scan's)
        only explain: from-scratch answers come from a kernel in which the
        libraries are absent, and no point depends on the scan.
        """
        del library_findings
        timings = outside_timings(folder)
        results = {}
        for name in self.exercises:
            hidden_cell, visible_cell = f"hidden_{name}", f"test_{name}"
            points = self._hidden_points(name)
            func, why_not = self._replay(hidden_cell, name, folder, timings)
            if func is None:
                earned, text = 0.0, f"{FAIL_MARK} {why_not}\n"
            else:
                earned, text, failure = _run_captured(
                    functools.partial(self._run_hidden, name, func))
                earned = float(earned or 0.0)
                if failure:
                    earned, text = 0.0, text + f"{FAIL_MARK} {failure}\n"
                degenerate = getattr(func, "degenerate", lambda: None)()
                if degenerate and earned > 0:
                    earned = 0.0
                    text += f"{FAIL_MARK} {degenerate}\n"
            results[hidden_cell] = {"score": earned, "max_score": points,
                                    "output": text}
            results[visible_cell] = self._judge_visible(
                name, folder, timings, hidden_earned=earned)
        return results

    def _judge_visible(self, name, folder, timings, hidden_earned):
        cell = f"test_{name}"
        maximum = self.points.get(cell, 1.0)
        func, why_not = self._replay(cell, name, folder, timings)
        if func is None:
            return {"score": 0.0, "max_score": maximum,
                    "output": f"{FAIL_MARK} {why_not}\n"}
        _, text, failure = _run_captured(lambda: self._visible(name)(func))
        if failure:
            lines = failure.splitlines()
            text += "\n".join([f"{FAIL_MARK} {lines[0]}",
                               *[f"  {line}" for line in lines[1:]]]) + "\n"
            return {"score": 0.0, "max_score": maximum, "output": text}
        if hidden_earned <= 0:
            text += FAIL_MARK + " " + t(
                "{name} passes the visible cases but none of the hidden "
                "cases on fresh inputs: this check gives no point.",
                name=name) + "\n"
            return {"score": 0.0, "max_score": maximum, "output": text}
        return {"score": maximum, "max_score": maximum, "output": text}


TIMINGS_FILE = "timings.json"


def outside_timings(answers_folder):
    """{cell: seconds} the grader measured outside the kernel, from
    TIMINGS_FILE beside the answers folder (where no kernel can write);
    {} if there is none."""
    path = Path(answers_folder).parent / TIMINGS_FILE
    try:
        if path.is_symlink() or path.stat().st_size > 100_000:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(cell): float(seconds) for cell, seconds in data.items()
            if isinstance(seconds, (int, float))
            and not isinstance(seconds, bool) and seconds >= 0}


# ------------------------------------------------------- the inputs ---

class InputsMismatch(RuntimeError):
    """A lesson's inputs on disk are not the calls the judge lists."""


def _input_files(folder):
    """{name: path} of a lesson's input files: every entry of `folder`
    but READY, FAILED, MANIFEST and temporary files (".*")."""
    return {path.name: path for path in sorted(Path(folder).iterdir())
            if not path.name.startswith(".")
            and path.name not in (READY, FAILED, MANIFEST)}


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_manifest(folder, keys):
    """FOLDER/MANIFEST: `keys` ({cell: call fingerprints}) and the SHA-256
    of every input file, written whole."""
    manifest = {"calls": keys,
                "files": {name: _sha256(path) for name, path
                          in _input_files(folder).items()}}
    text = json.dumps(manifest, indent=1).encode("utf-8")
    answers.write_whole(Path(folder) / MANIFEST,
                        lambda file: file.write(text))


def verify_inputs(folder, listed, keys):
    """Check that the inputs in `folder` are the calls just listed (their
    files in `listed`, their fingerprints `keys`); InputsMismatch if not.

    Checked: the manifest's fingerprints equal `keys`; the same files are
    in both folders; every file in `folder` still has the SHA-256 the
    manifest gave it when it was written; the JSON files are byte for
    byte and the arrays value for value those just listed. (A saved Keras
    model's bytes differ from save to save; its weights are in the
    fingerprints and its bytes in the manifest.) With the same seed, a
    difference means the files were changed or a bug: no submission can
    be judged fairly on them.
    """
    folder, listed = Path(folder), Path(listed)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(
            encoding="utf-8"))
        recorded = dict(manifest["files"])
        calls = manifest["calls"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputsMismatch(f"{folder.name}: {MANIFEST} is unreadable "
                             f"({type(error).__name__}: {error})") from None
    problems = []
    if calls != keys:
        problems.append("the calls' fingerprints differ from the "
                        "manifest's")
    on_disk, fresh = _input_files(folder), _input_files(listed)
    for name in sorted((set(fresh) | set(recorded)) - set(on_disk)):
        problems.append(f"{name} is missing")
    for name in sorted(set(on_disk) - set(fresh)):
        problems.append(f"{name} is not one of the listed inputs")
    for name in sorted(set(on_disk) - set(recorded)):
        problems.append(f"{name} is not in the manifest")
    for name, path in on_disk.items():
        if name not in recorded or name not in fresh:
            continue
        if not path.is_file() or path.is_symlink():
            problems.append(f"{name} is not a regular file")
        elif _sha256(path) != recorded[name]:
            problems.append(f"{name} changed since it was written")
        elif not _same_content(path, fresh[name]):
            problems.append(f"{name} holds other calls than those listed")
    if problems:
        raise InputsMismatch(
            f"the inputs of {folder.name} are not the calls this judge "
            "lists with the run's seed: " + "; ".join(problems[:5]) +
            " (changed files or a bug)")


def _same_content(path, fresh):
    """True if input file `path` holds what `fresh` (just written) holds."""
    if path.suffix == ".json":
        return path.read_bytes() == fresh.read_bytes()
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as old, \
                np.load(fresh, allow_pickle=False) as new:
            return sorted(old.files) == sorted(new.files) and all(
                old[key].dtype == new[key].dtype and
                old[key].shape == new[key].shape and
                old[key].tobytes() == new[key].tobytes()
                for key in old.files)
    return True


# ------------------------------------------------------------- server ---

def serve(lessons, seed, inputs, solutions=None, stream_in=None,
          stream_out=None):
    """Collect every lesson's calls, then judge requests line by line.

    The ready line says, for each lesson, whether its inputs were
    "written" or (a judge started again in the run) "verified". A request
    is {"lesson", "answers" (folder), "library_findings"}; the reply is
    {"results": ...} or {"error": ...}. After a MemoryError (the judge's
    address space is capped) the reply also says {"restart": true} and
    the judge ends: a fresh one takes the next request. The protocol uses
    the original standard output; everything printed otherwise goes to
    standard error.
    """
    stream_in = stream_in or sys.stdin
    if stream_out is None:
        stream_out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
    started = time.perf_counter()
    judges = {}
    try:
        for lesson in lessons:
            judges[lesson] = LessonJudge(lesson, seed, inputs, solutions)
            judges[lesson].collect()
    except BaseException as error:
        # Kernels are waiting for these inputs: tell them at once rather
        # than let every notebook wait out its timeouts.
        for lesson in lessons:
            folder = Path(inputs) / lesson
            if folder.is_dir() and not (folder / READY).exists():
                (folder / FAILED).write_text(
                    f"{type(error).__name__}: {error}"[:500],
                    encoding="utf-8")
        raise
    stream_out.write(json.dumps({
        "ready": True, "seconds": round(time.perf_counter() - started, 2),
        "calls": {lesson: sum(len(keys) for keys in judge.keys.values())
                  for lesson, judge in judges.items()},
        "inputs": {lesson: judge.inputs_state
                   for lesson, judge in judges.items()}}) + "\n")
    stream_out.flush()
    for line in stream_in:
        if not line.strip():
            continue
        started = time.perf_counter()
        try:
            request = json.loads(line)
            judge = judges[request["lesson"]]
            with use_language(request.get("language", ENGLISH)):
                reply = {"results": judge.judge(
                    request["answers"], request.get("library_findings"))}
        except MemoryError as error:
            # Over the address-space cap: whatever half-made state this
            # left is not trusted with the next submission.
            reply = {"error": f"MemoryError: {error}", "restart": True}
        except Exception as error:  # one bad request never ends the run
            reply = {"error": f"{type(error).__name__}: {error}"}
        reply["seconds"] = round(time.perf_counter() - started, 2)
        reply["trainings"] = trainings_since_last()
        stream_out.write(json.dumps(reply) + "\n")
        stream_out.flush()
        if reply.get("restart"):
            return


def trainings_since_last():
    """Trainings the lesson checks ran for the last request (lesson 04)."""
    from trusted_grader.judging import training_log

    return training_log.take()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m trusted_grader.judging.server")
    parser.add_argument("--serve", action="store_true", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--solutions")
    parser.add_argument("--memory-mb", type=int, required=True,
                        help="address-space cap, MiB (0: none)")
    parser.add_argument("lessons", nargs="+")
    args = parser.parse_args(argv)
    from trusted_grader import sandbox

    # Before TensorFlow or any answer is loaded. Not a process cap: the
    # judge runs no learner code, and TensorFlow starts many threads.
    sandbox.set_limits(args.memory_mb, pids_max=0)
    serve(args.lessons, args.seed, args.inputs, args.solutions)
    # Every reply is written and nothing is kept: end without Python's
    # and TensorFlow's teardown, which kept the grading command waiting
    # 1-2 s per judge at the end of every run.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
