"""Short, specific failure messages, shared by the visible checks and the
judge (which replays recorded answers through the same comparisons)."""

import builtins
import contextlib
import dis
import functools
import io
import math
import sys
import types
import warnings

import numpy as np

from autograder import answers
from cnn_course.messages import t

# Captured at import, before any learner code runs, so that a notebook that
# reassigns np.allclose or np.array_equal cannot change how it is checked.
_asarray = np.asarray
_array_equal = np.array_equal
_isclose = np.isclose
_argwhere = np.argwhere
_ndarray = np.ndarray

PASS_MARK = "\u2714"
FAIL_MARK = "\u2718"


class CheckFailure(AssertionError):
    """A check found a problem. Shown in Jupyter without a traceback."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def _render_traceback_(self):
        # IPython calls this instead of printing the traceback: learners see
        # what is wrong, not the inside of the checking code.
        return [f"{FAIL_MARK} {line}" if i == 0 else f"  {line}"
                for i, line in enumerate(self.message.splitlines())]


def fail_on(problem):
    """Raise the check's failure if there is a problem message."""
    if problem:
        raise CheckFailure(problem)


def passed(message):
    """Print the one-line success message of a visible check."""
    print(f"{PASS_MARK} {message}")


def call(func, name, *args, **kwargs):
    """Call the learner's function; turn its exceptions into messages."""
    if not callable(func):
        raise CheckFailure(t(
            "{name} is {type}, not a function. Run the cell "
            "that defines {name}, then this check.",
            name=name, type=type(func).__name__))
    try:
        with warnings.catch_warnings(), \
                contextlib.redirect_stderr(io.StringIO()):
            # Keras warnings (e.g. for input_dim=) would reach stderr, and
            # nbgrader scores a test cell with any stderr output as 0.
            warnings.simplefilter("ignore")
            return func(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailure(t(
            "{name} is not implemented yet.\n"
            "Replace `raise NotImplementedError()` in the {name} cell "
            "with your code, run that cell, then run this check again.",
            name=name)) from None
    except CheckFailure:
        raise
    except Exception as error:
        raise CheckFailure(t(
            "{call} raised {error_type}: {error}",
            call=render_call(name, args, kwargs),
            error_type=type(error).__name__, error=error)) from None


def replayed(func):
    """True for the judge's stand-in that replays a kernel's answers."""
    return getattr(type(func), "is_replay", False) is True


def collecting_calls(func):
    """True for the judge's stand-in that only lists the calls a check
    makes (its answers may be stand-ins too: judge nothing with them)."""
    return getattr(type(func), "is_collector", False) is True


def recorded_library_use(func):
    """What the grader knows of a library doing a replayed function's
    work (from the kernel's records and the grader's own scan), or None."""
    return getattr(func, "library_use", None) if replayed(func) else None


def call_seconds(func, measured):
    """A call's duration: measured here, or as the kernel recorded it."""
    return func.last_seconds if replayed(func) else measured


def floating_errors(func, measured):
    """The floating-point errors of a call (see `FloatingWatch`):
    measured here, or as the kernel recorded them."""
    return func.last_floating if replayed(func) else measured


# ------------------------------------------------------ calls in messages ---
#
# Every message shows a call one way, e.g.
# shift_image(<uint8 array (5, 6)>, dx=2, dy=0): the first argument by
# value, the others named as the exercise's API names them; arrays by dtype
# and shape, numbers by value. The visible checks and the judge (which
# replays recorded answers) build the same text, so a learner reads the
# same message in the notebook and in the feedback.

# Parameter names of the exercises, in order (the exercise API in
# COURSE.md), as each exercise's declaration gives them
# (`autograder.exercise`). An exercise missing here shows its arguments
# by position.
PARAMETERS = {}
# Arrays the lessons name in their text (lesson 02's A and B): a message
# shows such an argument by its name. (name, array) pairs.
_named_arrays = []
_SHORT = 40  # longest list or tuple shown by value


def name_array(name, array):
    """Show arguments equal to `array` (same dtype, shape and values) by
    `name` in messages, e.g. the lesson's matrix A."""
    _named_arrays.append((name, _asarray(array).copy()))


def render_call(name, args=(), kwargs=None):
    """A call as every message shows it:
    shift_image(<uint8 array (5, 6)>, dx=2, dy=0)."""
    names = parameters_of(name)
    parts = []
    for position, value in enumerate(args):
        shown = render_value(value)
        if 0 < position < len(names):
            shown = f"{names[position]}={shown}"
        parts.append(shown)
    parts += [f"{key}={render_value(value)}"
              for key, value in (kwargs or {}).items()]
    return f"{name}({', '.join(parts)})"


def parameters_of(name):
    """The parameter names of exercise `name`, () if it is none.

    A message may show a call of an exercise whose lesson module was not
    imported yet (a test, a tool): the lessons' declarations are then
    imported, once."""
    if name not in PARAMETERS:
        _declare_every_lesson()
    return PARAMETERS.get(name, ())


@functools.cache
def _declare_every_lesson():
    from autograder import expected

    for lesson in expected.lessons():
        with contextlib.suppress(ImportError):
            expected.module_for(lesson)


def pool_arguments(size, stride, default_size=2):
    """Keyword arguments of a pooling call, leaving out the defaults
    (size=2, stride=None) so that a case tests them."""
    kwargs = {}
    if size != default_size or stride is not None:
        kwargs["size"] = size
    if stride is not None:
        kwargs["stride"] = stride
    return kwargs


def render_value(value):
    """One argument for a message: arrays by dtype and shape, numbers and
    short lists by value, other objects by kind."""
    if isinstance(value, _ndarray):
        for name, array in _named_arrays:
            if (value.dtype == array.dtype and value.shape == array.shape
                    and _array_equal(value, array)):
                return name
        return f"<{value.dtype} array {value.shape}>"
    if isinstance(value, np.generic):
        return repr(value.item())
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        if all(isinstance(item, (int, float, np.generic)) for item in value):
            items = ", ".join(render_value(item) for item in value)
            shown = (f"[{items}]" if isinstance(value, list) else
                     f"({items}{',' if len(value) == 1 else ''})")
            if len(shown) <= _SHORT:
                return shown
        arrays = all(isinstance(item, _ndarray) for item in value)
        kind = "arrays" if arrays and value else "items"
        return f"<{type(value).__name__} of {len(value)} {kind}>"
    if isinstance(value, dict):
        return f"<dict of {len(value)} items>"
    if answers._is_keras_model(value):
        try:
            shape = tuple(value.input_shape)
        except Exception:  # a model not built yet has no input shape
            return "<Keras model>"
        return f"<Keras model, input {shape}>"
    return f"<{type(value).__name__}>"


def require_array(value, what):
    """The value as a plain ndarray, or a CheckFailure saying what it is."""
    if not isinstance(value, _ndarray):
        raise CheckFailure(t(
            "{what} returned {type}; expected a NumPy array.",
            what=what, type=type(value).__name__))
    # A plain ndarray view: ignores any __eq__ a subclass might override.
    return _asarray(value).view(_ndarray)


def same_array(first, second):
    """Equal shapes and values (not dtypes), immune to patched NumPy."""
    first, second = _asarray(first), _asarray(second)
    return first.shape == second.shape and bool((first == second).all())


def close_array(first, second, atol=1e-6, rtol=1e-6):
    first, second = _asarray(first), _asarray(second)
    return first.shape == second.shape and bool(
        _isclose(first, second, atol=atol, rtol=rtol).all())


def first_difference(got, expected, atol=0.0, rtol=0.0):
    """Index and values where two same-shape arrays first differ, or None."""
    if atol == 0 and rtol == 0:
        unequal = got != expected
    else:
        unequal = ~_isclose(got, expected, atol=atol, rtol=rtol,
                            equal_nan=False)
    positions = _argwhere(unequal)
    if len(positions) == 0:
        return None
    index = tuple(int(i) for i in positions[0])
    return index, got[index], expected[index], len(positions)


def compare_arrays(got, expected, what, atol=0.0, rtol=0.0,
                   dtype="same"):
    """Message describing how `got` differs from `expected`, or None.

    Order: shape, then dtype (`dtype` is "same", "float" or None), then the
    first differing value.
    """
    if got.shape != expected.shape:
        return t("{what}: shape {got}, expected {want}.",
                 what=what, got=got.shape, want=expected.shape)
    if dtype == "same" and got.dtype != expected.dtype:
        return t("{what}: dtype {got}, expected {want}.",
                 what=what, got=got.dtype, want=expected.dtype)
    if dtype == "float" and got.dtype.kind != "f":
        return t("{what}: dtype {got}, expected a float dtype "
                 "(e.g. float64).", what=what, got=got.dtype)
    if got.dtype.kind not in "biuf":
        return t("{what}: dtype {got} is not numeric.",
                 what=what, got=got.dtype)
    difference = first_difference(got, expected, atol, rtol)
    if difference is None:
        return None
    index, got_value, expected_value, count = difference
    return t("{what}: {count} value(s) differ; first at index "
             "{index}: got {got}, expected {want}.",
             what=what, count=count, index=list(index),
             got=format_number(got_value),
             want=format_number(expected_value))


def format_number(value):
    value = float(value)
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return f"{value:.6g}"


# --------------------------------------------------------- from scratch ---
#
# "From scratch" exercises must not call a library's convolution or pooling.
# Two independent detectors, so that neither an alias nor an import hidden
# inside the function gets through:
#
# - `library_references(func)` reads the function's bytecode (and that of
#   nested functions, closures and the notebook's own helper functions it
#   refers to, recursively), resolves every dotted name it loads
#   (`tf.nn.conv2d`, `signal.correlate2d`, `Conv2D`) and every import it makes,
#   and reports those that belong to a forbidden package, by name.
# - `LibraryWatch` runs the call under `sys.setprofile` and records the first
#   Python or C function entered that belongs to a forbidden package, however
#   it was reached (getattr, a module imported at call time, a helper
#   defined elsewhere).

# The libraries a from-scratch exercise must not use: {top-level package
# (its import name): the library as learners know it}. The one list: when
# graded, those exercises are answered by a kernel in which none of these
# packages exists (trusted_grader/sandbox.py covers each with a package
# whose import raises), and the detectors here and the grader's static
# scan name them.
FORBIDDEN_LIBRARIES = {
    "tensorflow": "TensorFlow", "tensorflow_core": "TensorFlow",
    "tensorflow_estimator": "TensorFlow",
    "tensorflow_io_gcs_filesystem": "TensorFlow",
    "keras": "Keras", "tf_keras": "Keras", "scipy": "SciPy",
    "torch": "PyTorch", "torchvision": "PyTorch", "torchaudio": "PyTorch",
    "functorch": "PyTorch", "jax": "JAX", "jaxlib": "JAX",
    "jax_plugins": "JAX", "flax": "JAX", "cv2": "OpenCV",
    "skimage": "scikit-image",
}
# What the detectors report, by module: of SciPy only scipy.signal and
# scipy.ndimage, its convolutions and filters, so that a hint names the
# call that does the exercise's work rather than an import of SciPy.
LIBRARIES = {
    **{package: library for package, library in FORBIDDEN_LIBRARIES.items()
       if package != "scipy"},
    "scipy.signal": "SciPy",
    "scipy.ndimage": "SciPy",
}
_library_cache = {}


def library_of(module_name):
    """The forbidden library a module belongs to ("TensorFlow"), or None."""
    if not isinstance(module_name, str):
        return None
    if module_name not in _library_cache:
        _library_cache[module_name] = next(
            (library for package, library in LIBRARIES.items()
             if module_name == package
             or module_name.startswith(package + ".")), None)
    return _library_cache[module_name]


def _module_name(obj):
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    name = getattr(obj, "__module__", None)
    if name is None and isinstance(getattr(obj, "__self__", None),
                                   types.ModuleType):
        name = obj.__self__.__name__  # a C function of a module
    return name


def _loaded_names(code):
    """Dotted names a code object loads and modules it imports (nested)."""
    found, chain, imported = [], None, ""
    for instruction in dis.get_instructions(code):
        name, value = instruction.opname, instruction.argval
        if name in ("LOAD_ATTR", "LOAD_METHOD") and chain:
            chain.append(value)
            continue
        if chain:
            found.append(("name", chain))
            chain = None
        if name in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF"):
            chain = [value]
        elif name == "IMPORT_NAME":
            imported = value
            found.append(("import", [value]))
        elif name == "IMPORT_FROM":
            found.append(("import", [f"{imported}.{value}"]))
    if chain:
        found.append(("name", chain))
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            found += _loaded_names(constant)
    return found


def _scope(func):
    """Names visible to `func`: builtins, its globals, its closure."""
    scope = dict(vars(builtins))
    scope.update(getattr(func, "__globals__", {}))
    for name, cell in zip(func.__code__.co_freevars, func.__closure__ or ()):
        with contextlib.suppress(ValueError):  # an empty cell
            scope[name] = cell.cell_contents
    return scope


def library_references(func, _seen=None):
    """Library functions `func` refers to, e.g. ["tf.nn.conv2d (TensorFlow)"].

    Follows the notebook's own functions that `func` calls (those sharing
    its globals), so a helper that hides the call is found too.
    """
    seen = _seen if _seen is not None else set()
    if not isinstance(func, types.FunctionType) or func in seen:
        return []
    seen.add(func)
    scope, found = _scope(func), []
    for kind, chain in _loaded_names(func.__code__):
        dotted = ".".join(chain)
        if kind == "import":
            if library_of(dotted):
                found.append(f"import {dotted} ({library_of(dotted)})")
            continue
        if chain[0] not in scope:
            continue
        obj = scope[chain[0]]
        try:
            for attribute in chain[1:]:
                obj = getattr(obj, attribute)
        except Exception:  # an attribute of a local object: not resolvable
            continue
        library = library_of(_module_name(obj))
        if library and (callable(obj) or isinstance(obj, types.ModuleType)):
            found.append(f"{dotted} ({library})")
        elif (isinstance(obj, types.FunctionType)
              and obj.__globals__ is func.__globals__):
            found += [f"{dotted} -> {inner}" for inner in
                      library_references(obj, seen)]
    return list(dict.fromkeys(found))


class LibraryWatch:
    """Context manager: records the first call into a forbidden library.

    `found` is then e.g. "TensorFlow (tensorflow.python.ops.nn_ops, called
    from conv2d line 4)": the library's module and the learner's call.
    Uses `sys.setprofile` for the current thread and restores whatever
    profiler was set before.
    """

    def __init__(self):
        self.found = None

    def _profile(self, frame, event, arg):
        if self.found is not None:
            return
        if event == "call":
            module, caller = frame.f_globals.get("__name__"), frame.f_back
        elif event == "c_call":
            module, caller = _module_name(arg), frame
        else:
            return
        library = library_of(module)
        if library:
            where = ""
            if caller is not None:
                where = t(", called from {function} line {line}",
                          function=caller.f_code.co_name,
                          line=caller.f_lineno)
            self.found = f"{library} ({module}{where})"

    def __enter__(self):
        self._previous = sys.getprofile()
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc):
        sys.setprofile(self._previous)
        return False


class FloatingWatch:
    """Context manager: the floating-point errors NumPy signals inside it.

    `errors` is then a sorted list of "overflow", "invalid" (e.g. inf/inf)
    and "divide" (by zero). NumPy reports them to a callback instead of as
    RuntimeWarnings, which the learner would see but a check would not.
    Underflow is not watched: np.exp of a very negative number is 0 in a
    correct, stable sigmoid or softmax.
    """

    WATCHED = ("divide", "invalid", "overflow")

    def __init__(self):
        self.errors = []
        self._state = np.errstate(divide="call", invalid="call",
                                  over="call", call=self._note)

    def _note(self, kind, flag):
        # NumPy names them "overflow", "invalid value", "divide by zero".
        kind = str(kind).split()[0]
        if kind in self.WATCHED and kind not in self.errors:
            self.errors.append(kind)

    def __enter__(self):
        self._state.__enter__()
        return self

    def __exit__(self, *exc):
        self._state.__exit__(*exc)
        self.errors.sort()
        return False


# ------------------------------------------------- from-scratch exercises ---

def _library_message(name, detail):
    return t("{name} {detail}. This lesson builds every step in NumPy to "
             "see how Keras works, so this check gives no points when a "
             "library does the work. Use only NumPy in {name} and in the "
             "functions it calls.", name=name, detail=detail)


def scratch_call(func, name, *args, **kwargs):
    """Call the learner's function like `call`, refusing answers that
    TensorFlow, Keras or another library computes (lessons 03 and 05):
    `library_references` names what the function's code loads,
    `LibraryWatch` what the call entered; a replayed answer carries what
    the grader found instead."""
    references = [recorded_library_use(func)] if recorded_library_use(
        func) else library_references(func)
    if references:
        raise CheckFailure(_library_message(
            name, t("uses {reference}", reference=references[0])))
    with LibraryWatch() as watch:
        result = call(func, name, *args, **kwargs)
    if watch.found:
        raise CheckFailure(_library_message(
            name, t("called {function}", function=watch.found)))
    return result


def raised(failure):
    """The learner's exception that a CheckFailure of `call` reports ("...
    raised ValueError: ..."), or None. Read from the failure itself, not
    its message: the message is in the learner's language."""
    error = failure.__context__
    if failure.__suppress_context__ and isinstance(error, Exception) and \
            not isinstance(error, (NotImplementedError, CheckFailure)):
        return error
    return None


def quiet(problem_function):
    """Run a check's own NumPy arithmetic without warnings: nbgrader
    scores a test cell with any stderr output as 0."""
    @functools.wraps(problem_function)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return problem_function(*args, **kwargs)
    return wrapper
