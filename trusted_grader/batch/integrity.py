"""Find code in a submission that interferes with grading, before it runs.

A second line, not the defence: scores come from the judge, outside the
kernel, so code that patches NumPy or the checks, forges answers or kills
the kernel earns nothing either way. No honest answer to this course's
exercises needs any of that, so this scan reads the cells the student
controls (solution cells and any cell nbgrader does not restore) with
Python's `ast` module, outside the student's kernel, and lists what it
finds to explain odd submissions: the grading command reports them as
status `tampered` in grades.csv and the feedback. It also reads, for the
from-scratch exercises, whether a solution cell refers to a library's
convolution (`library_findings`), which the judge uses beside what the
kernel recorded. See autograder/README.md for the threat model.
"""

import ast
import re
import threading

from autograder.feedback import LIBRARIES

# Names the checks rely on; assigning to them or their attributes is
# tampering (`np.allclose = ...`, `check.shift_image = ...`).
PROTECTED = {"np", "numpy", "check", "autograder", "keras", "tf",
             "tensorflow", "builtins", "__builtins__", "sys", "os", "nbgrader",
             "cnn_course", "plots", "IPython", "get_ipython"}
FORBIDDEN_MODULES = {
    "autograder": "imports the grader's own code",
    "nbgrader": "imports nbgrader",
    "builtins": "changes Python's built-ins",
    "inspect": "inspects the grader's frames",
    "gc": "searches the grader's objects",
    "ctypes": "calls C directly",
    "importlib": "re-imports or swaps modules",
    "signal": "installs signal handlers",
    "subprocess": "starts processes",
    "socket": "opens network connections",
    "unittest": "uses mock patching",
    "mock": "uses mock patching",
    "pytest": "uses monkeypatching",
}
FORBIDDEN_CALLS = {
    "setattr": "sets attributes by name",
    "delattr": "deletes attributes by name",
    "exec": "runs code from a string",
    "eval": "runs code from a string",
    "compile": "compiles code from a string",
    "__import__": "imports modules by name",
    "globals": "edits global names",
    "exit": "exits the kernel",
    "quit": "exits the kernel",
}
FORBIDDEN_ATTRIBUTES = {
    "_exit": "kills the kernel (os._exit)",
    "exit": "exits the kernel (sys.exit)",
    "kill": "sends signals to processes",
    "fork": "forks processes",
    "system": "runs shell commands",
    "popen": "runs shell commands",
    "_getframe": "reads the grader's frames",
    "f_back": "reads the grader's frames",
    "f_locals": "reads the grader's frames",
    "f_globals": "reads the grader's frames",
    "__globals__": "reads a function's globals",
    "__code__": "swaps a function's code",
    "__closure__": "reads a function's closure",
    "modules": "edits sys.modules",
    "__class__": "changes an object's class",
}
FORBIDDEN_EXCEPTIONS = {"SystemExit", "KeyboardInterrupt", "GeneratorExit",
                        "BaseException"}
# Imports that bind a protected name to the module it always names.
CANONICAL = {("np", "numpy"), ("numpy", "numpy"), ("tf", "tensorflow"),
             ("tensorflow", "tensorflow"), ("keras", "keras"),
             ("keras", "tensorflow.keras"), ("os", "os"), ("sys", "sys")}
SHELL_LINE = re.compile(r"^\s*(!|%%?(system|sx|bash|sh|script|writefile)\b)")
MAGIC_LINE = re.compile(r"^\s*[%!]")

# ast.parse is not thread-safe in CPython 3.11 (gh-106905: "AST constructor
# recursion depth mismatch"), and `--jobs N` scans notebooks in N threads.
_parse_lock = threading.Lock()


def _parse(source):
    with _parse_lock:
        return ast.parse(source)


# What `_parse` raises besides SyntaxError: ValueError for null bytes (the
# kernel cannot compile those either), RecursionError and MemoryError for
# code nested too deeply for the parser (CPython's "too complex").
UNPARSABLE = (SyntaxError, ValueError, RecursionError, MemoryError)


def restored_ids(source_notebook):
    """grade_ids of the locked cells nbgrader puts back from the source."""
    ids = set()
    for cell in source_notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("locked") or (meta.get("grade") and
                                  not meta.get("solution")):
            ids.add(meta.get("grade_id"))
    return ids


def student_cells(notebook, source_notebook):
    """(label, source) of the code cells whose code will run as written."""
    restored = restored_ids(source_notebook)
    cells = []
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if grade_id in restored and not meta.get("solution"):
            continue  # overwritten from the source before it runs
        cells.append((grade_id or f"cell {index + 1}", cell.get("source", "")))
    return cells


def unknown_grade_cells(notebook, source_notebook):
    """Cells whose nbgrader metadata names a grade_id the source lacks."""
    known = {cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
             for cell in source_notebook.cells}
    unknown = []
    for index, cell in enumerate(notebook.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta and meta.get("grade_id") not in known:
            unknown.append((index, meta.get("grade_id")))
    return unknown


def strip_unknown_grade_cells(notebook, source_notebook):
    """Drop invented nbgrader metadata, which nbgrader would crash on.

    The cell stays, as an ordinary cell; the test cells it replaced are put
    back by OverwriteCells.add_missing_cells.
    """
    for index, _ in unknown_grade_cells(notebook, source_notebook):
        del notebook.cells[index]["metadata"]["nbgrader"]
    return notebook


def scan_notebook(notebook, source_notebook):
    """Findings, one line each, e.g. "cell 'shift_image' line 3: ..."."""
    findings = [
        f"cell {index + 1}: nbgrader metadata with grade_id {grade_id!r}, "
        "which the assignment does not have (edited test metadata)"
        for index, grade_id in unknown_grade_cells(notebook, source_notebook)
    ]
    for label, source in student_cells(notebook, source_notebook):
        for line, what in scan_source(source):
            findings.append(f"cell '{label}' line {line}: {what}")
    return findings


def scan_source(source):
    """(line, what) for each interfering construct in one cell's code."""
    if isinstance(source, list):
        source = "".join(source)
    found = []
    python_lines = []
    for number, line in enumerate(source.splitlines(), start=1):
        if SHELL_LINE.match(line):
            found.append((number, "runs shell commands"))
        python_lines.append("" if MAGIC_LINE.match(line) else line)
    try:
        tree = _parse("\n".join(python_lines))
    except (SyntaxError, ValueError):
        return found  # it will fail when run; nothing to find
    except (RecursionError, MemoryError):
        # Python may still compile what its parser cannot give as a tree
        # here, so code hidden in it would go unread.
        return sorted(set(found + [(1, "nests code too deeply to check")]))
    visitor = _Finder()
    visitor.visit(tree)
    return sorted(set(found + visitor.found))


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


class _Finder(ast.NodeVisitor):
    """Collects findings in `found`. `visit` walks the tree with a loop
    (ast.walk), not by recursion as NodeVisitor does: a tree a few hundred
    levels deep, which Python still compiles, would otherwise stop the
    scan with RecursionError. The visit_ methods see one node each."""

    def __init__(self):
        self.found = []

    def visit(self, tree):
        for node in ast.walk(tree):
            method = getattr(self, f"visit_{type(node).__name__}", None)
            if method is not None:
                method(node)

    def add(self, node, what):
        self.found.append((getattr(node, "lineno", 0), what))

    def _check_target(self, target, node):
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._check_target(element, node)
            return
        if isinstance(target, ast.Name) and target.id in PROTECTED:
            self.add(node, f"rebinds `{target.id}`")
        elif isinstance(target, (ast.Attribute, ast.Subscript)) and \
                _root_name(target) in PROTECTED:
            name = _dotted(target) or _root_name(target)
            self.add(node, f"replaces `{name}`")

    def visit_Assign(self, node):
        for target in node.targets:
            self._check_target(target, node)

    def visit_AugAssign(self, node):
        self._check_target(node.target, node)

    def visit_AnnAssign(self, node):
        self._check_target(node.target, node)

    def visit_Delete(self, node):
        for target in node.targets:
            self._check_target(target, node)

    def visit_Import(self, node):
        for alias in node.names:
            self._check_import(alias.name, node)
            name = alias.asname or alias.name.split(".")[0]
            if name in PROTECTED and (name, alias.name) not in CANONICAL:
                self.add(node, f"rebinds `{name}`")

    def visit_ImportFrom(self, node):
        self._check_import(node.module or "", node)
        for alias in node.names:
            name = alias.asname or alias.name
            full = f"{node.module}.{alias.name}"
            if name in PROTECTED and (name, full) not in CANONICAL:
                self.add(node, f"rebinds `{name}`")

    def _check_import(self, module, node):
        top = module.split(".")[0]
        if top in FORBIDDEN_MODULES:
            self.add(node, f"{FORBIDDEN_MODULES[top]} (import {module})")

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and \
                node.func.id in FORBIDDEN_CALLS:
            self.add(node, f"{FORBIDDEN_CALLS[node.func.id]} "
                           f"({node.func.id}())")

    def visit_Attribute(self, node):
        if node.attr in FORBIDDEN_ATTRIBUTES:
            self.add(node, f"{FORBIDDEN_ATTRIBUTES[node.attr]} "
                           f"(.{node.attr})")

    def visit_Name(self, node):
        if node.id in FORBIDDEN_EXCEPTIONS:
            self.add(node, f"uses {node.id}, which stops the checks")
        elif node.id in {"__builtins__", "get_ipython"}:
            self.add(node, f"reaches into the kernel ({node.id})")

    def visit_FunctionDef(self, node):
        if node.name in PROTECTED:
            self.add(node, f"rebinds `{node.name}`")

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 - ast's name

    def visit_ClassDef(self, node):
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name in {
                    "__eq__", "__ne__", "__array__", "__array_ufunc__",
                    "__array_function__", "__getattr__", "__getattribute__"}:
                self.add(item, f"defines {item.name}, which can fake "
                               "results to a check")


# ------------------------------------------------ from-scratch exercises ---

# The modules the kernel's detectors report (autograder.feedback), and
# TensorFlow's usual alias, which a notebook may use without importing it
# in the cells scanned.
LIBRARY_MODULES = {"tf": "TensorFlow", **LIBRARIES}
LIBRARY_ROOTS = {name: library for name, library in LIBRARY_MODULES.items()
                 if "." not in name}


def _library_of_module(name):
    return next((library for module, library in LIBRARY_MODULES.items()
                 if name == module or name.startswith(module + ".")), None)


def _library_names(trees):
    """Names the notebook binds to a library or to a function from one."""
    names = dict(LIBRARY_ROOTS)
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    library = _library_of_module(alias.name)
                    if library:
                        names[(alias.asname or alias.name).split(".")[0]] = \
                            library
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    library = _library_of_module(
                        f"{node.module}.{alias.name}") or \
                        _library_of_module(node.module)
                    if library:
                        names[alias.asname or alias.name] = library
    return names


def library_findings(notebook, exercises):
    """{exercise: "tf.nn.conv2d (TensorFlow)"} for from-scratch exercises
    whose solution cell refers to a library's code, read statically."""
    trees = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = _parse(_without_magics(cell.source))
        except UNPARSABLE:
            continue  # scan_source reports code nested too deeply
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        trees.setdefault(grade_id, []).append(tree)
    names = _library_names([t for group in trees.values() for t in group])
    findings = {}
    for exercise in exercises:
        for tree in trees.get(exercise, []):
            found = _first_library_use(tree, names)
            if found:
                findings[exercise] = found
                break
    return findings


def _first_library_use(tree, names):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) \
                else node.names[0].name
            library = _library_of_module(module or "")
            if library:
                return f"import {module} ({library})"
        if isinstance(node, (ast.Attribute, ast.Name)) and \
                isinstance(getattr(node, "ctx", None), ast.Load):
            root = _root_name(node)
            if root in names:
                return f"{_dotted(node) or root} ({names[root]})"
    return None


def _without_magics(source):
    return "\n".join("" if MAGIC_LINE.match(line) else line
                     for line in source.splitlines())
