"""The learners' Keras models the judge opens and trains (issue #20).

A model shares a training result only with the same model; the model the
judge trains is the lesson's design; a model file is checked before Keras
opens it; a model's cost is checked before the judge trains it. Honest
designs (the solutions, the criterion benchmark's designs, the check
tests' variants) pass every one of these checks.
"""

import json
import resource
import struct
import time
import zipfile

import h5py
import local_judge
import pytest
from helpers import LESSON04, hidden_score, judged

from autograder import lesson01 as check01
from autograder import lesson04 as check04
from autograder.feedback import FAIL_MARK, PASS_MARK, CheckFailure
from benchmarks import bench_robust_criterion as criterion
from trusted_grader.judging import model_limits, reference, robustness, server
from trusted_grader.judging.hidden import lesson04 as hidden04

LESSON = LESSON04
TRAINED_CASE = "holds up on shifted digits after the grader's training"
TOY_CASE = "learns an easy one-hot problem"
GIB = 2**30


def gap_design(keras, pooling_dtype=None, filters=(16, 32, 64),
               translation=(0.1, 0.15), learning_rate=1e-3):
    """The benchmark's plain_gap design (robust after the judge's short
    training), optionally with a dtype on its pooling layer."""
    def build(input_shape=(28, 28, 1), num_classes=10):
        width = translation(input_shape) if callable(translation) \
            else translation
        first, second, third = filters
        pooling = {"dtype": pooling_dtype} if pooling_dtype else {}
        model = keras.Sequential([
            keras.Input(shape=input_shape),
            keras.layers.RandomTranslation(*width),
            keras.layers.Conv2D(first, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(second, 3, padding="same",
                                activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(third, 3, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(**pooling),
            keras.layers.Dense(num_classes, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return model
    return build


def case_line(results, name, label):
    """The judge's line for one hidden case of exercise `name`."""
    output = results[f"hidden_{name}"]["output"]
    return next(line for line in output.splitlines() if label in line)


@pytest.fixture
def fresh_trainings(monkeypatch):
    """An empty training cache for this test: what it trains, it sees."""
    results = {}
    monkeypatch.setattr(hidden04, "_robustness_results", results)
    return results


def reference_designs(keras, ref):
    """(name, build) of every honest design of build_robust_cnn."""
    from test_lesson04_checks import robust_variant

    designs = [("solution", ref.build_robust_cnn)]
    designs += [(name, build) for name, build, expected
                in criterion.DESIGNS if expected == "pass"]
    designs += [("check_variant", robust_variant(keras)),
                ("check_variant_functional",
                 robust_variant(keras, functional=True)),
                ("pixels_per_size", gap_design(
                    keras, translation=lambda shape: (
                        0.1, 4 / shape[1])))]
    return designs


# ------------------------------------------------------ training cache ---

def test_the_cache_key_is_the_whole_saved_config(keras):
    honest = gap_design(keras)
    key = robustness.architecture_key
    # Built twice, the layers get other automatic names (conv2d_7, ...).
    assert key(honest((14, 14, 1))) == key(honest((14, 14, 1)))
    reference_key = key(honest((14, 14, 1)))
    changed = [gap_design(keras, pooling_dtype="bool"),
               gap_design(keras, pooling_dtype="mixed_float16"),
               gap_design(keras, learning_rate=1e-2),
               gap_design(keras, translation=(0.1, 0.2)),
               gap_design(keras, filters=(16, 32, 48))]
    keys = {key(build((14, 14, 1))) for build in changed}
    assert len(keys) == len(changed) and reference_key not in keys
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, 1000)
    other = honest((14, 14, 1))
    other.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    assert key(other) != reference_key


@pytest.mark.slow
def test_a_model_with_a_bool_layer_never_shares_the_honest_result(
        keras, fresh_trainings):
    honest = gap_design(keras)
    poisoned = gap_design(keras, pooling_dtype="bool")
    # Before the honest twin, after it, and the honest one after both.
    for student, honest_student in ((poisoned, False), (honest, True),
                                    (poisoned, False), (honest, True)):
        results = judged(check04, "build_robust_cnn", student)
        line = case_line(results, "build_robust_cnn", TRAINED_CASE)
        if honest_student:
            assert results["hidden_build_robust_cnn"]["score"] == 3.0, line
            assert results["test_build_robust_cnn"]["score"] == 1.0
        else:
            assert line.startswith(FAIL_MARK), line
            assert "hardly learned" in line
            assert results["hidden_build_robust_cnn"]["score"] == 2.0
    assert len(fresh_trainings) == 2  # each trained once, then reused


# --------------------------------------------------- the trained model ---

def test_a_model_robust_only_at_the_probe_shape_loses_the_trained_case(
        keras, fresh_trainings):
    honest = gap_design(keras)
    untrainable = gap_design(keras, pooling_dtype="bool")

    def probe_only(input_shape=(28, 28, 1), num_classes=10):
        if tuple(input_shape) == robustness.INPUT_SHAPE:
            return honest(input_shape, num_classes)
        return untrainable(input_shape, num_classes)

    results = judged(check04, "build_robust_cnn", probe_only)
    line = case_line(results, "build_robust_cnn", TRAINED_CASE)
    assert line.startswith(FAIL_MARK)
    assert "builds another model for input_shape=(14, 14, 1) than for " \
           "(28, 28, 1)" in line
    assert "GlobalAveragePooling2D" in line and "bool" in line
    assert results["hidden_build_robust_cnn"]["score"] == 2.0
    assert fresh_trainings == {}  # refused before any training


def test_honest_designs_are_the_same_at_the_probe_and_lesson_shapes(
        keras, ref):
    for name, build in reference_designs(keras, ref):
        probe = build(robustness.INPUT_SHAPE, 10)
        lesson = build(robustness.LESSON_SHAPE, 10)
        assert robustness.design_problem(probe, lesson) is None, name


@pytest.mark.parametrize("change, where", [
    ({"filters": (16, 32, 8)}, "layer 6 (Conv2D) filters"),
    ({"learning_rate": 1.0}, "learning_rate"),
    ({"translation": (0.1, 0.5)}, "layer 1 (RandomTranslation) "
                                  "width_factor"),
])
def test_a_probe_of_another_design_is_named(keras, change, where):
    probe = gap_design(keras)(robustness.INPUT_SHAPE, 10)
    lesson = gap_design(keras, **change)(robustness.LESSON_SHAPE, 10)
    assert where in robustness.design_problem(probe, lesson)


# ---------------------------------------------------- model files ---

def declare_size(path, member, size):
    """Rewrite the uncompressed size `member` declares in the zip at
    `path` (local header and central directory) to `size` bytes; its
    stored bytes stay as they are, a few kilobytes."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    with zipfile.ZipFile(path) as archive:
        offset = archive.getinfo(member).header_offset
    assert data[offset:offset + 4] == b"PK\x03\x04"
    struct.pack_into("<L", data, offset + 22, size)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + length] == name:
            struct.pack_into("<L", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def deflated_copy(path, member):
    """Rewrite the zip at `path` with `member` deflated (as a bomb is)."""
    with zipfile.ZipFile(path) as archive:
        contents = {info.filename: archive.read(info)
                    for info in archive.infolist()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data, compress_type=(
                zipfile.ZIP_DEFLATED if name == member
                else zipfile.ZIP_STORED))


@pytest.fixture
def opened_sizes(monkeypatch):
    """Declared sizes of every zip member opened while the test runs."""
    sizes = []
    real_open = zipfile.ZipFile.open

    def spy(archive, name, mode="r", *args, **kwargs):
        if mode == "r":
            info = name if isinstance(name, zipfile.ZipInfo) \
                else archive.getinfo(name)
            sizes.append(info.file_size)
        return real_open(archive, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    return sizes


def test_a_config_declaring_gigabytes_is_refused_unread(
        keras, tmp_path, opened_sizes):
    path = tmp_path / "bomb.keras"
    gap_design(keras)((14, 14, 1)).save(path)
    deflated_copy(path, model_limits.CONFIG)
    declare_size(path, model_limits.CONFIG, 3 * GIB // 2)
    assert path.stat().st_size < 2**20
    opened_sizes.clear()
    started = time.perf_counter()
    with pytest.raises(CheckFailure) as refused:
        server.load_model(path)
    assert time.perf_counter() - started < 1.0
    assert "config.json in the saved model file declares 1,610,612,736 " \
           "bytes; the grader opens at most 1,048,576" in \
           refused.value.message
    assert opened_sizes == []  # not a byte of any member was read


def test_every_recorded_bomb_scores_zero_with_the_limit_named(
        ref, tmp_path, monkeypatch, opened_sizes):
    lesson_judge = local_judge.lesson_judge(LESSON, 0,
                                            local_judge._inputs_root())
    answers = tmp_path / "answers"
    answers.mkdir()
    local_judge.record_answers(lesson_judge,
                         {"build_robust_cnn": ref.build_robust_cnn}, answers)
    bombs = sorted(answers.glob("*build_robust_cnn-*.keras"))
    assert len(bombs) >= 5
    for path in bombs:
        declare_size(path, model_limits.CONFIG, 3 * GIB // 2)
    monkeypatch.setattr(robustness, "train_and_measure", None)
    opened_sizes.clear()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results = lesson_judge.judge(answers)
    assert max(opened_sizes, default=0) < GIB
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert grown < 500 * 2**10  # kB: far below the 1.5 GiB declared
    for cell in ("test_build_robust_cnn", "hidden_build_robust_cnn"):
        assert results[cell]["score"] == 0.0
        assert "declares 1,610,612,736 bytes; the grader opens at most " \
               "1,048,576" in results[cell]["output"]


def test_a_config_declaring_billions_of_weights_is_refused_unallocated(
        keras, tmp_path):
    path = tmp_path / "wide.keras"
    model = keras.Sequential([keras.Input(shape=(4,)),
                              keras.layers.Dense(3)])
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members[model_limits.CONFIG])
    config["config"]["layers"][0]["config"]["batch_shape"] = [None, 100_000]
    config["config"]["layers"][1]["config"]["units"] = 100_000
    del config["config"]["layers"][1]["build_config"]
    # Normalization reads its variables while it is built.
    config["config"]["layers"].append({
        "module": "keras.layers", "class_name": "Normalization",
        "config": {"name": "wide_normalization", "axis": -1}})
    config["build_config"]["input_shape"] = [None, 100_000]
    members[model_limits.CONFIG] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problem = model_limits.file_problem(path)
    assert "declares 10,000,300,001 parameters; the grader loads at " \
           "most 24,000,000" in problem
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert grown < 500 * 2**10  # kB, where 40 GB were declared


def test_weights_declaring_a_gigabyte_in_a_few_bytes_are_refused(
        keras, tmp_path):
    path = tmp_path / "weights.keras"
    keras.Sequential([keras.Input(shape=(4,)),
                      keras.layers.Dense(3)]).save(path)
    weights = tmp_path / model_limits.WEIGHTS
    with h5py.File(weights, "w") as store:
        # Chunked and compressed, never written: stored in a few bytes.
        store.create_dataset("layers/dense/vars/0", shape=(GIB // 4,),
                             dtype="f4", chunks=(2**20,),
                             compression="gzip")
    assert weights.stat().st_size < 2**20
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[model_limits.WEIGHTS] = weights.read_bytes()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert "weights declare 1,073,741," in model_limits.file_problem(path)


@pytest.mark.parametrize("member, clue", [
    ("extra.py", "which is not part of a Keras model"),
    ("assets/../../etc", "which is not part of a Keras model"),
])
def test_unexpected_members_are_refused(keras, tmp_path, member, clue):
    path = tmp_path / "model.keras"
    keras.Sequential([keras.Input(shape=(4,)),
                      keras.layers.Dense(3)]).save(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(member, b"print('hello')")
    assert clue in model_limits.file_problem(path)


def rewritten(path, member, change, compression=zipfile.ZIP_STORED):
    """Rewrite `member` of the zip at `path` as `change(its bytes)`."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[member] = change(members[member])
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data, compress_type=compression)


def test_a_config_padded_to_compress_a_thousandfold_is_refused(
        keras, tmp_path):
    path = tmp_path / "padded.keras"
    keras.Sequential([keras.Input(shape=(4,)),
                      keras.layers.Dense(3)]).save(path)
    rewritten(path, model_limits.CONFIG,
              lambda config: config + b" " * 900_000, zipfile.ZIP_DEFLATED)
    assert "config.json in the saved model file expands" in \
        model_limits.file_problem(path)


def test_a_config_of_hundreds_of_layers_is_refused_unbuilt(keras, tmp_path):
    path = tmp_path / "deep.keras"
    keras.Sequential([keras.Input(shape=(4,)),
                      keras.layers.Dense(4)]).save(path)

    def deepen(data):
        config = json.loads(data)
        layers = config["config"]["layers"]
        layers += [layers[1]] * 250
        return json.dumps(config).encode()

    rewritten(path, model_limits.CONFIG, deepen)
    assert "the saved model has 252 layers; the grader loads at most 200" \
        in model_limits.file_problem(path)


def test_a_directory_of_many_entries_is_refused_before_zipfile_reads_it(
        tmp_path):
    path = tmp_path / "many.keras"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(model_limits.MAX_MEMBERS + 1):
            archive.writestr(f"assets/{number}", b"")
    assert "holds 17 files; the grader opens at most 16" in \
        model_limits.file_problem(path)


# ---------------------------------------------------------- compute ---

def heavy_dense_model(keras):
    """Lesson 01's model with a heavy convolutional branch beside it:
    116 million FLOPs per example (the solution: 31 thousand), about
    half a teraFLOP for the toy problem's fit."""
    def build_dense_model(num_pixels=784, num_classes=10):
        inputs = keras.Input(shape=(num_pixels,))
        dense = keras.layers.Dense(1024, activation="relu")(inputs)
        dense = keras.layers.Dense(num_classes)(dense)
        image = keras.layers.Dense(14 * 14)(inputs)
        image = keras.layers.Reshape((14, 14, 1))(image)
        for _ in range(3):
            image = keras.layers.Conv2D(128, 3, padding="same",
                                        activation="relu")(image)
        image = keras.layers.GlobalAveragePooling2D()(image)
        image = keras.layers.Dense(num_classes)(image)
        outputs = keras.layers.Activation("softmax")(
            keras.layers.Add()([dense, image]))
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="categorical_crossentropy",
                      metrics=["accuracy"])
        return model
    return build_dense_model


def test_a_heavy_lesson01_model_is_not_trained(keras, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("the judge trained the heavy model")

    monkeypatch.setattr(keras.Model, "fit", no_training)
    started = time.perf_counter()
    results = judged(check01, "build_dense_model", heavy_dense_model(keras))
    assert time.perf_counter() - started < 60
    line = case_line(results, "build_dense_model", TOY_CASE)
    assert line.startswith(FAIL_MARK)
    assert "the grader does not train this model: one example costs " \
           "116," in line and "over the limit of 4,000,000" in line


def test_a_heavy_robust_cnn_is_not_trained(keras, fresh_trainings):
    heavy = gap_design(keras, filters=(256, 256, 256))
    results = judged(check04, "build_robust_cnn", heavy)
    line = case_line(results, "build_robust_cnn", TRAINED_CASE)
    assert line.startswith(FAIL_MARK)
    assert ("floating-point operations, over the limit of "
            f"{model_limits.ROBUSTNESS_TRIAL.flops:,}") in line
    assert results["hidden_build_robust_cnn"]["score"] == 2.0
    assert fresh_trainings == {}


def test_a_model_without_input_is_bounded_as_fit_would_build_it(keras):
    def unbuilt(num_pixels=784, num_classes=10, units=1024):
        model = keras.Sequential([
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    results = judged(check01, "build_dense_model", unbuilt)
    assert case_line(results, "build_dense_model", TOY_CASE).startswith(
        PASS_MARK)
    wide = unbuilt(12, 3, units=10**9)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problem = model_limits.compute_problem(wide, model_limits.TOY_PROBLEM,
                                           input_shape=(12,))
    assert "it has 16,000,000,003 parameters, over the limit of " \
           "4,000,000" in problem
    assert not wide.built
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert grown < 500 * 2**10  # kB, where 60 GB were declared


def test_layers_without_a_bound_are_refused(keras):
    model = keras.Sequential([keras.Input(shape=(None, 4)),
                              keras.layers.Dense(3)])
    problem = model_limits.compute_problem(model,
                                           model_limits.TOY_PROBLEM)
    assert "the output size of" in problem and "is not fixed" in problem


def test_the_trial_runs_compiled_without_metrics(keras):
    model = gap_design(keras)(robustness.INPUT_SHAPE, 10)
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  metrics=["accuracy"] * 3, run_eagerly=True)
    fresh = robustness.rebuild(model, 0)
    config = fresh.get_compile_config()
    assert config["run_eagerly"] is False and config["metrics"] is None
    assert config["loss"] == "categorical_crossentropy"


# ---------------------------------------------------- honest designs ---

def test_honest_models_pass_every_file_and_compute_check(keras, ref,
                                                         tmp_path):
    path = tmp_path / "model.keras"
    for name, build in reference_designs(keras, ref):
        for shape, classes in ((robustness.INPUT_SHAPE, 10),
                               (robustness.LESSON_SHAPE, 10),
                               ((32, 32, 1), 5)):
            model = build(shape, classes)
            model.save(path)
            assert model_limits.file_problem(path) is None, (name, shape)
        probe = build(robustness.INPUT_SHAPE, 10)
        assert robustness.training_problem(probe) is None, name
    dense = reference.load("01_dense_translation").build_dense_model
    for pixels, classes in ((12, 3), (784, 10)):
        dense(pixels, classes).save(path)
        assert model_limits.file_problem(path) is None
    assert model_limits.compute_problem(
        dense(12, 3), model_limits.TOY_PROBLEM) is None
    # build_cnn at the visible and hidden tests' sizes, and the largest
    # the hidden tests ever asked for.
    for shape, classes in (((28, 28, 1), 10), ((12, 12, 1), 4),
                           ((20, 20, 3), 5), ((15, 15, 2), 7),
                           ((32, 32, 3), 11)):
        ref.build_cnn(shape, classes).save(path)
        assert model_limits.file_problem(path) is None


def test_the_solutions_keep_their_points(ref):
    dense = reference.load("01_dense_translation").build_dense_model
    assert hidden_score(check01, "build_dense_model", dense) == 2.0
    results = judged(check01, "build_dense_model", dense)
    assert case_line(results, "build_dense_model", TOY_CASE).startswith(
        PASS_MARK)


def test_the_toy_training_is_shared_only_by_the_same_design(keras):
    """Lesson 01's toy training is kept per design for the run: a model
    that differs from the honest one only in its learning rate (0: it
    cannot learn) fails although its honest twin was trained first, and
    the honest design, judged again, keeps its pass without a new
    training."""
    from trusted_grader.judging.hidden import lesson01 as hidden01

    dense = reference.load("01_dense_translation").build_dense_model

    def frozen(num_pixels=784, num_classes=10):
        model = dense(num_pixels, num_classes)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.0),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return model

    marks = []
    for build in (dense, frozen, dense):
        results = judged(check01, "build_dense_model", build)
        marks.append(case_line(results, "build_dense_model", TOY_CASE)[0])
        if build is dense and len(marks) == 1:
            trained = len(hidden01._toy_accuracies)
    assert marks == [PASS_MARK[0], FAIL_MARK[0], PASS_MARK[0]]
    assert len(hidden01._toy_accuracies) == trained + 1
