"""The shipped MNIST file and its loader."""

import hashlib

import numpy as np
import pytest

from cnn_course import MNISTDataError, load_mnist
from cnn_course.data import EXPECTED_LAYOUT

FILE_SHA256 = (
    "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64")
CONTENT_SHA256 = (
    "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16")
SMALL_LAYOUT = {
    "x_train": ((4, 28, 28), np.uint8), "y_train": ((4,), np.uint8),
    "x_test": ((2, 28, 28), np.uint8), "y_test": ((2,), np.uint8),
}


def small_arrays():
    return {key: np.zeros(shape, dtype) for key, (shape, dtype)
            in SMALL_LAYOUT.items()}


def test_file_matches_the_documented_checksums(root):
    data = (root / "data" / "mnist.npz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == FILE_SHA256
    (x_train, y_train), (x_test, y_test) = load_mnist(root / "data" /
                                                      "mnist.npz")
    content = hashlib.sha256()
    for array in (x_train, y_train, x_test, y_test):
        content.update(array.tobytes())
    assert content.hexdigest() == CONTENT_SHA256


def test_keras_layout_counts_and_statistics():
    (x_train, y_train), (x_test, y_test) = load_mnist()
    for key, array in zip(EXPECTED_LAYOUT, (x_train, y_train, x_test,
                                            y_test)):
        assert (array.shape, array.dtype) == EXPECTED_LAYOUT[key]
    assert np.bincount(y_train).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    scaled = x_train / 255.0
    assert round(scaled.mean(), 4) == 0.1307
    assert round(scaled.std(), 4) == 0.3081


def test_environment_variable_points_elsewhere(tmp_path, monkeypatch):
    path = tmp_path / "small.npz"
    np.savez(path, **small_arrays())
    monkeypatch.setenv("CNN_COURSE_DATA", str(path))
    from cnn_course.data import default_mnist_path

    assert default_mnist_path() == path


def test_missing_file_names_it_and_says_how_to_restore(tmp_path):
    path = tmp_path / "nowhere" / "mnist.npz"
    with pytest.raises(MNISTDataError) as error:
        load_mnist(path)
    assert str(path) in str(error.value)
    assert "git checkout -- data/mnist.npz" in str(error.value)


def test_truncated_file_is_reported(tmp_path, root):
    path = tmp_path / "mnist.npz"
    path.write_bytes((root / "data" / "mnist.npz").read_bytes()[:50000])
    with pytest.raises(MNISTDataError, match="damaged or truncated") as error:
        load_mnist(path)
    assert str(path) in str(error.value)


def test_wrong_shape_is_reported(tmp_path):
    arrays = small_arrays()
    arrays["x_train"] = np.zeros((4, 28, 27), np.uint8)
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(MNISTDataError, match=r"x_train has shape \(4, 28, 27"):
        load_mnist(path, layout=SMALL_LAYOUT)


def test_missing_key_is_reported(tmp_path):
    arrays = small_arrays()
    del arrays["y_test"]
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(MNISTDataError, match="lacks the arrays"):
        load_mnist(path, layout=SMALL_LAYOUT)


def test_pickled_arrays_are_refused(tmp_path):
    arrays = small_arrays()
    arrays["y_train"] = np.array([object()] * 4, dtype=object)
    path = tmp_path / "pickled.npz"
    np.savez(path, **arrays)
    with pytest.raises(MNISTDataError, match="damaged"):
        load_mnist(path, layout=SMALL_LAYOUT)


def test_small_file_loads_with_its_layout(tmp_path):
    path = tmp_path / "small.npz"
    np.savez(path, **small_arrays())
    (x_train, _), (x_test, _) = load_mnist(path, layout=SMALL_LAYOUT)
    assert x_train.shape == (4, 28, 28) and x_test.shape == (2, 28, 28)


# ------------------------------------------ the lesson 04 ablation file ---

ABLATION_MODELS = {"seed", "robust", "seed_augmented",
                   "robust_no_augmentation", "robust_flatten",
                   "robust_flatten_no_augmentation"}


def test_the_lesson04_ablation_file_holds_every_model_and_shift():
    from cnn_course import load_benchmark_figures

    figures = load_benchmark_figures("lesson04_ablation")
    assert figures["source"].startswith("benchmarks/bench_lesson04.py")
    assert set(figures["models"]) == ABLATION_MODELS
    for model in figures["models"].values():
        curve = model["shifted_accuracy"]
        assert sorted(int(dx) for dx in curve) == list(range(-4, 5))
        assert all(0 <= accuracy <= 1 for accuracy in curve.values())


def test_benchmark_figures_are_found_from_any_folder(tmp_path, monkeypatch,
                                                     root):
    from cnn_course.data import course_data_file

    monkeypatch.delenv("CNN_COURSE_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # no data/ here: the package's own
    assert course_data_file("lesson04_ablation.json") == \
        root / "data" / "lesson04_ablation.json"
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "lesson04_ablation.json").write_text("{}")
    monkeypatch.setenv("CNN_COURSE_DATA", str(tmp_path / "copy" / "m.npz"))
    assert course_data_file("lesson04_ablation.json") == \
        tmp_path / "copy" / "lesson04_ablation.json"


def test_missing_benchmark_figures_say_how_to_restore(monkeypatch):
    from cnn_course import load_benchmark_figures

    monkeypatch.delenv("CNN_COURSE_DATA", raising=False)
    with pytest.raises(FileNotFoundError) as error:
        load_benchmark_figures("no_such_figures")
    assert "git checkout -- data/no_such_figures.json" in str(error.value)
    assert "python -m benchmarks.run" in str(error.value)
