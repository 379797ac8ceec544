"""The import graph shows the architecture (docs/architecture.md): floors, and no cycle
that spans two packages.

Every ``import`` in gradkit counts, function-level ones too (a function-level import is
still a dependency; it only runs later).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import importgraph  # noqa: E402

#: floor -> the packages its modules may import (besides the standard library and NumPy)
FLOORS = {
    "gradkit._core": ("gradkit._core",),
    "gradkit.ops": ("gradkit._core", "gradkit.ops"),
    "gradkit.autograd": ("gradkit._core", "gradkit.ops", "gradkit.autograd"),
}


def _inside(mod: str, pkg: str) -> bool:
    return mod == pkg or mod.startswith(pkg + ".")


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return importgraph.graph()


def test_graph_sees_the_package(graph: dict[str, set[str]]) -> None:
    assert "gradkit._core.tensor" in graph
    assert "gradkit.ops._registry" in graph["gradkit.autograd.engine"] or \
        any(_inside(d, "gradkit.ops") for d in graph["gradkit.autograd.engine"])


def test_no_cycle_spans_two_packages(graph: dict[str, set[str]]) -> None:
    bad = []
    for comp in importgraph.sccs(graph):
        packages = sorted({importgraph.package_of(m) for m in comp})
        if len(packages) > 1:
            bad.append(f"cycle over {packages}: {' '.join(comp)}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("floor", sorted(FLOORS))
def test_floor_imports_only_below(graph: dict[str, set[str]], floor: str) -> None:
    allowed = FLOORS[floor]
    bad = [f"{mod} imports {dep}"
           for mod, deps in sorted(graph.items()) if _inside(mod, floor)
           for dep in sorted(deps) if not any(_inside(dep, ok) for ok in allowed)]
    assert not bad, "\n".join(bad)


def test_cycles_are_found() -> None:
    # the checker itself: a two-package cycle is reported, a one-package one is not split
    g = {"a.x": {"b.y"}, "b.y": {"a.x"}, "c": set()}
    assert sorted(map(sorted, importgraph.sccs(g))) == [["a.x", "b.y"], ["c"]]
