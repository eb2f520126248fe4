"""Expected values for the visible checks, generated from the references.

Learners have no solutions/, so each visible check reads fixed cases from
``autograder/expected/<lesson>.json``. `python tools/expected_values.py`
regenerates those files from the reference solutions (a maintainer's tool
on the trusted side); a test fails when a file is stale.
"""

import importlib
import json
from pathlib import Path

import numpy as np

EXPECTED_DIR = Path(__file__).resolve().parent / "expected"


def lessons():
    """Lesson ids that have visible cases (one JSON file each)."""
    return sorted(path.stem for path in EXPECTED_DIR.glob("*.json"))


def module_for(lesson):
    """The check module of a lesson: 01_dense_translation -> lesson01."""
    return importlib.import_module(f"autograder.lesson{lesson[:2]}")


def encode(value):
    """JSON-able form of arrays (with dtype) and plain values."""
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def decode(value):
    if isinstance(value, dict):
        if set(value) == {"array", "dtype"}:
            return np.array(value["array"], dtype=value["dtype"])
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def path_for(lesson):
    return EXPECTED_DIR / f"{lesson}.json"


def load(lesson):
    """The decoded visible cases of `lesson`."""
    with open(path_for(lesson), encoding="utf-8") as file:
        return decode(json.load(file))
