"""Print gradkit's module import graph (every import, function-level included; type-only imports
under ``if TYPE_CHECKING:`` are not dependencies)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "gradkit"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The gradkit modules that `name` imports anywhere in its body."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # NOTE: an import under `if TYPE_CHECKING:` never runs: it names a module for type checkers
    # (the root package's lazily loaded subpackages), it is no dependency
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).split(".")[-1] == "TYPE_CHECKING":
            node.body = []
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    out: set[str] = set()

    def resolve(mod: str) -> str | None:
        while mod and mod not in known:
            mod = mod.rpartition(".")[0]
        return mod or None

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "gradkit":
                    r = resolve(a.name)
                    if r:
                        out.add(r)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = base[:len(base) - node.level + 1]
                mod = ".".join(pkg + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "gradkit":
                continue
            for a in node.names:
                sub = f"{mod}.{a.name}"
                r = sub if sub in known else resolve(mod)
                if r:
                    out.add(r)
    out.discard(name)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {n: imports(n, p, known) for n, p in mods.items()}


def sccs(g: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(g):
        if root in index:
            continue
        work = [(root, iter(sorted(g[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(g.get(w, ())))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    out.append(sorted(comp))
    return out


def package_of(mod: str) -> str:
    """The package a module belongs to: gradkit.X for gradkit.X.*, 'gradkit' for root modules."""
    parts = mod.split(".")
    if len(parts) == 1:
        return "gradkit"
    p = ".".join(parts[:2])
    if (PKG / parts[1]).is_dir():
        return p
    return "gradkit"


if __name__ == "__main__":
    g = graph()
    if "--edges" in sys.argv:
        for k in sorted(g):
            print(k, "->", " ".join(sorted(g[k])))
    for comp in sccs(g):
        if len(comp) > 1:
            pk = sorted({package_of(m) for m in comp})
            print(f"SCC of {len(comp)} modules over {len(pk)} packages {pk}:")
            print("   ", " ".join(comp))
