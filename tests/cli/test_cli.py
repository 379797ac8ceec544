"""The gradkit command, through ``python -m gradkit`` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "gradkit", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def cli(*args: str) -> tuple[int, str, str]:
    """The same entry point in-process (most cases: a subprocess costs ~1 s of imports)."""
    import contextlib
    import io

    from gradkit.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(list(args))
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 1
    return rc, out.getvalue(), err.getvalue()


def ok_json(*args: str, subprocess: bool = False) -> dict:
    if subprocess:
        r = run(*args, "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)
    rc, out, err = cli(*args, "--json")
    assert rc == 0, err
    return json.loads(out)


def test_bare_and_tour_print_the_tour() -> None:
    bare, tour = run(), run("tour")
    assert bare.returncode == tour.returncode == 0
    assert bare.stdout == tour.stdout
    assert "x.grad = tensor(4.)" in bare.stdout


def test_grad_seed() -> None:
    pytest.importorskip("sympy")
    r = run("grad", "x**2 + x*y + z", "--at", "x=-1", "y=2", "z=3")
    assert r.returncode == 0, r.stderr
    assert "[2*x + y, x, 1]" in r.stdout and "[0, -1, 1]" in r.stdout
    res = ok_json("grad", "x**2 + x*y + z", "--at", "x=-1,y=2,z=3", subprocess=True)
    assert res["symbolic"] == ["2*x + y", "x", "1"] and res["autodiff"] == [0.0, -1.0, 1.0]


def test_jacobian_hessian_derivative() -> None:
    pytest.importorskip("sympy")
    res = ok_json("jacobian", "x*y, x + y", "--at", "x=1", "y=2")
    assert res["symbolic"] == [["y", "x"], ["1", "1"]] and res["autodiff"] == [[2, 1], [1, 1]]
    res = ok_json("hessian", "x**2*y + y**3", "--at", "x=1", "y=2")
    assert res["autodiff"] == [[4, 2], [2, 12]]
    res = ok_json("derivative", "sin(x)*x", "-n", "3", "--at", "x=0.5")
    assert res["autodiff"] == pytest.approx(-(0.5 * np.cos(0.5) + 3 * np.sin(0.5)))


def test_minimize(tmp_path) -> None:
    res = ok_json("minimize", "x**2 - 4*x + 8", "--x0", "1.3", "--method", "BFGS", subprocess=True)
    assert res["x"][0] == pytest.approx(2.0, abs=1e-6) and res["fun"] == pytest.approx(4.0)
    assert {"nit", "nfev", "njev", "success", "backend"} <= set(res)
    res = ok_json("minimize", "(x-1)**2 + (y+2)**2", "--x0", "0", "0", "--method", "gd")
    assert res["x"] == pytest.approx([1.0, -2.0], abs=1e-5) and res["success"]
    pytest.importorskip("matplotlib")
    out = tmp_path / "p.png"
    res = ok_json("minimize", "(1-x)**2 + 5*(y-x**2)**2", "--x0", "-1", "2", "--plot", str(out))
    assert out.read_bytes()[:8] == PNG


def test_edges_and_focus(tmp_path) -> None:
    pytest.importorskip("PIL")
    from gradkit import image
    img = np.zeros((32, 40), np.uint8)
    img[8:24, 10:30] = 200
    src = tmp_path / "in.png"
    image.write(src, img)
    for method in ("sobel", "scharr", "laplacian", "canny"):
        out = tmp_path / f"{method}.png"
        res = ok_json("edges", str(src), "-o", str(out), "--method", method)
        assert out.read_bytes()[:8] == PNG and res["max_response"] > 0
    res = ok_json("edges", str(src), "-o", str(tmp_path / "a.png"), "--angle", "45")
    assert res["angle"] == 45.0
    res = ok_json("focus", str(src), str(tmp_path / "sobel.png"), subprocess=True)
    assert len(res["scores"]) == 2 and all(s["score"] > 0 for s in res["scores"])


def test_graph(tmp_path) -> None:
    import xml.etree.ElementTree as ET
    out = tmp_path / "g.svg"
    res = ok_json("graph", "sin(x)*exp(y)", "-o", str(out), "--at", "x=1", "y=0.5", subprocess=True)
    assert res["nodes"] == 5 and res["value"] == pytest.approx(np.sin(1) * np.exp(0.5))
    ET.parse(out)
    rc, _, _ = cli("graph", "x + y", "-o", str(tmp_path / "g.dot"))
    assert rc == 0 and (tmp_path / "g.dot").read_text().startswith("digraph")


@pytest.mark.parametrize("args", [
    ["grad", "x +"], ["grad", "x + w", "--vars", "x y"], ["grad", "x*y", "--at", "x=1", "q=2"],
    ["grad", "x*y", "--at", "x=1"], ["grad", "x*y", "--at", "x=one", "y=2"], ["grad", "9**9**9**9"],
    ["grad", "__import__('os').system('echo hacked')"], ["minimize", "x", "--x0", "1", "2"],
    ["edges", "/no/such/file.png", "-o", "/tmp/x.png"], ["focus", __file__],
    ["graph", "3", "-o", "/tmp/never.svg"], ["derivative", "x*y"], ["nosuchcommand"],
    ["grad"], ["edges", "a.png"],
])
def test_bad_input_is_one_line_and_nonzero(args: list[str]) -> None:
    rc, out, err = cli(*args)
    assert rc != 0
    assert "Traceback" not in err and "hacked" not in out
    assert len(err.strip().splitlines()) == 1, err
    assert "error" in err


@pytest.mark.parametrize("args", [["grad", "__import__('os').system('echo hacked')"],
                                  ["edges", "/no/such/file.png", "-o", "/tmp/x.png"], ["bogus"]])
def test_bad_input_in_a_subprocess(args: list[str]) -> None:
    r = run(*args)
    assert r.returncode != 0 and "Traceback" not in r.stderr and "hacked" not in r.stdout
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.parametrize("cmd", ["", "grad", "jacobian", "hessian", "derivative", "minimize", "edges",
                                 "focus", "graph", "tour"])
def test_help_everywhere(cmd: str) -> None:
    rc, out, _ = cli(*([cmd] if cmd else []), "--help")
    assert rc == 0 and "usage: gradkit" in out
    if cmd not in ("", "tour"):
        assert "examples:" in out
    if cmd == "grad":
        r = run(cmd, "--help")
        assert r.returncode == 0 and r.stdout == out
