"""No submitted file stops the batch: the reader on malformed input.

The grading command reads submissions in two steps, and these tests call
both directly: `submissions.extract_zip` and `submissions.collect` give
every file an entry (gradable, or a final status with its reason), and for
each gradable entry `notebook_grading.check_integrity` reads and scans it
again in the worker that grades it (raising submissions.InvalidNotebook, which
grade_notebook turns into `invalid_notebook`). A seeded fuzz sends a few
hundred malformed notebooks and zip archives through them; one run of the
grading command puts the worst of them beside an honest notebook.
"""

import io
import json
import os
import random
import struct
import warnings
import zipfile
from pathlib import Path

import nbformat
import pytest
from helpers import GRADED_LESSON, lesson_notebook, run_grading

from trusted_grader.batch import (
    grading,
    integrity,
    notebook_grading,
    submissions,
)
from trusted_grader.batch.submissions import (
    MAX_JSON_DEPTH,
    InvalidNotebook,
    Limits,
    json_shape,
    parse_notebook,
)

LESSON = GRADED_LESSON
LESSONS = ("01_dense_translation", "02_convolution_pooling")
SEED = 20
# Statuses the reading steps give; the graded ones come later.
READER_STATUSES = {"invalid_notebook", "too_large", "unsafe_path",
                   "bad_filename", "duplicate", "missing"}


@pytest.fixture(scope="module")
def blank(root):
    """The released lesson-01 notebook's bytes and its JSON tree."""
    data = (root / "notebooks" / LESSON / f"{LESSON}.ipynb").read_bytes()
    return data, json.loads(data)


def nested(depth, leaf=0):
    """JSON value `depth` arrays deep (objects every third level)."""
    value = leaf
    for level in range(depth):
        value = {"k": value} if level % 3 == 2 else [value]
    return value


def dumps(tree, **options):
    return json.dumps(tree, **options).encode("utf-8")


def with_change(tree, change):
    """A deep copy of `tree` after `change(copy)`, serialised."""
    copy = json.loads(json.dumps(tree))
    change(copy)
    return dumps(copy)


def graded_cell(tree):
    return next(cell for cell in tree["cells"]
                if "nbgrader" in cell.get("metadata", {}))


def code_cell(tree, grade_id="shift_image"):
    return next(cell for cell in tree["cells"]
                if cell["metadata"].get("nbgrader", {}).get("grade_id")
                == grade_id)


def fixed_cases(data, tree):
    """{name: bytes} of hand-made malformed (and a few valid) notebooks."""
    deep_code = "x = a" + " + a" * 100_000
    return {
        "deep_array": b"[" * 100_000 + b"]" * 100_000,
        "deep_object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        "deep_unclosed": b"[" * 100_000,
        "deep_in_metadata": data.replace(
            b'"metadata": {', b'"metadata": {"x": ' + b"[" * 100_000
            + b"]" * 100_000 + b",", 1),
        "at_depth_limit": with_change(
            tree, lambda t: t["metadata"].update(
                x=nested(MAX_JSON_DEPTH - 2))),
        "past_depth_limit": with_change(
            tree, lambda t: t["metadata"].update(
                x=nested(MAX_JSON_DEPTH - 1))),
        "empty": b"",
        "spaces": b" \n\t " * 100,
        "bom": b"\xef\xbb\xbf" + data,
        "double_bom": b"\xef\xbb\xbf\xef\xbb\xbf" + data,
        "utf16": data.decode("utf-8").encode("utf-16"),
        "utf32": data.decode("utf-8").encode("utf-32"),
        "latin1": data.replace(b'"cells"', b'"c\xe9lls"'),
        "bad_utf8": data[:200] + b"\xff\xfe\xc0\x80" + data[200:],
        "nul": data[:100] + b"\x00" + data[100:],
        "lone_surrogate": with_change(
            tree, lambda t: t["metadata"].update(x="\ud800")),
        "surrogate_key": with_change(
            tree, lambda t: t["metadata"].update({"\udfff": 1})),
        "huge_integer": data.replace(b'"nbformat": 4,',
                                     b'"nbformat": 4, "x": '
                                     + b"9" * 5000 + b","),
        "nan": with_change(tree, lambda t: t["metadata"].update(
            x=float("nan"))),
        "list": b"[1, 2, 3]",
        "string": b'"notebook"',
        "number": b"4",
        "null": b"null",
        "nbformat_3": with_change(tree, lambda t: t.update(nbformat=3)),
        "nbformat_text": with_change(tree, lambda t: t.update(
            nbformat="4" * 100_000)),
        "minor_future": with_change(tree, lambda t: t.update(
            nbformat_minor=99, cells=[{"cell_type": "x"}])),
        "minor_text": with_change(tree, lambda t: t.update(
            nbformat_minor="five")),
        "no_cells": with_change(tree, lambda t: t.pop("cells")),
        "cells_dict": with_change(tree, lambda t: t.update(cells={})),
        "cells_string": with_change(tree, lambda t: t.update(cells="x")),
        "cell_number": with_change(tree, lambda t: t["cells"].append(7)),
        "source_number": with_change(
            tree, lambda t: t["cells"][0].update(source=12)),
        "source_numbers": with_change(
            tree, lambda t: t["cells"][0].update(source=[1, 2])),
        "metadata_list": with_change(
            tree, lambda t: t["cells"][0].update(metadata=[])),
        "nbgrader_string": with_change(
            tree, lambda t: graded_cell(t)["metadata"].update(
                nbgrader="grade")),
        "nbgrader_list": with_change(
            tree, lambda t: graded_cell(t)["metadata"].update(
                nbgrader=[1])),
        "grade_id_list": with_change(
            tree, lambda t: graded_cell(t)["metadata"]["nbgrader"].update(
                grade_id=["shift_image"])),
        "points_text": with_change(
            tree, lambda t: graded_cell(t)["metadata"]["nbgrader"].update(
                points="ten")),
        "solution_number": with_change(
            tree, lambda t: graded_cell(t)["metadata"]["nbgrader"].update(
                solution=1)),
        "course_list": with_change(
            tree, lambda t: t["metadata"].update(course=["zh-CN"])),
        "course_string": with_change(
            tree, lambda t: t["metadata"].update(course="zh-CN")),
        "deep_code": with_change(
            tree, lambda t: code_cell(t).update(source=deep_code)),
        "null_byte_code": with_change(
            tree, lambda t: code_cell(t).update(source="x = 1\x00")),
        "huge_string": with_change(
            tree, lambda t: code_cell(t).update(source="#" * 3_000_000)),
        "many_values": dumps({"nbformat": 4, "x": [0] * 1_100_000}),
        "many_strings": dumps({"nbformat": 4, "x": [""] * 1_100_000}),
        "honest": data,
    }


def random_value(rng):
    """A JSON value of a random kind, some of them hostile."""
    kind = rng.randrange(14)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([-1, 0, 3, 2**70, 1e308, -0.5])
    if kind == 3:
        return "".join(rng.choice("ab\n\"\\{[ é中") for _ in
                       range(rng.randrange(40)))
    if kind == 4:
        return "x" * rng.randrange(10**5)
    if kind == 5:
        return []
    if kind == 6:
        return {}
    if kind == 7:
        return nested(rng.randrange(80, 130))
    if kind == 8:
        return [random_value(rng) for _ in range(rng.randrange(4))]
    if kind == 9:
        return {"grade_id": random_value(rng), "grade": random_value(rng)}
    if kind == 10:
        return chr(rng.randrange(0xD800, 0xE000))  # unpaired surrogate
    if kind == 11:
        return float(rng.choice(["nan", "inf", "-inf"]))
    if kind == 12:
        return {"cell_type": rng.choice(["code", "markdown", "raw", "x"]),
                "metadata": {}, "source": random_value(rng)}
    return rng.choice(["code", "markdown", "shift_image", "4", ""])


def mutate_tree(rng, tree):
    """A copy of `tree` with one node replaced, removed or wrapped."""
    copy = json.loads(json.dumps(tree))
    cells = copy.get("cells")
    cells = [cell for cell in cells if isinstance(cell, dict) and
             isinstance(cell.get("metadata"), dict)] \
        if isinstance(cells, list) else []
    if cells and rng.random() < 0.3:  # aim at what the grader reads
        cell = rng.choice(cells)
        nbgrader = cell["metadata"].get("nbgrader")
        parent = nbgrader if isinstance(nbgrader, dict) and \
            rng.random() < 0.6 else rng.choice([cell, cell["metadata"]])
        key = rng.choice(list(parent) + ["grade_id", "points",
                                         "solution", "source", "course"])
    else:
        parent, key = copy, None
        for _ in range(rng.randrange(1, 7)):
            keys = list(parent) if isinstance(parent, dict) \
                else list(range(len(parent)))
            if not keys:
                break
            key = rng.choice(keys)
            child = parent[key]
            if not isinstance(child, (dict, list)) or rng.random() < 0.25:
                break
            parent, key = child, None
        if key is None:
            return copy
    action = rng.random()
    if action < 0.15 and isinstance(parent, dict):
        parent.pop(key, None)
    elif action < 0.25 and isinstance(parent, dict) and key in parent:
        parent[key] = [parent[key]]
    elif isinstance(parent, dict) or (isinstance(key, int)
                                      and key < len(parent)):
        parent[key] = random_value(rng)
    return copy


def mutate_bytes(rng, data):
    """`data` with random byte flips, deletions, insertions or a cut."""
    data = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        if not data:
            break
        where = rng.randrange(len(data))
        kind = rng.randrange(5)
        if kind == 0:
            for _ in range(rng.randrange(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 1:
            del data[where:where + rng.randrange(1, 500)]
        elif kind == 2:
            data[where:where] = rng.choice(
                [b"[", b"{", b"\"", b"\\", b"\xff", b"\x00", b"\xef\xbb\xbf",
                 b"[" * 5000, b"\xe4\xb8"])
        elif kind == 3:
            del data[where:]
        else:
            data[where:where] = data[where:where + rng.randrange(1, 300)]
    return bytes(data)


def serialise(rng, tree):
    """`tree` as bytes, sometimes in an encoding other than UTF-8."""
    text = json.dumps(tree, ensure_ascii=rng.random() < 0.5)
    encoding = rng.choice(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "latin-1"])
    return text.encode(encoding, errors="surrogatepass"
                       if encoding.startswith("utf") else "replace")


def notebook_cases(blank, count=300):
    """{name: bytes}: the fixed cases, then seeded mutations."""
    data, tree = blank
    rng = random.Random(SEED)
    cases = fixed_cases(data, tree)
    for number in range(count - len(cases)):
        if number % 3 == 0:
            cases[f"bytes{number}"] = mutate_bytes(rng, data)
        else:
            mutated = tree
            for _ in range(rng.randrange(1, 4)):
                mutated = mutate_tree(rng, mutated)
            cases[f"tree{number}"] = serialise(rng, mutated)
    return cases


def student_id(name):
    return name.replace("_", "-")


def scanned(entries, root, work):
    """{student: (status, detail)} once every gradable entry has been read
    and scanned as grade_notebook does; no other exception may escape."""
    outcome = {}
    for number, entry in enumerate(entries):
        if entry.status == "pending":
            target = work / f"{number}.ipynb"
            try:
                notebook_grading.check_integrity(
                    entry, root / "solutions", target)
            except InvalidNotebook as error:
                entry.status, entry.detail = "invalid_notebook", str(error)
            else:
                entry.status = "graded"
                nbformat.read(target, as_version=4)  # written back whole
        assert entry.status in grading.STATUSES, entry
        if entry.status not in {"graded", "missing"}:
            reason = entry.detail.split(": ", 1)[-1]
            assert reason.strip(), entry
        assert entry.student not in outcome, entry  # once each
        outcome[entry.student] = (entry.status, entry.detail)
    return outcome


def test_malformed_notebooks_each_get_a_status(root, blank, tmp_path):
    cases = notebook_cases(blank)
    assert len(cases) == 300
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name, data in cases.items():
        (folder / f"{student_id(name)}_{LESSON}.ipynb").write_bytes(data)
    gradable, others = submissions.collect(folder, LESSONS)
    assert {entry.status for entry in others} <= READER_STATUSES
    work = tmp_path / "work"
    work.mkdir()
    outcome = scanned(gradable + others, root, work)
    assert set(outcome) == {student_id(name) for name in cases}

    def status(name):
        return outcome[student_id(name)][0]

    def detail(name):
        return outcome[student_id(name)][1]

    for name in ("honest", "bom", "at_depth_limit", "course_list",
                 "course_string", "huge_string"):
        assert status(name) == "graded", (name, detail(name))
    assert status("deep_code") == "graded"  # the scan reports it
    for name in ("deep_array", "deep_object", "deep_in_metadata",
                 "past_depth_limit"):
        assert status(name) == "invalid_notebook"
        assert f"nested more than {MAX_JSON_DEPTH} levels" in detail(name)
    for name in ("utf16", "utf32", "latin1", "bad_utf8"):
        assert "not UTF-8 text" in detail(name), name
    for name in ("lone_surrogate", "surrogate_key"):
        assert "surrogate" in detail(name), name
    for name in ("nbgrader_string", "nbgrader_list", "grade_id_list",
                 "points_text", "solution_number"):
        assert status(name) == "invalid_notebook"
        assert "nbgrader metadata" in detail(name), name
    for name in ("many_values", "many_strings"):
        assert "JSON values" in detail(name), name
    for name in ("list", "string", "number", "null", "nbformat_3",
                 "nbformat_text"):
        assert detail(name).endswith(", expected 4"), name
    for name in ("empty", "spaces", "nul", "huge_integer", "double_bom"):
        assert "not valid JSON" in detail(name), name
    for name in ("no_cells", "cells_dict", "cells_string", "cell_number",
                 "source_number", "source_numbers", "metadata_list",
                 "minor_future", "minor_text"):
        assert status(name) == "invalid_notebook", name
    statuses = [entry[0] for entry in outcome.values()]
    # The fuzz reaches both sides: many are refused, some still grade.
    assert statuses.count("invalid_notebook") > 100
    assert statuses.count("graded") > 20


def test_code_too_deep_to_scan_is_a_finding(blank, root, tmp_path):
    """Python compiles code nested a few hundred levels deep, more than a
    recursive tree walk can read: the scan reads it with a loop, and what
    its parser cannot read at all is reported, not skipped."""
    hidden = "x = (" + "a + " * 700 + "__import__('os'))"
    assert integrity.scan_source(hidden) == [
        (1, "imports modules by name (__import__())")]
    assert integrity.scan_source("x = a" + " + a" * 100_000) == [
        (1, "nests code too deeply to check")]
    assert integrity.scan_source("-" * 100_000 + "1") == [
        (1, "nests code too deeply to check")]
    assert integrity.scan_source("x = 1\x00") == []
    data, tree = blank
    deep = with_change(tree, lambda t: code_cell(t).update(
        source="x = a" + " + a" * 100_000))
    path = tmp_path / f"deep_{LESSON}.ipynb"
    path.write_bytes(deep)
    entry = submissions.Entry("deep", LESSON, path=path)
    findings, library_use, _ = notebook_grading.check_integrity(
        entry, root / "solutions", tmp_path / "copy.ipynb")
    assert findings == ["cell 'shift_image' line 1: nests code too "
                        "deeply to check"]
    assert library_use == {}


def test_json_shape_counts_without_recursion():
    assert json_shape(b"{}") == (1, 1)
    # 3 strings, 2 commas, 3 objects or arrays; brackets in strings,
    # escaped quotes and backslashes do not count.
    assert json_shape(b'{"a": [1, 2, {"b": "[[[["}]}') == (8, 3)
    assert json_shape(b'["\\"[", "\\\\", ["x"]]') == (7, 2)
    assert json_shape(b"[" * 10**6, max_depth=MAX_JSON_DEPTH)[1] == \
        MAX_JSON_DEPTH + 1
    items, depth = json_shape(b"[" + b"0," * 10**6 + b"0]", max_items=1000)
    assert items > 1000 and depth == 0
    with pytest.raises(InvalidNotebook, match="not valid JSON"):
        parse_notebook(b'{"nbformat": 4, "a": "' + b"[" * 500)


# ------------------------------------------------------------ archives ---

def central_record(archive, name):
    """Offset of `name`'s central directory record in `archive`."""
    encoded = name.encode("utf-8")
    position = archive.find(b"PK\x01\x02")
    while position >= 0:
        length = struct.unpack_from("<H", archive, position + 28)[0]
        if archive[position + 46:position + 46 + length] == encoded:
            return position
        position = archive.find(b"PK\x01\x02", position + 4)
    raise AssertionError(name)


def data_span(archive, name):
    """(start, end) of a member's stored data in `archive`."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        info = zipped.getinfo(name)
    name_length, extra_length = struct.unpack_from(
        "<HH", archive, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    return start, start + info.compress_size


def build_archive(rng, index, cases):
    """(zip bytes, {student: allowed statuses}) for one seeded archive.

    Each member is named after a token; `expected` maps the student id
    that `collect` or `extract_zip` derives from the name to the statuses
    it may get (the second of two equal names is keyed (id, "duplicate")).
    Folders and hidden or tool files get no entry."""
    expected, plan = {}, []
    names = sorted(cases)
    readable = {"graded", "invalid_notebook"}
    for number in range(rng.randrange(2, 9)):
        token = f"z{index:03d}m{number:02d}"
        content = cases[rng.choice(names)]
        layout = rng.choice(["flat", "nbgrader", "escape", "absolute",
                             "deep", "text", "ignored", "folder",
                             "duplicate", "clash", "odd", "encrypted",
                             "compression", "corrupt", "dot"])
        compression = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED,
                                  zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])

        def add(name, data=content, damage=None, compression=compression):
            plan.append((name, data, compression, damage))

        flat = f"download/{token}_{LESSON}.ipynb"
        if layout == "flat":
            add(flat)
            expected[token] = readable
        elif layout in {"encrypted", "compression", "corrupt"}:
            add(flat, damage=layout)
            expected[token] = {"invalid_notebook"}
        elif layout == "nbgrader":
            add(f"submitted/{token}/{LESSON}/{LESSON}.ipynb")
            expected[token] = readable
        elif layout == "escape":
            add(f"../../{token}_{LESSON}.ipynb")
            expected[token] = {"unsafe_path"}
        elif layout == "absolute":
            add(f"/tmp/{token}_{LESSON}.ipynb")
            expected[token] = {"unsafe_path"}
        elif layout == "deep":
            add("d/" * 40 + f"{token}_{LESSON}.ipynb")
            expected[token] = {"bad_filename"}
        elif layout == "text":
            add(f"{token}.txt", b"notes")
            expected[f"{token}.txt"] = {"bad_filename"}
        elif layout == "ignored":
            add(f"__MACOSX/{token}_{LESSON}.ipynb")
            add(f"sub/.{token}_{LESSON}.ipynb")
        elif layout == "folder":
            add(f"{token}/", b"")
        elif layout == "duplicate":
            add(flat)
            add(flat, cases["honest"])
            expected[token] = readable
            expected[(token, "duplicate")] = {"duplicate"}
        elif layout == "clash":  # a file, then a folder of its name
            add(token, b"x")
            add(f"{token}/{token}c_{LESSON}.ipynb")
            expected[token] = {"bad_filename"}
            expected[f"{token}c"] = {"bad_filename"}
        elif layout == "odd":
            add(f"{token}\u00e9\n\t_{LESSON}.ipynb")
            expected[f"{token}\u00e9\n\t"] = {"bad_filename"}
        elif "?" not in expected:  # a file named "."
            add(".")
            expected["?"] = {"bad_filename"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names
        for name, data, compression, _ in plan:
            info = zipfile.ZipInfo(name)
            info.compress_type = compression
            zipped.writestr(info, data)
    archive = bytearray(buffer.getvalue())
    for name, _, _, damage in plan:
        if damage is None:
            continue
        record = central_record(archive, name)
        start, end = data_span(bytes(archive), name)
        if damage == "encrypted":  # the flag only: no password opens it
            archive[record + 8] |= 0x01
        elif damage == "corrupt" and end > start:  # the CRC disagrees
            archive[rng.randrange(start, end)] ^= 0xA5
        else:  # a compression method nobody knows
            struct.pack_into("<H", archive, record + 10, 99)
    return bytes(archive), expected


def small_cases(blank):
    """The notebook cases small enough to pack many times."""
    return {name: data for name, data in notebook_cases(blank).items()
            if len(data) < 400_000}


def test_malformed_archives_each_member_gets_a_status(root, blank,
                                                       tmp_path):
    cases = small_cases(blank)
    rng = random.Random(SEED + 1)
    work = tmp_path / "work"
    work.mkdir()
    for index in range(60):
        archive, expected = build_archive(rng, index, cases)
        path = tmp_path / f"class{index}.zip"
        path.write_bytes(archive)
        folder, refused = submissions.extract_zip(
            path, tmp_path / f"unzipped{index}", Limits(), LESSONS)
        gradable, others = submissions.collect(folder, LESSONS,
                                               refused=refused)
        assert {entry.status for entry in others} <= READER_STATUSES
        duplicates = [entry for entry in others
                      if entry.status == "duplicate"]
        for entry in duplicates:  # the second of a name; keyed apart
            entry.student = (entry.student, "duplicate")
        outcome = scanned([entry for entry in gradable + others
                           if entry.status != "missing"], root, work)
        assert set(outcome) == set(expected), index
        for student, allowed in expected.items():
            assert outcome[student][0] in allowed, (student, outcome)
        for escaped in (tmp_path, tmp_path.parent, Path("/tmp")):
            assert not list(escaped.glob(f"z{index:03d}m*_{LESSON}.ipynb"))


def test_corrupted_archives_never_stop_the_batch(root, blank, tmp_path):
    """Random damage anywhere in an archive, its directory included: what
    can be read gets entries, the rest is reported, nothing raises."""
    cases = small_cases(blank)
    rng = random.Random(SEED + 2)
    work = tmp_path / "work"
    work.mkdir()
    unreadable = 0
    for index in range(80):
        archive, _ = build_archive(rng, index, cases)
        damaged = mutate_bytes(rng, archive) if index % 4 else \
            archive[:rng.randrange(len(archive))]
        path = tmp_path / f"damaged{index}.zip"
        path.write_bytes(damaged)
        folder, refused = submissions.extract_zip(
            path, tmp_path / f"unzipped{index}", Limits(), LESSONS)
        gradable, others = submissions.collect(folder, LESSONS,
                                               refused=refused)
        entries = [entry for entry in gradable + others
                   if entry.status != "missing"]
        for number, entry in enumerate(entries):  # ids may repeat here
            entry.student = (number, entry.student)
        scanned(entries, root, work)
        try:
            with zipfile.ZipFile(path) as zipped:
                members = zipped.infolist()
        except Exception:
            unreadable += 1
            assert len(entries) == 1
            assert entries[0].status == "invalid_notebook"
            assert f"damaged{index}.zip: not a readable zip archive" in \
                entries[0].detail
        else:
            assert len(entries) <= len(members)
    assert 5 < unreadable < 80


def test_unreadable_files_and_names_in_a_folder(blank, tmp_path):
    """A named pipe is not read (it would block), a name that is not
    UTF-8 is shown escaped, and folders nested past Python's recursion
    limit are walked."""
    data, _ = blank
    folder = tmp_path / "submissions"
    folder.mkdir()
    os.mkfifo(folder / f"pipe_{LESSON}.ipynb")
    (folder / os.fsdecode(b"b\xffd_" + LESSON.encode() + b".ipynb")) \
        .write_bytes(data)
    deep = os.fsencode(folder)
    for _ in range(1100):
        deep = os.path.join(deep, b"d")
        os.mkdir(deep)
    with open(os.path.join(deep, f"low_{LESSON}.ipynb".encode()),
              "wb") as file:
        file.write(data)
    try:
        gradable, others = submissions.collect(folder, LESSONS)
    finally:
        while deep != os.fsencode(folder):
            for name in os.listdir(deep):
                os.unlink(os.path.join(deep, name))
            os.rmdir(deep)
            deep = os.path.dirname(deep)
    rows = {entry.student: entry for entry in gradable + others}
    assert rows["pipe"].status == "invalid_notebook"
    assert "not a regular file" in rows["pipe"].detail
    assert rows["b\\udcffd"].status == "bad_filename"
    assert [entry.student for entry in gradable] == ["low"]
    grading.write_csv(gradable + others, tmp_path / "grades.csv")


# ---------------------------------------------------------- end to end ---

@pytest.mark.slow
def test_deep_json_beside_an_honest_notebook(root, blank, tmp_path):
    """Through the grading command: the nasty files are invalid_notebook
    with a reason, the honest notebook beside them (carrying JSON metadata
    nested to the depth limit) keeps every autograded point."""
    data, tree = blank
    folder = tmp_path / "submissions"
    folder.mkdir()
    honest = lesson_notebook(root, "solutions")
    honest.metadata["deep"] = nested(MAX_JSON_DEPTH - 2)
    nbformat.write(honest, folder / f"ann_{LESSON}.ipynb")
    (folder / f"deep_{LESSON}.ipynb").write_bytes(
        b"[" * 100_000 + b"]" * 100_000)
    (folder / f"latin_{LESSON}.ipynb").write_bytes(
        data.replace(b'"cells"', b'"c\xe9lls"'))
    (folder / f"meta_{LESSON}.ipynb").write_bytes(with_change(
        tree, lambda t: graded_cell(t)["metadata"].update(nbgrader="x")))
    output = tmp_path / "out"
    _, rows = run_grading(root, folder, output, "--jobs", "2")
    rows = {row["student"]: row for row in rows}
    assert set(rows) == {"ann", "deep", "latin", "meta"}
    assert rows["ann"]["status"] == "graded", rows["ann"]
    assert float(rows["ann"]["score"]) == 10
    for student, reason in (("deep", "nested more than 100 levels"),
                            ("latin", "not UTF-8 text"),
                            ("meta", "nbgrader metadata is a string")):
        assert rows[student]["status"] == "invalid_notebook"
        assert reason in rows[student]["detail"], rows[student]
        assert float(rows[student]["score"]) == 0
