"""Grading integrity through the grading command: one class, one run.

Each attack of issue 20 that reaches the judge is graded here beside
honest submissions, in one run with `--jobs 2`, the way an instructor
grades: a model that shares an honest design's layers but not one layer's
dtype, graded before and after the honest one; a model robust only at the
judge's probe shape; a model the judge would train for minutes; a recorded
model file whose config decompresses to 200 MB; a lesson-01 model with a
heavy branch the judge would train; lesson 02's visible answers looked up.
Each attack earns nothing from what it attacks, costs the judge little,
and the honest students keep every autograded point.
"""

import json
import re

import nbformat
import pytest
from helpers import (
    LESSON01,
    LESSON02,
    LESSON04,
    cell,
    exercise_points,
    grade_class,
    judge_output,
    lesson_notebook,
)
from test_adversarial import hard_coded_source

from autograder import lesson02
from trusted_grader.judging import reference

pytestmark = pytest.mark.slow
HONEST_POOLING = "keras.layers.GlobalAveragePooling2D(),"
BOOL_POOLING = 'keras.layers.GlobalAveragePooling2D(dtype="bool"),'
# Robust at the judge's 14x14 probe, untrainable at every other shape.
PROBE_ONLY = '''

_robust_design = build_robust_cnn


def build_robust_cnn(input_shape=(28, 28, 1), num_classes=10):
    model = _robust_design(input_shape, num_classes)
    if tuple(input_shape) == (14, 14, 1):
        return model
    return keras.models.clone_model(model, clone_function=_poison)


def _poison(layer):
    config = layer.get_config()
    if isinstance(layer, keras.layers.GlobalAveragePooling2D):
        config["dtype"] = "bool"
    return type(layer).from_config(config)
'''
# Wide convolutions at full resolution: minutes of training for the judge.
HEAVY = '''

def build_robust_cnn(input_shape=(28, 28, 1), num_classes=10):
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.RandomTranslation(0.1, 0.15),
        keras.layers.Conv2D(256, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(256, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(256, 3, padding="same", activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model
'''
# After the checks recorded its models, the notebook rewrites each saved
# answer so that its config.json holds 200 MB of spaces (200 kB on disk).
CONFIG_BOMB = '''import glob
import os
import zipfile

folder = os.environ.get("COURSE_GRADING_ANSWERS", "")
for path in glob.glob(os.path.join(folder, "*.keras")):
    with zipfile.ZipFile(path) as saved:
        others = {name: saved.read(name) for name in saved.namelist()
                  if name != "config.json"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        with bomb.open("config.json", "w", force_zip64=True) as config:
            for _ in range(200):
                config.write(b" " * 2**20)
        for name, data in others.items():
            bomb.writestr(name, data)
    print("BOMBED", os.path.basename(path))
'''
# A functional model whose extra branch makes the judge's toy training
# cost minutes; its output is still the lesson's Dense softmax head.
HEAVY_DENSE = '''def build_dense_model(num_pixels=784, num_classes=10):
    inputs = keras.Input(shape=(num_pixels,))
    hidden = keras.layers.Dense(1024, activation="relu")(inputs)
    side = keras.layers.Dense(4096, activation="relu")(inputs)
    for _ in range(3):
        side = keras.layers.Dense(4096, activation="relu")(side)
    side = keras.layers.Dense(1024)(side)
    merged = keras.layers.Add()([hidden, side])
    outputs = keras.layers.Dense(num_classes, activation="softmax")(merged)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model
'''
LOOKED_UP = ("conv2d", "avg_pool2d", "conv2d_fast")


def robust_notebook(root, transform):
    notebook = lesson_notebook(root, "solutions", LESSON04)
    found = cell(notebook, "build_robust_cnn")
    found.source = transform(found.source)
    return notebook


def lookup_notebook(root):
    """Lesson 02 with the from-scratch exercises answered by a table of
    the visible cases' answers (ValueError for anything else)."""
    notebook = lesson_notebook(root, "solutions", LESSON02)
    ref = reference.load(LESSON02)
    for name in LOOKED_UP:
        cell(notebook, name).source = hard_coded_source(
            name, getattr(ref, name), getattr(lesson02, name))
    return notebook


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("integrity-attacks")
    bomb = lesson_notebook(root, "solutions", LESSON04)
    bomb.cells.append(nbformat.v4.new_code_cell(CONFIG_BOMB))
    heavy_dense = lesson_notebook(root, "solutions", LESSON01)
    cell(heavy_dense, "build_dense_model").source = HEAVY_DENSE
    notebooks = {
        # The poisoned twins sort before and after the honest student.
        f"apoisoned_{LESSON04}": robust_notebook(
            root, lambda source: source.replace(HONEST_POOLING,
                                                BOOL_POOLING)),
        f"bhonest_{LESSON04}": lesson_notebook(root, "solutions", LESSON04),
        f"cpoisoned_{LESSON04}": robust_notebook(
            root, lambda source: source.replace(HONEST_POOLING,
                                                BOOL_POOLING)),
        f"probeonly_{LESSON04}": robust_notebook(
            root, lambda source: source + PROBE_ONLY),
        f"heavy_{LESSON04}": robust_notebook(root, lambda source: HEAVY),
        f"bomb_{LESSON04}": bomb,
        f"heavydense_{LESSON01}": heavy_dense,
        f"bhonest_{LESSON01}": lesson_notebook(root, "solutions", LESSON01),
        f"lookup_{LESSON02}": lookup_notebook(root),
    }
    output = tmp_path_factory.mktemp("graded-integrity-attacks")
    return output, grade_class(root, notebooks, folder, output, "--jobs",
                               "2", "--seed", "21")


def judge_seconds(output, student, lesson):
    log = (output / "logs" / f"{student}_{lesson}.log").read_text()
    return float(re.search(r"^judge: ([\d.]+) s", log, re.M).group(1))


def test_honest_students_keep_every_point(graded):
    _, rows = graded
    for student, lesson, points in (("bhonest", LESSON04, 10),
                                    ("bhonest", LESSON01, 10)):
        row = rows[(student, lesson)]
        assert row["status"] == "graded", row
        assert float(row["score"]) == points, row


@pytest.mark.parametrize("student", ["apoisoned", "cpoisoned"])
def test_a_poisoned_twin_never_shares_the_honest_result(graded, student):
    output, rows = graded
    assert rows[(student, LESSON04)]["status"] == "graded"
    visible, hidden = exercise_points(output, student, LESSON04,
                                      "build_robust_cnn")
    assert hidden < 3
    assert "holds up on shifted digits" in judge_output(
        output, student, LESSON04, "hidden_build_robust_cnn")


def test_a_probe_only_model_loses_the_trained_case(graded):
    output, _ = graded
    _, hidden = exercise_points(output, "probeonly", LESSON04,
                                "build_robust_cnn")
    assert hidden < 3
    # The two other exercises are the honest solution's.
    assert exercise_points(output, "probeonly", LESSON04, "build_cnn") == \
        (1, 2)


@pytest.mark.parametrize("student, lesson", [("heavy", LESSON04),
                                             ("heavydense", LESSON01)])
def test_a_model_too_costly_to_train_is_refused_quickly(graded, student,
                                                        lesson):
    output, rows = graded
    assert rows[(student, lesson)]["status"] == "graded"
    exercise = "build_robust_cnn" if lesson == LESSON04 \
        else "build_dense_model"
    _, hidden = exercise_points(output, student, lesson, exercise)
    full = 3 if lesson == LESSON04 else 2
    assert hidden < full
    assert judge_seconds(output, student, lesson) < 20


def test_a_decompression_bomb_is_refused_before_it_is_opened(graded):
    output, rows = graded
    assert rows[("bomb", LESSON04)]["status"] == "graded"
    assert exercise_points(output, "bomb", LESSON04,
                           "build_robust_cnn") == (0, 0)
    assert judge_seconds(output, "bomb", LESSON04) < 20


def test_looked_up_visible_answers_earn_nothing(graded):
    output, rows = graded
    for name in LOOKED_UP:
        assert exercise_points(output, "lookup", LESSON02, name) == (0, 0), \
            name
    # conv_output_size is the honest solution's.
    assert exercise_points(output, "lookup", LESSON02,
                           "conv_output_size") == (1, 1)


def test_lesson04_is_judged_apart_from_the_other_lessons(graded):
    """With --jobs 2 lesson 04's trainings have a judge of their own
    (judge_client.JudgePanel): two judges' logs, each ready for its own
    lessons only, and every notebook of the run was judged."""
    output, rows = graded
    ready = {}
    for name in ("judge.log", f"judge-{LESSON04}.log"):
        text = (output / "logs" / name).read_text(encoding="utf-8")
        line = re.search(r"^ready: (.*)$", text, re.M).group(1)
        ready[name] = set(json.loads(line)["calls"])
    assert ready == {"judge.log": {LESSON01, LESSON02},
                     f"judge-{LESSON04}.log": {LESSON04}}
    for (student, lesson), row in rows.items():
        if row["status"] == "graded":
            assert judge_seconds(output, student, lesson) >= 0
