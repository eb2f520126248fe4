"""Values cross the trust boundary as data, and bad files are refused."""

import json

import numpy as np
import pytest

from autograder import answers


def round_trip(value, folder):
    writer = answers.Writer(folder, "cell")
    writer.write({"value": writer.encode(value)})
    reader = answers.Reader(folder, "cell")
    return reader.decode(reader.data["value"])


def test_plain_values_round_trip(tmp_path):
    value = {1: [np.arange(6, dtype=np.uint8).reshape(2, 3), 2.5,
                 float("nan")], "k": (True, None, "text", np.float32(1.5)),
             -2: 10**30}
    back = round_trip(value, tmp_path)
    assert back[1][0].dtype == np.uint8 and back[1][0].shape == (2, 3)
    assert np.isnan(back[1][2]) and back[-2] == 10**30
    assert isinstance(back["k"], tuple)
    assert back["k"][3].dtype == np.float32


class AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return True


def test_objects_arrive_as_their_type_name(tmp_path):
    class Anything:
        def __eq__(self, other):
            return True

    back = round_trip([Anything(), lambda: 1], tmp_path)
    assert type(back[0]).__name__ == "Anything"
    assert back[0] != 0 and isinstance(back[0], answers.Unsupported)
    fake = np.zeros(3).view(AlwaysEqual)
    plain = round_trip(fake, tmp_path)
    assert type(plain) is np.ndarray and not (plain == 1).any()


def test_object_arrays_and_pickles_are_refused(tmp_path):
    back = round_trip(np.array([{"a": 1}], dtype=object), tmp_path)
    assert isinstance(back, answers.Unsupported)
    (tmp_path / "cell.json").write_text(json.dumps(
        {"value": {answers.KIND: "array", "key": "a0"}}))
    np.save(tmp_path / "pickled.npy", np.array([{"a": 1}], dtype=object),
            allow_pickle=True)
    import zipfile
    with zipfile.ZipFile(tmp_path / "cell.npz", "w") as archive:
        archive.write(tmp_path / "pickled.npy", "a0.npy")
    with pytest.raises(answers.DataError):
        answers.Reader(tmp_path, "cell")


def test_missing_oversized_and_malformed_files(tmp_path, monkeypatch):
    with pytest.raises(answers.DataError, match="missing"):
        answers.Reader(tmp_path, "cell")
    (tmp_path / "cell.json").write_text("{not json")
    with pytest.raises(answers.DataError, match="not JSON"):
        answers.Reader(tmp_path, "cell")
    (tmp_path / "cell.json").write_text(json.dumps({"value": [1, 2]}))
    reader = answers.Reader(tmp_path, "cell")
    with pytest.raises(answers.DataError):
        reader.decode(reader.data["value"])
    monkeypatch.setattr(answers, "MAX_JSON_BYTES", 10)
    with pytest.raises(answers.DataError, match="larger"):
        answers.Reader(tmp_path, "cell")


def test_a_link_to_other_answers_is_refused(tmp_path):
    """A kernel could link its answers to another submission's files,
    which the judge can read; only files it wrote itself count."""
    other = tmp_path / "other"
    writer = answers.Writer(other, "cell")
    writer.write({"value": writer.encode(np.ones(3))})
    mine = tmp_path / "mine"
    mine.mkdir()
    for suffix in (".json", ".npz"):
        (mine / f"cell{suffix}").symlink_to(other / f"cell{suffix}")
    with pytest.raises(answers.DataError, match="not a regular file"):
        answers.Reader(mine, "cell")
