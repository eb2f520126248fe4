"""Limits on the learners' Keras models that the judge opens and trains.

A learner's model reaches the judge as a `.keras` file (a zip archive:
config.json, metadata.json, model.weights.h5, optional assets/). Keras
reads a member whole into memory and allocates every variable its config
declares, so a file of a few megabytes can declare gigabytes: a
config.json of 1.5 GiB of spaces deflated to 4.5 MB, a weights dataset
stored compressed, or a Dense layer of 10^10 weights in a 10 kB config.
And the judge trains some models itself (lesson 01's toy problem, lesson
04's robustness trial), so a model that needs minutes per epoch costs the
whole run that time.

Two checks, both before Keras or TensorFlow does the work:

* `file_problem(path)`: the archive, member by member, from its central
  directory only (declared sizes, names, count, compression), then the
  config's declared variables (built without allocating them) and the
  weights file's declared datasets. `server.load_model` runs it before
  `keras.saving.load_model`.
* `compute_problem(model, budget)`: parameters, the values the layers
  output per example (activations) and the floating-point operations of
  one forward pass per example (FLOPs), walked layer by layer through the
  model's graph, against a `ComputeBudget`. The judge runs it before any
  fit.

Each returns None or a message for the learner (`t()`), naming the limit
and the figure. The limits come from the course's honest models, measured
with the benchmark designs (see the constants) and given a wide margin;
a model over one scores 0 for that case, and nothing of it is allocated
or trained.
"""

import contextlib
import io
import json
import math
import struct
import warnings
import zipfile
from typing import NamedTuple

from cnn_course.messages import t

# --------------------------------------------------------- file limits ---
#
# Measured on the course's honest models as the kernel saves them
# (Keras 3.15, `model.save`, members stored uncompressed):
#
#   model                                   config.json  model.weights.h5
#   lesson 01 Dense(1024) for 784 pixels         2.8 kB           3.3 MB
#   lesson 04 build_cnn for (28, 28, 1), 10     4.5 kB          21.7 MB
#   seed CNN + RandomTranslation, (32, 32, 1)   5.1 kB          28.8 MB
#   lesson 04 robust CNN (solution, 28x28)     14.4 kB           0.9 MB
#   other benchmark designs, up to (32, 32)   up to 15 kB     up to 2.4 MB
#
# metadata.json is 64 bytes; no model of the course has assets. The
# largest honest model the judge loads is the seed CNN with augmentation
# (a benchmark design of build_robust_cnn) at the hidden (32, 32, 1) case:
# 7.2 million parameters (28.8 MB).

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
ASSETS = "assets/"
MAX_MEMBER_BYTES = {CONFIG: 2**20, METADATA: 64 * 2**10,
                    WEIGHTS: 96 * 2**20}
MAX_ASSETS_BYTES = 2**20
MAX_MEMBERS = 16
# The central directory of MAX_MEMBERS entries with names of a few
# hundred characters; read before Python's zipfile parses it.
MAX_DIRECTORY_BYTES = 64 * 2**10
# Keras stores members uncompressed (ratio 1); deflated JSON is about 10.
MAX_EXPANSION = 50
EXPANSION_FLOOR = 64 * 2**10  # smaller members may compress as they like
MAX_LOADED_PARAMETERS = 24_000_000  # 3.3x the largest honest model
# Layers, counting each call of a shared layer: honest designs have 5 to
# 22. Building a model takes milliseconds per layer, twice per answer.
MAX_LAYER_CALLS = 200
MAX_WEIGHT_OBJECTS = 10_000  # groups and datasets in model.weights.h5
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_END_RECORD = b"PK\x05\x06"
_END_RECORD_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"  # 20 bytes, just before the end record
_ZIP64_LOCATOR_SIZE = 20


def _end_record(path):
    """(entries, central directory bytes) from the zip's end record.

    Found as zipfile finds it (the last signature within the file's last
    64 kB + 22 bytes), before zipfile builds an object per entry (a
    200 MB file can declare millions). Raises ValueError for a file
    without one, or a Zip64 or multi-disk archive (Keras writes neither
    for models of this size; zipfile would take a Zip64 record's counts
    instead).
    """
    with open(path, "rb") as file:
        file.seek(0, io.SEEK_END)
        size = file.tell()
        file.seek(max(0, size - _END_RECORD_SIZE - 0xFFFF -
                      _ZIP64_LOCATOR_SIZE))
        tail = file.read()
    at = tail.rfind(_END_RECORD)
    if at < 0 or len(tail) - at < _END_RECORD_SIZE:
        raise ValueError("no zip end record")
    (_, disk, _, _, entries, directory_bytes, _,
     _) = struct.unpack("<4s4H2LH", tail[at:at + _END_RECORD_SIZE])
    locator = tail[at - _ZIP64_LOCATOR_SIZE:][:4] \
        if at >= _ZIP64_LOCATOR_SIZE else b""
    if entries == 0xFFFF or directory_bytes == 0xFFFFFFFF or disk or \
            locator == _ZIP64_LOCATOR:
        raise ValueError("a Zip64 or multi-disk archive")
    return entries, directory_bytes


def _member_kind(name):
    """config.json, metadata.json, model.weights.h5, assets/ or None."""
    if name in MAX_MEMBER_BYTES:
        return name
    parts = name.split("/")
    if parts[0] + "/" == ASSETS and len(name) <= 200 and all(
            part not in ("", ".", "..") for part in parts[1:-1]) and \
            all(char.isalnum() or char in "._-/" for char in name):
        return ASSETS
    return None


def archive_problem(archive):
    """A message if the members of the open zip `archive` (checked by
    their central-directory entries only, nothing decompressed) break a
    limit; else None."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        return t("the saved model file holds {count} files; the grader "
                 "opens at most {limit}.", count=len(infos),
                 limit=MAX_MEMBERS)
    seen, assets = set(), 0
    for info in infos:
        name = info.filename
        kind = _member_kind(name)
        if kind is None:
            return t("the saved model file holds {name!r}, which is not "
                     "part of a Keras model.", name=name[:80])
        if name in seen:
            return t("the saved model file holds {name} twice.", name=name)
        seen.add(name)
        if info.compress_type not in _COMPRESSIONS or \
                info.flag_bits & 0x1:
            return t("{name} in the saved model file is compressed or "
                     "encrypted in a way Keras never writes.", name=name)
        limit = MAX_MEMBER_BYTES.get(kind, MAX_ASSETS_BYTES)
        if info.file_size > limit:
            return t("{name} in the saved model file declares {size:,} "
                     "bytes; the grader opens at most {limit:,}.",
                     name=name, size=info.file_size, limit=limit)
        if info.file_size > EXPANSION_FLOOR and \
                info.file_size > MAX_EXPANSION * max(info.compress_size, 1):
            return t("{name} in the saved model file expands {ratio:,.0f} "
                     "times ({size:,} bytes from {stored:,}); the grader "
                     "accepts at most {limit} times.", name=name,
                     ratio=info.file_size / max(info.compress_size, 1),
                     size=info.file_size, stored=info.compress_size,
                     limit=MAX_EXPANSION)
        if kind == ASSETS:
            assets += info.file_size
    if assets > MAX_ASSETS_BYTES:
        return t("the assets in the saved model file declare {size:,} "
                 "bytes; the grader opens at most {limit:,}.", size=assets,
                 limit=MAX_ASSETS_BYTES)
    if CONFIG not in seen or WEIGHTS not in seen:
        return t("the saved model file lacks {name}.",
                 name=CONFIG if CONFIG not in seen else WEIGHTS)
    return None


def _keras_and_tensorflow():
    from cnn_course import import_tensorflow

    return import_tensorflow()


def _keras():
    return _keras_and_tensorflow()[1]


@contextlib.contextmanager
def _deferred_variables():
    """Variables created inside are shapes only: nothing is allocated.

    Keras' StatelessScope defers a variable's initialisation to the end of
    the outermost scope; with initialize_variables=False it never comes,
    and the deferred variables are taken off Keras' list afterwards so
    that no later scope initialises them either. Keras 3.15 internals
    (keras.src), pinned in requirements.txt; a test builds the course's
    models and a model of 10^10 weights through it.
    """
    from keras.src.backend.common import global_state
    from keras.src.backend.common.stateless_scope import StatelessScope

    tf = _keras_and_tensorflow()[0]
    name = "uninitialized_variables"
    before = list(global_state.get_global_attribute(name, []) or [])
    try:
        # In a graph, a layer that reads a deferred variable while it is
        # built (Normalization does) gets a symbolic tensor, not memory.
        with tf.Graph().as_default(), \
                StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute(name, before)


def declared_parameters(config):
    """How many values the variables of the model in `config` (a parsed
    config.json) hold, counted from their shapes without allocating them.

    Raises what Keras raises for a config it cannot build (safe mode, no
    custom objects).
    """
    keras = _keras()
    from keras.src.saving.serialization_lib import ObjectSharingScope

    config = dict(config)
    # An optimizer creates its variables at once; it adds no parameters.
    config["compile_config"] = None
    with _deferred_variables(), ObjectSharingScope(), \
            warnings.catch_warnings(), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        model = keras.saving.deserialize_keras_object(config,
                                                      safe_mode=True)
        return sum(math.prod(variable.shape) for variable in model.weights)


def layer_calls(config):
    """Layers in a parsed config.json, nested models' included; a layer
    called more than once (its inbound_nodes) counts once per call."""
    count = 0
    if isinstance(config, dict):
        for key, item in config.items():
            if key == "layers" and isinstance(item, list):
                count += sum(
                    max(1, len(layer.get("inbound_nodes") or []))
                    if isinstance(layer, dict) else 1 for layer in item)
            count += layer_calls(item)
    elif isinstance(config, list):
        count += sum(layer_calls(item) for item in config)
    return count


def config_problem(archive):
    """A message if config.json of the open model `archive` (sizes
    already checked) declares more layers or parameters than the judge
    loads."""
    try:
        config = json.loads(archive.read(CONFIG))
        if not isinstance(config, dict):
            raise ValueError("not a JSON object")
        calls = layer_calls(config)
        if calls > MAX_LAYER_CALLS:
            return t("the saved model has {count:,} layers; the grader "
                     "loads at most {limit:,}.", count=calls,
                     limit=MAX_LAYER_CALLS)
        count = declared_parameters(config)
    except Exception as error:  # RecursionError, Keras' ValueErrors, ...
        return t("the saved model's config.json cannot be read: "
                 "{error_type}: {error}", error_type=type(error).__name__,
                 error=str(error)[:200])
    if count > MAX_LOADED_PARAMETERS:
        return t("the saved model declares {count:,} parameters; the "
                 "grader loads at most {limit:,}.", count=count,
                 limit=MAX_LOADED_PARAMETERS)
    return None


def weights_problem(archive):
    """A message if the datasets in model.weights.h5 of the open model
    `archive` declare more bytes than the member may hold, else None.

    An HDF5 dataset can be stored compressed, so its declared shape, not
    the member's size, is what reading it allocates.
    """
    import h5py

    limit = MAX_MEMBER_BYTES[WEIGHTS]
    found = {"bytes": 0, "objects": 0}

    def visit(_, item):
        found["objects"] += 1
        if found["objects"] > MAX_WEIGHT_OBJECTS:
            return True  # stops the walk
        if isinstance(item, h5py.Dataset):
            found["bytes"] += math.prod(item.shape or ()) * \
                item.dtype.itemsize
        return None

    try:
        with h5py.File(io.BytesIO(archive.read(WEIGHTS)), "r") as weights:
            weights.visititems(visit)
    except Exception as error:
        return t("the saved model's weights cannot be read: {error_type}: "
                 "{error}", error_type=type(error).__name__,
                 error=str(error)[:200])
    if found["objects"] > MAX_WEIGHT_OBJECTS:
        return t("the saved model's weights hold more than {limit:,} "
                 "objects.", limit=MAX_WEIGHT_OBJECTS)
    if found["bytes"] > limit:
        return t("the saved model's weights declare {size:,} bytes; the "
                 "grader opens at most {limit:,}.", size=found["bytes"],
                 limit=limit)
    return None


def file_problem(path):
    """None if the `.keras` file at `path` is within every limit, else a
    message for the learner naming the limit.

    Reads the end record and the central directory first; no member is
    decompressed unless every declared size is within its limit, and the
    model is built (variables as shapes only) only from a config of
    bounded size.
    """
    try:
        entries, directory_bytes = _end_record(path)
        if entries > MAX_MEMBERS:
            return t("the saved model file holds {count} files; the "
                     "grader opens at most {limit}.", count=entries,
                     limit=MAX_MEMBERS)
        if directory_bytes > MAX_DIRECTORY_BYTES:
            return t("the saved model file's directory is {size:,} bytes; "
                     "the grader reads at most {limit:,}.",
                     size=directory_bytes, limit=MAX_DIRECTORY_BYTES)
        with zipfile.ZipFile(path) as archive:
            return archive_problem(archive) or config_problem(archive) or \
                weights_problem(archive)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        return t("the saved model file is not a readable .keras archive: "
                 "{error}", error=str(error)[:200])


# ------------------------------------------------------ compute limits ---

class ComputeBudget(NamedTuple):
    """What one model may cost the judge to train, per example.

    parameters: variables' values (model.count_params());
    activations: values output by all layers for one example;
    flops: floating-point operations of one forward pass of one example
    (a multiply-add counts 2; training costs about 3 times this).
    """

    parameters: int
    activations: int
    flops: int


# Measured with `estimate` (per example):
#
#   model                                  parameters  activations   FLOPs
#   lesson 01 solution, 12 pixels, 3 classes   16,387        1,039    30.8k
#   lesson 04 solution, 14x14 probe           221,314       26,826    2.54M
#   benchmark designs, 14x14 (17 designs)   up to 1.16M  up to 62.0k  up to
#     (seed CNN + Flatten/Dense(1000): 1.16M parameters;         10.1M
#     deep_bn_dropout: 62.0k activations and 10.1M FLOPs)
#
# The robustness trial fits 3 epochs of 6000 digits (18,000 examples, 282
# steps) and predicts 2500: about 20,000 forward passes and 18,000
# backward passes (about 2 forward passes each). On the benchmark machine
# the slowest correct design's trial takes 9.5 s and the mean 4.2 s
# (benchmarks/results.json), about one second per million FLOPs per
# example: the FLOPs bound, 1.2 times the heaviest honest design
# (deep_bn_dropout) and 4.7 times the solution, keeps one trial near
# 12 s, under the judge's 20 s per notebook with room for a busy machine.
# The other two bounds are wider (7 and 4 times): their cost per step is
# smaller.
ROBUSTNESS_TRIAL = ComputeBudget(parameters=8_000_000, activations=250_000,
                                 flops=12_000_000)
# Lesson 01's toy problem fits 96 examples for 15 epochs (45 steps of
# 32): 1440 examples. 4M FLOPs per example is 130 times the solution and
# about 17 GFLOP for the whole fit (a few seconds); a model with a hidden
# layer of 1024 more (2.1M FLOPs) still passes.
TOY_PROBLEM = ComputeBudget(parameters=4_000_000, activations=100_000,
                            flops=4_000_000)


class Estimate(NamedTuple):
    """A model's figures for a ComputeBudget; `refused` names a layer
    whose cost cannot be bounded (then the figures are incomplete)."""

    parameters: int
    activations: int
    flops: int
    refused: str | None = None


class _Unbounded(Exception):
    """A layer the estimate cannot bound; its message is for the learner."""


# Work per value for layers whose cost is a small constant per value they
# read or write: activations, normalisation, dropout, merges, reshaping.
PER_VALUE = 10
# Geometric augmentation and resizing interpolate a few neighbours per
# output value.
PER_PIXEL = 50
_ELEMENTWISE = (
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout",
    "ActivityRegularization", "BatchNormalization", "LayerNormalization",
    "GroupNormalization", "UnitNormalization", "Rescaling",
    "Normalization", "Add", "Subtract", "Multiply", "Average", "Maximum",
    "Minimum", "Concatenate", "InputLayer", "Flatten", "Reshape",
    "Permute", "RepeatVector", "Identity", "Masking", "UpSampling1D",
    "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D",
    "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
)
_GEOMETRIC = (
    "RandomTranslation", "RandomFlip", "RandomRotation", "RandomZoom",
    "RandomContrast", "RandomBrightness", "RandomCrop", "CenterCrop",
    "Resizing",
)
_POOLING = ("MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
            "AveragePooling1D", "AveragePooling2D", "AveragePooling3D")
# Layers that run code or graphs from outside the saved config.
_REFUSED = ("Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer",
            "FlaxLayer")


def _values(shape, where):
    """Values of one example in a tensor of `shape` (batch axis first)."""
    dims = tuple(shape)[1:]
    if any(dim is None for dim in dims):
        raise _Unbounded(t("the output size of {layer} is not fixed "
                           "({shape}).", layer=where, shape=tuple(shape)))
    return math.prod(int(dim) for dim in dims)


def _keras_class(operation, names):
    """True if `operation` is one of Keras' own classes named `names`."""
    keras = _keras()
    return any(isinstance(operation, getattr(keras.layers, name))
               for name in names if hasattr(keras.layers, name))


def _layer_flops(layer, read, written):
    """FLOPs of one call of `layer` reading `read` and writing `written`
    values per example.

    Convolutions and Dense count 2 per multiply-add from their kernels'
    shapes; constant-work layers PER_VALUE or PER_PIXEL per value; any
    other operation is counted as if every output value read every input
    value and every weight: 2 * (read + written) * (read + weights + 1),
    an upper bound for the layers Keras ships (recurrent layers and
    attention included) that makes a large unknown layer fail the budget.
    """
    keras = _keras()
    layers = keras.layers
    name = type(layer).__name__
    if _keras_class(layer, _REFUSED):
        raise _Unbounded(t("the grader cannot bound the cost of its "
                           "{layer} layer.", layer=name))
    if _keras_class(layer, ("Conv1DTranspose", "Conv2DTranspose",
                            "Conv3DTranspose")):
        kernel = tuple(layer.kernel.shape)  # sizes + (filters, channels)
        return 2 * read * math.prod(kernel[:-2]) * kernel[-2]
    if _keras_class(layer, ("SeparableConv1D", "SeparableConv2D")):
        depthwise = tuple(layer.depthwise_kernel.shape)
        pointwise = tuple(layer.pointwise_kernel.shape)
        positions = written // pointwise[-1]
        return 2 * positions * (math.prod(depthwise) + math.prod(pointwise))
    if _keras_class(layer, ("DepthwiseConv1D", "DepthwiseConv2D")):
        # kernel: sizes + (channels, multiplier); written counts both.
        return 2 * written * math.prod(tuple(layer.kernel.shape)[:-2])
    if _keras_class(layer, ("Conv1D", "Conv2D", "Conv3D")):
        # kernel: sizes + (channels / groups, filters).
        return 2 * written * math.prod(tuple(layer.kernel.shape)[:-1])
    if isinstance(layer, layers.Dense):
        return 2 * written * int(layer.kernel.shape[0])
    if _keras_class(layer, _POOLING):
        return written * math.prod(layer.pool_size)
    if _keras_class(layer, _ELEMENTWISE):
        return PER_VALUE * (read + written)
    if _keras_class(layer, _GEOMETRIC):
        return PER_PIXEL * (read + written)
    weights = sum(math.prod(variable.shape)
                  for variable in getattr(layer, "weights", []))
    return 2 * (read + written) * (read + weights + 1)


def _graph(model):
    """The Functional graph behind `model` (a Sequential's own, built)."""
    keras = _keras()
    if isinstance(model, keras.Sequential):
        graph = getattr(model, "_functional", None)
    else:
        graph = model
    if getattr(graph, "_nodes_by_depth", None) is None:
        raise _Unbounded(t("{layer} is not built: its layers' sizes are "
                           "unknown.", layer=type(model).__name__))
    return graph


def _walk(model, found, depth=0):
    """Add the FLOPs and activations of `model`'s graph to `found`."""
    keras = _keras()
    if depth > 8:
        raise _Unbounded(t("its models are nested more than {limit} deep.",
                           limit=8))
    graph = _graph(model)
    for nodes in graph._nodes_by_depth.values():
        for node in nodes:
            operation = node.operation
            where = type(operation).__name__
            read = sum(_values(tensor.shape, where)
                       for tensor in node.input_tensors)
            written = sum(_values(tensor.shape, where)
                          for tensor in node.outputs)
            found["activations"] += written
            if isinstance(operation, keras.Model):
                built = [tuple(tensor.shape)[1:] for tensor
                         in _graph(operation).inputs]
                given = [tuple(tensor.shape)[1:] for tensor
                         in node.input_tensors]
                if built != given:
                    raise _Unbounded(t(
                        "the nested model {layer} is applied to inputs of "
                        "shape {shape} but was built for {built}.",
                        layer=operation.name[:40], shape=given,
                        built=built))
                _walk(operation, found, depth + 1)
            else:
                found["flops"] += _layer_flops(operation, read, written)


def estimate(model):
    """The model's `Estimate`: parameters, activations and FLOPs per
    example, from its built graph (no data passes through it)."""
    found = {"activations": 0, "flops": 0}
    try:
        _walk(model, found)
    except _Unbounded as error:
        return Estimate(0, found["activations"], found["flops"],
                        refused=str(error))
    return Estimate(int(model.count_params()), found["activations"],
                    found["flops"])


def _estimate_unbuilt(model, input_shape):
    """The Estimate of `model` (not built: a Sequential without an input
    shape, which fit would build on the data) as built for inputs of
    `input_shape`, from a copy whose variables are shapes only."""
    try:
        # Layers only: the compiled optimizer reads its variables' values.
        config = model.get_config()
        with _deferred_variables(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            copy = type(model).from_config(config)
            copy.build((None, *input_shape))
            return estimate(copy)
    except Exception as error:
        return Estimate(0, 0, 0, refused=t(
            "it cannot be built for inputs of shape {shape}: {error}",
            shape=tuple(input_shape), error=str(error)[:200]))


MAX_METRICS = 16


def compute_problem(model, budget, input_shape=None):
    """None if training `model` stays within `budget` (a ComputeBudget),
    else a message for the learner saying which bound and the figures.

    `input_shape` (one example's) is that of the data the judge will fit:
    a model that is not built yet is estimated as built for it (without
    one, such a model cannot be bounded). Also None for a value that is
    not a Keras model: there is nothing to train, and the caller says
    what is wrong with it.
    """
    if not isinstance(model, _keras().Model):
        return None
    if not model.built and input_shape is not None:
        figures = _estimate_unbuilt(model, input_shape)
    else:
        figures = estimate(model)
    if figures.refused:
        return t("the grader does not train this model: {why}",
                 why=figures.refused)
    if figures.parameters > budget.parameters:
        return t("the grader does not train this model: it has {count:,} "
                 "parameters, over the limit of {limit:,}.",
                 count=figures.parameters, limit=budget.parameters)
    if figures.activations > budget.activations:
        return t("the grader does not train this model: its layers output "
                 "{count:,} values per example, over the limit of "
                 "{limit:,}.", count=figures.activations,
                 limit=budget.activations)
    if figures.flops > budget.flops:
        return t("the grader does not train this model: one example "
                 "costs {count:,} floating-point operations, over the "
                 "limit of {limit:,}.", count=figures.flops,
                 limit=budget.flops)
    config = model.get_compile_config() or {}
    metrics = [*(config.get("metrics") or []),
               *(config.get("weighted_metrics") or [])]
    if len(metrics) > MAX_METRICS:
        return t("the grader does not train this model: it is compiled "
                 "with {count} metrics, over the limit of {limit}.",
                 count=len(metrics), limit=MAX_METRICS)
    return None
