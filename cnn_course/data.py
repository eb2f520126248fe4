"""Offline MNIST loading with checks that say how to repair a bad file."""

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from cnn_course.paths import DATA

DATA_ENV_VAR = "CNN_COURSE_DATA"
EXPECTED_LAYOUT = {
    "x_train": ((60000, 28, 28), np.uint8),
    "y_train": ((60000,), np.uint8),
    "x_test": ((10000, 28, 28), np.uint8),
    "y_test": ((10000,), np.uint8),
}
RESTORE_HINT = (
    "Restore it with `git checkout -- data/mnist.npz` in your clone of the "
    "course (or copy it again from the course repository); set "
    f"{DATA_ENV_VAR} to use a copy stored elsewhere."
)


class MNISTDataError(RuntimeError):
    """The MNIST file is missing, damaged or does not have MNIST's layout."""


def default_mnist_path():
    """Where the course keeps MNIST.

    Order: the CNN_COURSE_DATA variable, then data/mnist.npz in the
    working directory or any parent (notebooks run in lesson folders),
    then the data/ folder beside this package.
    """
    if os.environ.get(DATA_ENV_VAR):
        return Path(os.environ[DATA_ENV_VAR])
    for folder in [Path.cwd(), *Path.cwd().parents]:
        candidate = folder / "data" / "mnist.npz"
        if candidate.is_file():
            return candidate
    return DATA / "mnist.npz"


def course_data_file(name):
    """data/<name> of the course: beside the MNIST file that
    CNN_COURSE_DATA names, in data/ of the working directory or a parent,
    or in the data/ folder beside this package (the first that exists)."""
    candidates = []
    if os.environ.get(DATA_ENV_VAR):
        candidates.append(Path(os.environ[DATA_ENV_VAR]).parent / name)
    candidates += [folder / "data" / name
                   for folder in [Path.cwd(), *Path.cwd().parents]]
    candidates.append(DATA / name)
    return next((path for path in candidates if path.is_file()),
                candidates[-1])


def load_benchmark_figures(name):
    """The figures a benchmark script saved in data/<name>.json (e.g.
    "lesson04_ablation"), for a notebook to show; a dict."""
    path = course_data_file(f"{name}.json")
    if not path.is_file():
        raise FileNotFoundError(
            f"Benchmark figures not found: {path}. Restore them with "
            f"`git checkout -- data/{name}.json` in your clone of the "
            "course, or measure them again with `python -m benchmarks.run`.")
    return json.loads(path.read_text(encoding="utf-8"))


def load_mnist(path=None, layout=EXPECTED_LAYOUT):
    """Load MNIST as Keras does: ((x_train, y_train), (x_test, y_test)).

    Never touches the network and never enables pickle. `layout` maps each
    key to its expected (shape, dtype); tests pass smaller layouts.
    """
    path = Path(path) if path is not None else default_mnist_path()
    if not path.is_file():
        raise MNISTDataError(f"MNIST file not found: {path}. {RESTORE_HINT}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in layout if key in archive}
            missing = [key for key in layout if key not in archive]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise MNISTDataError(
            f"MNIST file {path} is damaged or truncated ({error}). "
            f"{RESTORE_HINT}"
        ) from error
    if missing:
        raise MNISTDataError(
            f"MNIST file {path} lacks the arrays {missing}. {RESTORE_HINT}"
        )
    for key, (shape, dtype) in layout.items():
        array = arrays[key]
        if array.shape != shape or array.dtype != dtype:
            raise MNISTDataError(
                f"MNIST file {path}: {key} has shape {array.shape} and dtype "
                f"{array.dtype}, expected {shape} and {np.dtype(dtype)}. "
                f"{RESTORE_HINT}"
            )
    return (
        (arrays["x_train"], arrays["y_train"]),
        (arrays["x_test"], arrays["y_test"]),
    )
