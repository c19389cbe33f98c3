"""The package rules of docs/architecture.md, checked from the import graph: every
`import` in src/gameday (at module top or inside a function) is an arrow from its
package to the package it names."""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "gameday"

# package → the only packages it may import: the bottom layers.
ONLY: dict[str, set[str]] = {
    "model": set(),
    "errors": set(),
    "record": {"model", "errors"},
    "verify": {"model", "errors"},
}
# package → packages it must never import (directly).
FORBIDDEN: dict[str, set[str]] = {
    "observe": {"engine", "chaos", "report", "context"},
    "report": {"engine", "chaos", "context", "observe", "lab"},
    "lab": {"engine", "chaos", "context", "report"},
    "runbook": {"engine", "chaos", "context", "observe", "report", "lab"},
    "experiment": {"engine", "chaos", "context", "report"},
    "chaos": {"engine", "cli", "report"},
    "engine": {"chaos", "cli"},
    "context": {"engine", "chaos", "cli"},
    "targets": {"engine", "chaos", "context", "cli"},
    "load": {"engine", "chaos", "context", "cli"},
}


def _package(path: Path) -> str:
    relative = path.relative_to(SOURCE)
    return relative.parts[0].removesuffix(".py")


@cache
def _imports() -> dict[str, frozenset[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in SOURCE.rglob("*.py"):
        source = _package(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                parts = name.split(".")
                if parts[0] == "gameday" and len(parts) > 1 and parts[1] != source:
                    graph[source].add(parts[1])
    return {package: frozenset(targets) for package, targets in graph.items()}


def import_graph() -> dict[str, set[str]]:
    """package → the gameday packages its modules import."""
    return {package: set(targets) for package, targets in _imports().items()}


def _packages() -> set[str]:
    return {_package(path) for path in SOURCE.rglob("*.py")} - {"__init__"}


def test_no_import_cycle_between_packages() -> None:
    graph = import_graph()
    # The root package's lazy discovery hook (`gameday.discover`) is Chaos Toolkit's
    # entry point, not a package of the flow.
    graph.pop("__init__", None)
    visiting: list[str] = []
    done: set[str] = set()

    def visit(package: str) -> None:
        if package in done:
            return
        if package in visiting:
            cycle = [*visiting[visiting.index(package) :], package]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        visiting.append(package)
        for target in sorted(graph.get(package, ())):
            visit(target)
        visiting.pop()
        done.add(package)

    for package in sorted(graph):
        visit(package)


@pytest.mark.parametrize("package", sorted(ONLY))
def test_bottom_layers_import_only_what_lies_below_them(package: str) -> None:
    assert package in _packages(), f"{package} is no longer a package: update the rules"
    extra = import_graph().get(package, set()) - ONLY[package]
    assert not extra, f"{package} imports {sorted(extra)}"


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_forbidden_imports(package: str) -> None:
    assert package in _packages(), f"{package} is no longer a package: update the rules"
    imported = import_graph().get(package, set()) & FORBIDDEN[package]
    assert not imported, f"{package} imports {sorted(imported)}"


def test_the_rules_are_the_documented_ones() -> None:
    documented = (SOURCE.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    for package in sorted(_packages()):
        assert f"`{package}" in documented, f"docs/architecture.md does not describe {package}"
