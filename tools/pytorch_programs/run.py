"""Run PyTorch programs with torch and with ``gradkit`` as ``torch``; compare what they print.

    python -m tools.pytorch_programs.run DIR_OR_FILES... [--table results.md]
    python -m tools.pytorch_programs.run --backend gradkit prog.py   # one run, prints its output

Each program runs in a fresh interpreter, once per backend, with random draws taken from one
NumPy stream in both (``alias.fix_random``), so printed values can be compared. Lines are
compared token by token: numbers to 1e-4 relative (1e-6 absolute), the rest exactly
(object addresses ``0x...`` and the integer printed after a label ``id(...)``, as in
``print('id(Z):', id(Z))``, aside).
"""
from __future__ import annotations

import argparse
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")
TIMEOUT = 600


def _one(backend: str, program: str) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(1, str(Path(program).resolve().parent))
    os.environ.setdefault("MPLBACKEND", "Agg")
    from tools.pytorch_programs import alias
    if backend == "gradkit":
        alias.install_alias()
    import torch
    alias.fix_random(torch)
    torch.manual_seed(0)
    import random
    random.seed(0)
    try:
        import matplotlib.pyplot as plt
        plt.show = lambda *a, **k: None
    except ImportError:
        pass
    os.chdir(Path(program).resolve().parent)
    runpy.run_path(program, run_name="__main__")


def run(backend: str, program: str) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-m", "tools.pytorch_programs.run", "--backend",
                           backend, str(Path(program).resolve())], cwd=ROOT, capture_output=True,
                          text=True, timeout=TIMEOUT)
    return proc.returncode, proc.stdout, proc.stderr


ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
OBJECT_ID = re.compile(r"(\bid\([^()]*\)\s*[:=]?\s*)\d+")


def _mask(line: str) -> str:
    """Blank what differs between two runs of one program: addresses and printed ``id()``s."""
    return OBJECT_ID.sub(r"\1?", ADDRESS.sub("0x?", line))


def _same_line(a: str, b: str, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    a, b = _mask(a), _mask(b)
    if NUMBER.sub("#", a) != NUMBER.sub("#", b):
        return False
    for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
        fx, fy = float(x), float(y)
        if fx != fy and not (fx != fx and fy != fy) and not abs(fx - fy) <= atol + rtol * abs(fy):
            return False
    return True


def first_difference(expected: str, got: str) -> str | None:
    """``None`` when the outputs agree, else the first differing line of each."""
    e_lines, g_lines = expected.splitlines(), got.splitlines()
    for i, (e, g) in enumerate(zip(e_lines, g_lines), 1):
        if not _same_line(e, g):
            return f"line {i}: torch `{e.strip()[:90]}` gradkit `{g.strip()[:90]}`"
    if len(e_lines) != len(g_lines):
        i = min(len(e_lines), len(g_lines)) + 1
        e = e_lines[i - 1] if len(e_lines) >= i else "<end>"
        g = g_lines[i - 1] if len(g_lines) >= i else "<end>"
        return f"line {i}: torch `{e.strip()[:90]}` gradkit `{g.strip()[:90]}`"
    return None


def _last_error(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "(no message)"


def compare(program: str) -> tuple[bool, str]:
    rc_t, out_t, err_t = run("torch", program)
    if rc_t:
        return False, f"torch itself failed: {_last_error(err_t)}"
    rc_g, out_g, err_g = run("gradkit", program)
    diff = first_difference(out_t, out_g)
    if rc_g:
        where = f" after {len(out_g.splitlines())} matching lines" if diff is None else ""
        return False, f"gradkit raised{where}: {_last_error(err_g)}" + (f" ({diff})" if diff else "")
    if diff is None:
        return True, f"{len(out_t.splitlines())} lines agree"
    bad = sum(not _same_line(e, g) for e, g in zip(out_t.splitlines(), out_g.splitlines()))
    return False, f"{diff} ({bad} of {len(out_t.splitlines())} lines differ)"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("programs", nargs="+")
    p.add_argument("--backend", choices=["torch", "gradkit"])
    p.add_argument("--table")
    a = p.parse_args(argv)
    if a.backend:
        _one(a.backend, a.programs[0])
        return 0
    files: list[Path] = []
    for item in a.programs:
        path = Path(item)
        files += sorted(path.glob("*.py")) if path.is_dir() else [path]
    rows = []
    for f in files:
        ok, note = compare(str(f))
        rows.append((f.name, ok, note))
        print(f"{'PASS' if ok else 'FAIL'} {f.name}: {note}", flush=True)
    if a.table:
        with open(a.table, "w") as fh:
            fh.write("| program | result | first difference |\n|---|---|---|\n")
            for name, ok, note in rows:
                fh.write(f"| {name} | {'pass' if ok else 'FAIL'} | {note.replace('|', '/')} |\n")
    return 0 if all(ok for _, ok, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
