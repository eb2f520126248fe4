"""Values as plain data in files: the kernel's answers, the grader's inputs.

The grader (outside the kernel) writes the inputs of each graded call; the
kernel writes back what the learner's function returned; the judge (outside
the kernel again) reads those answers. Only data crosses, never objects:
numbers, strings, lists, tuples, dicts, NumPy arrays of bool/int/float
dtypes (one `.npz` per file, read with ``allow_pickle=False``) and Keras
models as `.keras` files (read by the judge with ``safe_mode=True``).
Anything else is recorded as "unsupported" with its type's name, so an
object that claims to equal everything arrives as a name, not as itself.

A file set is FOLDER/NAME.json (the structure), FOLDER/NAME.npz (the
arrays) and FOLDER/NAME-<n>.keras (models). Each file is written whole
under a temporary name in FOLDER (starting with ".") and then renamed, so
a reader sees the previous file or the new one, never part of one.
"""

import json
import math
import os
import re
import secrets
import stat
import zipfile
from pathlib import Path

import numpy as np

KIND = "__kind__"
ARRAY_KINDS = "biuf"  # bool, signed and unsigned integers, floats
MAX_DEPTH = 6
MAX_ITEMS = 100_000
# What the judge reads at most from one file set.
MAX_JSON_BYTES = 20 * 2**20
MAX_ARRAY_BYTES = 400 * 2**20
MAX_MODEL_BYTES = 200 * 2**20

# Captured at import, before any learner code runs.
_ndarray = np.ndarray
_generic = np.generic
_array = np.array


class DataError(ValueError):
    """A file set is missing, too large or not in the expected form."""


def _type_name(value):
    name = type(value).__name__
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,59}", name) \
        else "object"


def _is_keras_model(value):
    return any(cls.__module__.split(".")[0] == "keras"
               and cls.__name__ in {"Model", "Sequential", "Functional"}
               for cls in type(value).__mro__)


class Writer:
    """Encodes values to JSON-able data, collecting arrays and models."""

    def __init__(self, folder, name):
        self.folder, self.name = Path(folder), name
        self.arrays, self.models = {}, 0

    def add_array(self, value):
        key = f"a{len(self.arrays)}"
        self.arrays[key] = value
        return key

    def encode(self, value, depth=0):
        if depth > MAX_DEPTH:
            return {KIND: "unsupported", "type": "nested too deeply"}
        kind = type(value)
        if value is None or kind in (bool, str):
            return value
        if kind is int:
            return value if abs(value) < 2**53 else \
                {KIND: "int", "value": str(value)}
        if kind is float:
            return value if math.isfinite(value) else \
                {KIND: "float", "value": repr(value)}
        if isinstance(value, _generic) and kind.__module__ == "numpy":
            if np.dtype(kind).kind not in ARRAY_KINDS:
                return {KIND: "unsupported", "type": _type_name(value)}
            return {KIND: "scalar", "key": self.add_array(_array(value))}
        if isinstance(value, _ndarray):
            array = _array(value, copy=True, subok=False)
            if array.dtype.kind not in ARRAY_KINDS or \
                    array.dtype.hasobject:
                return {KIND: "unsupported", "type": f"{array.dtype} array"}
            return {KIND: "array", "key": self.add_array(array)}
        if kind in (list, tuple):
            if len(value) > MAX_ITEMS:
                return {KIND: "unsupported", "type": "very long list"}
            return {KIND: kind.__name__,
                    "items": [self.encode(item, depth + 1)
                              for item in value]}
        if kind is dict:
            if len(value) > MAX_ITEMS:
                return {KIND: "unsupported", "type": "very long dict"}
            return {KIND: "dict",
                    "items": [[self.encode(key, depth + 1),
                               self.encode(item, depth + 1)]
                              for key, item in value.items()]}
        if _is_keras_model(value):
            return self._encode_model(value)
        return {KIND: "unsupported", "type": _type_name(value)}

    def _encode_model(self, model):
        self.models += 1
        file_name = f"{self.name}-{self.models}.keras"
        path = self.folder / file_name
        # Keras saves only to a name ending in .keras.
        temporary = path.with_name(
            f".{secrets.token_hex(8)}.tmp-{file_name}")
        try:
            model.save(temporary)
            os.replace(temporary, path)
        except Exception as error:  # a model Keras cannot save
            _remove_quietly(temporary)
            return {KIND: "unsupported", "type": _type_name(model),
                    "note": f"could not be saved: {error}"[:300]}
        return {KIND: "keras_model", "file": file_name}

    def write(self, data):
        """Write NAME.npz with the arrays, then NAME.json with `data`,
        each whole (see `write_whole`)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_whole(self.folder / f"{self.name}.npz",
                    lambda file: np.savez(file, **self.arrays))
        text = json.dumps(data).encode("utf-8")
        write_whole(self.folder / f"{self.name}.json",
                    lambda file: file.write(text))


def write_whole(path, write):
    """Create or replace `path` atomically: `write(file)` fills a new file
    (binary, mode 0644 less the umask) under a temporary name beside it,
    which is then renamed to `path`. A process reading `path` meanwhile
    reads the old file or the new one, never a part; if `write` fails,
    `path` is left as it was and the temporary file is removed."""
    path = Path(path)
    temporary = path.with_name(f".{secrets.token_hex(8)}.tmp-{path.name}")
    try:
        descriptor = os.open(temporary,
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(descriptor, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        _remove_quietly(temporary)
        raise


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


class Unsupported:
    """Stands for a value that could not be recorded as data."""

    type_name = "object"
    note = ""

    def __repr__(self):
        return f"<{self.type_name}>"


def unsupported(type_name, note=""):
    """An instance of a class named like the original value's type."""
    name = type_name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,59}",
                                     str(type_name)) else "object"
    cls = type(name, (Unsupported,), {"type_name": str(type_name)[:60],
                                      "note": str(note)[:300]})
    return cls()


def regular_file(path):
    """True for a plain file; False if missing. A symbolic link (which
    could point at another submission's answers) or anything else that is
    not a regular file raises DataError."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(mode):
        raise DataError(f"{Path(path).name} is not a regular file (a "
                        "link?); answers must be written, not linked")
    return True


class Reader:
    """Decodes a file set written by `Writer`, refusing what is too big."""

    def __init__(self, folder, name, load_model=None):
        self.folder, self.name = Path(folder), name
        self.load_model = load_model
        json_path = self.folder / f"{name}.json"
        if not regular_file(json_path):
            raise DataError(f"{json_path.name} is missing")
        if json_path.stat().st_size > MAX_JSON_BYTES:
            raise DataError(f"{json_path.name} is larger than "
                            f"{MAX_JSON_BYTES // 2**20} MiB")
        try:
            self.data = json.loads(json_path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise DataError(f"{json_path.name} is not JSON: {error}") \
                from None
        self.arrays = self._read_arrays(self.folder / f"{name}.npz")

    @staticmethod
    def _read_arrays(path):
        if not regular_file(path):
            return {}
        try:
            with zipfile.ZipFile(path) as archive:
                size = sum(info.file_size for info in archive.infolist())
            if size > MAX_ARRAY_BYTES:
                raise DataError(f"{path.name} holds more than "
                                f"{MAX_ARRAY_BYTES // 2**20} MiB")
            with np.load(path, allow_pickle=False) as archive:
                return {key: archive[key] for key in archive.files}
        except DataError:
            raise
        except Exception as error:
            raise DataError(f"{path.name} is not a NumPy archive: "
                            f"{error}") from None

    def decode(self, data, depth=0):
        if depth > MAX_DEPTH + 1:
            raise DataError("nested too deeply")
        if data is None or isinstance(data, (bool, int, float, str)):
            return data
        if isinstance(data, list):
            raise DataError("a bare list (lists are tagged)")
        if not isinstance(data, dict):
            raise DataError(f"unexpected {type(data).__name__}")
        kind = data.get(KIND)
        if kind == "int":
            return int(data["value"])
        if kind == "float":
            return float(data["value"])
        if kind in ("array", "scalar"):
            array = self.arrays.get(data.get("key"))
            if array is None or array.dtype.kind not in ARRAY_KINDS:
                raise DataError(f"array {data.get('key')!r} is missing")
            return array.copy() if kind == "array" else array[()]
        if kind in ("list", "tuple"):
            items = [self.decode(item, depth + 1)
                     for item in data.get("items", [])]
            return items if kind == "list" else tuple(items)
        if kind == "dict":
            pairs = [(self.decode(key, depth + 1),
                      self.decode(item, depth + 1))
                     for key, item in data.get("items", [])]
            try:
                return dict(pairs)
            except TypeError:
                raise DataError("a dict with an unhashable key") from None
        if kind == "keras_model":
            return self._model(str(data.get("file", "")))
        if kind == "unsupported":
            return unsupported(data.get("type", "object"),
                               data.get("note", ""))
        raise DataError(f"unknown kind {kind!r}")

    def _model(self, file_name):
        path = self.folder / file_name
        try:
            present = re.fullmatch(r"[\w.-]+\.keras", file_name) and \
                regular_file(path)
        except DataError as error:
            return unsupported("LinkedModel", str(error))
        if not present:
            return unsupported("MissingModel", f"{file_name} is missing")
        if path.stat().st_size > MAX_MODEL_BYTES:
            return unsupported("OversizedModel", "larger than "
                               f"{MAX_MODEL_BYTES // 2**20} MiB")
        if self.load_model is None:
            return unsupported("Model", "models are not read here")
        return self.load_model(path)
