"""The course's packages as drawn from their imports (every module parsed,
imports inside functions included): the kernel side never reaches the
trusted side, the helper package reaches neither, and the trusted side's
rooms have no cycle."""

import ast
import importlib.util

from helpers import ROOT

PACKAGES = ("cnn_course", "autograder", "trusted_grader")


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules():
    """{module name: parsed source} of the three packages."""
    return {module_name(path): ast.parse(path.read_text(encoding="utf-8"))
            for package in PACKAGES
            for path in sorted((ROOT / package).rglob("*.py"))}


def imports_of(name, tree):
    """Every module that module `name` imports, by its full name."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package
                package = name.split(".")[:-node.level]
                base = ".".join([*package, base] if base else package)
            found.add(base)
            # `from package import module` imports that module.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def import_graph():
    """{module: the course's modules it imports}."""
    trees = modules()
    return {name: {module for module in imports_of(name, tree)
                   if module in trees} - {name}
            for name, tree in trees.items()}


def test_every_import_of_the_course_finds_its_module():
    """Imports inside functions too, which only some runs reach."""
    trees = modules()
    missing = []
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and \
                    node.module.split(".")[0] in PACKAGES and \
                    node.module not in trees:
                missing.append(f"{name}: from {node.module} import ...")
            elif isinstance(node, ast.Import):
                missing += [f"{name}: import {alias.name}"
                            for alias in node.names
                            if alias.name.split(".")[0] in PACKAGES
                            and alias.name not in trees]
    assert missing == []


def in_package(module, package):
    return module == package or module.startswith(package + ".")


def arrows(graph, source, target):
    return sorted(f"{module} -> {other}" for module, others in graph.items()
                  if in_package(module, source)
                  for other in others if in_package(other, target))


def cycles(graph):
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_kernel_side_never_imports_the_trusted_side():
    graph = import_graph()
    assert arrows(graph, "autograder", "trusted_grader") == []
    assert arrows(graph, "cnn_course", "trusted_grader") == []


def test_the_helper_package_imports_neither_the_checks_nor_the_grader():
    assert arrows(import_graph(), "cnn_course", "autograder") == []


def test_no_cycle_between_the_trusted_sides_modules():
    graph = import_graph()
    trusted = {module: {other for other in others
                        if in_package(other, "trusted_grader")}
               for module, others in graph.items()
               if in_package(module, "trusted_grader")}
    assert cycles(trusted) == []


def test_the_judge_imports_nothing_of_the_batch_run_or_the_export():
    """It runs alone in its sandbox, one process per run."""
    graph = import_graph()
    for room in ("trusted_grader.batch", "trusted_grader.export"):
        assert arrows(graph, "trusted_grader.judging", room) == []


def test_module_names_in_strings_exist():
    """Modules started by name (`python -m ...`, the forkserver's preload,
    the hidden tests' package) are found where the strings say."""
    named = set()
    for tree in modules().values():
        nodes = list(ast.walk(tree))
        parts = {id(part) for node in nodes
                 if isinstance(node, ast.JoinedStr) for part in node.values}
        for node in nodes:
            text = node.value if isinstance(node, ast.Constant) else None
            if not isinstance(text, str) or \
                    not text.startswith("trusted_grader.") or \
                    not text.replace(".", "").replace("_", "").isalnum():
                continue
            # f"trusted_grader.judging.hidden.lesson{n}": its package.
            named.add(text.rsplit(".", 1)[0] if id(node) in parts else text)
    assert {"trusted_grader.judging.server", "trusted_grader.batch.unit",
            "trusted_grader.judging.hidden"} <= named
    missing = [name for name in sorted(named)
               if importlib.util.find_spec(name) is None]
    assert missing == []
