"""Issue 36: no import cycles in `detector` or `training`, and `detector` never imports the code around it.

The import graph is read from the source (`ast`), not by importing it: every ``import`` and
``from ... import`` counts, at module level or inside a function (a deferred import is still a
dependency), except imports of third-party packages. ``from package import name`` points at the
submodule ``package.name`` when there is one, else at the package's ``__init__``. Lazy lookups by
name through ``importlib.import_module`` (the package's public names, the CLI's commands, aliases
kept for a deprecation period) are not import statements and are not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("detector", "training")
OUTSIDE_THE_LIBRARY = ("training", "benchmarks", "notebooks")  # what `detector` must never import


def module_names(package: str) -> dict[str, Path]:
    """Every module of ``package`` by dotted name (a package by its own name, for its ``__init__``)."""
    modules = {}
    for path in sorted((REPO / package).rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported_names(path: Path, module: str) -> Iterator[tuple[str, int]]:
    """(dotted name, line) of each import in a file, relative imports resolved, ``from x import y`` as ``x.y``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            yield from ((f"{base}.{alias.name}", node.lineno) for alias in node.names if alias.name != "*")


def import_graph(package: str) -> dict[str, dict[str, int]]:
    """{module: {first-party module it imports: line}} within ``package``."""
    modules = module_names(package)
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, path in modules.items():
        for target, line in imported_names(path, name):
            if target in modules and target != name:
                graph[name].setdefault(target, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        for target in graph[node]:
            if target not in order:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], order[target])
        if low[node] == order[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in order:
            visit(node)
    return sorted(found)


def describe(component: list[str], graph: dict[str, dict[str, int]]) -> str:
    """One line per import edge inside a cycle: ``a imports b (line n)``."""
    return "; ".join(
        f"{source} imports {target} (line {line})"
        for source in component for target, line in sorted(graph[source].items()) if target in component
    )


def test_the_graph_reader_resolves_relative_and_deferred_imports(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("import numpy\nfrom . import b\n")
    (package / "b.py").write_text("def f():\n    from pkg.a import thing\n")
    names = lambda path, module: {name for name, _ in imported_names(path, module)}  # noqa: E731
    assert names(package / "a.py", "pkg.a") == {"numpy", "pkg", "pkg.b"}
    assert names(package / "b.py", "pkg.b") == {"pkg.a", "pkg.a.thing"}
    assert cycles({"pkg.a": {"pkg.b": 2}, "pkg.b": {"pkg.a": 2}, "pkg.c": {"pkg.a": 1}}) == [["pkg.a", "pkg.b"]]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package):
    graph = import_graph(package)
    found = cycles(graph)
    assert not found, f"import cycles in {package}/: " + " | ".join(describe(component, graph) for component in found)


def test_detector_never_imports_training_benchmarks_or_notebooks():
    offending = [
        f"{module} imports {target} (line {line})"
        for module, path in module_names("detector").items()
        for target, line in imported_names(path, module)
        if target.split(".")[0] in OUTSIDE_THE_LIBRARY
    ]
    assert not offending, "detector/ must not import the code around it: " + "; ".join(offending)
