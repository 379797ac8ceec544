"""Every code example in the documentation runs, and the documentation site builds.

How examples are executed (the rules authors of docs/*.md and README.md follow):

- Every fenced block opened with ```` ```python ```` (indented fences in lists too) runs. The
  blocks of one page run in order in one namespace, in a fresh temporary working directory,
  with matplotlib on its non-interactive backend.
- A top-level comment line ``# Output:`` followed by comment lines declares what the code above
  it (since the previous ``# Output:`` of the page) printed; the captured stdout must equal
  those lines (trailing spaces ignored). ``assert`` statements in the examples are checked as
  written.
- Blocks that import ``torch``, ``tensorflow``, ``jax`` or ``autograd`` (the side-by-side
  guides) run with those names bound to gradkit's counterparts (``gradkit``, ``gradkit.tf``,
  ``gradkit.func`` with ``jax.numpy``/``autograd.numpy`` = NumPy), whether or not the real
  library is installed: that binding is the porting recipe the guides describe.
- ```` ```console ```` blocks are command-line sessions: each ``$ gradkit ARGS`` line runs
  ``gradkit.cli.main(ARGS)`` and its stdout must equal the lines that follow it.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[ \t]*$")
OUTPUT = "# Output:"


@dataclass
class Block:
    page: str
    line: int            # 1-based line of the opening fence
    lang: str
    source: str


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md")) + [ROOT / "README.md"]


def extract_blocks(text: str, page: str = "<text>") -> list[Block]:
    """Fenced code blocks of a Markdown text, dedented by their fence's indentation."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m["lang"]:
            i += 1
            continue
        indent, start, body = m["indent"], i, []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        if i == len(lines):
            raise AssertionError(f"{page}:{start + 1}: unclosed code fence")
        blocks.append(Block(page, start + 1, m["lang"], "\n".join(body) + "\n"))
        i += 1
    return blocks


def split_outputs(source: str) -> list[tuple[str, list[str] | None]]:
    """Cut a block into (code, expected output lines or None) at top-level ``# Output:`` lines."""
    parts: list[tuple[str, list[str] | None]] = []
    code: list[str] = []
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].rstrip() == OUTPUT:
            i += 1
            expected = []
            while i < len(lines) and lines[i].startswith("#"):
                expected.append(lines[i][2:] if lines[i].startswith("# ") else lines[i][1:])
                i += 1
            parts.append(("\n".join(code) + "\n", expected))
            code = []
        else:
            code.append(lines[i])
            i += 1
    if any(c.strip() for c in code):
        parts.append(("\n".join(code) + "\n", None))
    return parts


def _same(actual: str, expected: list[str]) -> bool:
    norm = [ln.rstrip() for ln in actual.rstrip("\n").splitlines()]
    return norm == [ln.rstrip() for ln in expected]


# --- foreign libraries in the side-by-side guides ---------------------------------------
def _module(name: str, **attrs: object) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    return mod


def _aliases() -> dict[str, object]:
    import gradkit
    import gradkit.func as gf
    import gradkit.tf as gtf
    jax = _module("jax", grad=gf.grad, value_and_grad=gf.value_and_grad, jacfwd=gf.jacfwd,
                  jacrev=gf.jacrev, hessian=gf.hessian, jvp=gf.jvp, vjp=gf.vjp, vmap=gf.vmap,
                  linearize=gf.linearize, numpy=np, lax=_module("jax.lax", stop_gradient=gf.stop_gradient))
    autograd = _module("autograd", grad=gf.grad, value_and_grad=gf.value_and_grad,
                       jacobian=gf.jacrev, hessian=gf.hessian, numpy=np)
    return {"torch": gradkit, "tensorflow": gtf, "jax": jax, "autograd": autograd}


def _aliased_import(aliases: dict[str, object]):  # type: ignore[no-untyped-def]
    real = builtins.__import__

    def __import__(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A001
        root, _, rest = name.partition(".")
        if level or root not in aliases:
            return real(name, globals, locals, fromlist, level)
        mod = aliases[root]
        if fromlist:                      # `from torch.nn import functional`: the named module
            for part in filter(None, rest.split(".")):
                mod = getattr(mod, part)
        return mod
    return __import__


def run_page(blocks: list[Block], workdir: Path) -> int:
    """Run a page's Python blocks in one namespace and its console blocks; return checks made."""
    import matplotlib
    matplotlib.use("Agg")
    ns_builtins = dict(vars(builtins))
    ns_builtins["__import__"] = _aliased_import(_aliases())
    ns: dict[str, object] = {"__name__": "__docs__", "__builtins__": ns_builtins}
    checks = 0
    old = os.getcwd()
    os.chdir(workdir)
    try:
        for b in blocks:
            where = f"{b.page}:{b.line}"
            if b.lang == "python":
                checks += _run_python(b, ns, where)
            elif b.lang == "console":
                checks += _run_console(b, where)
    finally:
        os.chdir(old)
        import matplotlib.pyplot as plt
        plt.close("all")
    return checks


def _run_python(b: Block, ns: dict[str, object], where: str) -> int:
    checks = 1
    for code, expected in split_outputs(b.source):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                exec(compile(code, where, "exec"), ns)
            except Exception as e:
                raise AssertionError(f"example at {where} raised {type(e).__name__}: {e}\n{code}") from e
        if expected is not None:
            checks += 1
            if not _same(out.getvalue(), expected):
                raise AssertionError(f"example at {where} printed\n{out.getvalue()}\nbut the page says\n"
                                     + "\n".join(expected))
    return checks


def _run_console(b: Block, where: str) -> int:
    from gradkit.cli import main
    lines, checks, i = b.source.splitlines(), 0, 0
    while i < len(lines):
        assert lines[i].startswith("$ gradkit"), f"{where}: console blocks hold `$ gradkit ...` sessions"
        argv = shlex.split(lines[i][len("$ gradkit"):])
        i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = main(argv)
        assert status in (0, None), f"{where}: gradkit {shlex.join(argv)} exited with {status}"
        assert _same(out.getvalue(), expected), (
            f"`gradkit {shlex.join(argv)}` at {where} printed\n{out.getvalue()}\nbut the page says\n"
            + "\n".join(expected))
        checks += 1
    return checks


# --- the tests ------------------------------------------------------------------------------
PAGES = pages()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(page: Path, tmp_path: Path) -> None:
    rel = str(page.relative_to(ROOT))
    blocks = extract_blocks(page.read_text(encoding="utf-8"), rel)
    run_page(blocks, tmp_path)


def test_examples_are_found() -> None:
    # Guards against an extractor that silently finds nothing.
    found = {str(p.relative_to(ROOT)): extract_blocks(p.read_text(encoding="utf-8")) for p in PAGES}
    python = {k: [b for b in v if b.lang == "python"] for k, v in found.items()}
    assert len(python["README.md"]) >= 2
    for page in ("quickstart.md", "from-pytorch.md", "from-jax.md", "from-tensorflow.md",
                 "from-autograd.md", "semantics.md", "numpy.md", "numerical.md", "images.md",
                 "optimization.md", "symbolic.md"):
        assert python[f"docs/{page}"], page
    assert any(b.lang == "console" for b in found["docs/cli.md"])
    outputs = sum(src.count(OUTPUT) for v in python.values() for src in (b.source for b in v))
    assert outputs >= 40


def test_extractor_and_output_checks(tmp_path: Path) -> None:
    text = "x\n\n  ```python\n  a = 1\n  print(a + 1)\n  # Output:\n  # 2\n  ```\n\n```text\nno\n```\n"
    blocks = extract_blocks(text)
    assert [(b.lang, b.line) for b in blocks] == [("python", 3), ("text", 10)]
    assert split_outputs(blocks[0].source) == [("a = 1\nprint(a + 1)\n", ["2"])]
    assert run_page(blocks, tmp_path) == 2
    wrong = extract_blocks("```python\nprint(3)\n# Output:\n# 4\n```\n")
    with pytest.raises(AssertionError, match="printed"):
        run_page(wrong, tmp_path)
    with pytest.raises(AssertionError, match="raised ZeroDivisionError"):
        run_page(extract_blocks("```python\n1 / 0\n```\n"), tmp_path)


def test_foreign_imports_are_bound_to_gradkit(tmp_path: Path) -> None:
    src = ("```python\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
           "import jax.numpy as jnp\nimport tensorflow as tf\nfrom autograd import grad\n"
           "import gradkit, gradkit.tf, gradkit.func, numpy\n"
           "assert torch is gradkit and F is gradkit.nn.functional and nn is gradkit.nn\n"
           "assert jnp is numpy and tf is gradkit.tf and grad is gradkit.func.grad\n```\n")
    assert run_page(extract_blocks(src), tmp_path) == 1


def test_every_page_is_in_the_nav() -> None:
    yml = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r"([\w./-]+\.md)\s*$", yml, flags=re.M))
    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert on_disk - listed == set(), "add these pages to the nav in mkdocs.yml"
    assert listed - on_disk == set(), "the nav names pages that do not exist"


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f",
                           str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = tmp_path / "site"
    assert (site / "index.html").exists()
    assert (site / "api" / "gradkit.func" / "index.html").read_text(encoding="utf-8").count("value_and_grad")
    assert (site / "images" / "edges.png").exists()
