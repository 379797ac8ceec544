"""The gradkit command is bounded: orders, sizes and pixels are capped, every error is one line
with a non-zero status, --json is strict JSON, and a missing optional dependency is named."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import gradkit.cli as gcli

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "gradkit", *args], capture_output=True, text=True, env=env, timeout=120
    )


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = gcli.main(list(args))
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 1
    return rc, out.getvalue(), err.getvalue()


def strict_json(text: str) -> dict:
    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def one_line_error(args, contains: str = "") -> str:
    rc, out, err = cli(*args)
    assert rc != 0, out
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "error" in err and contains in err, err
    return err


# --------------------------------------------------------------------------- derivative orders
def test_huge_order_is_refused_at_once():
    huge = ["derivative", "sin(x)*exp(x)", "-n", "1000000", "--at", "x=0.5"]
    # refused before any derivative is taken: the message names the cap (no timing asserted)
    err = one_line_error(huge, "too large")
    assert f"at most {gcli.MAX_ORDER}" in err
    one_line_error(["derivative", "x", "-n", str(gcli.MAX_ORDER + 1)], "too large")
    one_line_error(["derivative", "x", "-n", "-1"], ">= 0")


def test_order_20_evaluates_the_symbolic_formula_quickly():
    pytest.importorskip("sympy")
    rc, out, err = cli("derivative", "sin(x)*exp(x)", "-n", "20", "--at", "x=0.5", "--json")
    assert rc == 0, err
    res = strict_json(out)
    # d^n/dx^n (e^x sin x) = 2^(n/2) e^x sin(x + n pi/4); n = 20: -1024 e^x sin x
    assert res["value"] == pytest.approx(-1024 * math.exp(0.5) * math.sin(0.5), rel=1e-12)
    assert "autodiff" not in res and res["symbolic"] == "-1024*exp(x)*sin(x)"
    rc, out, _ = cli("derivative", "sin(x)*exp(x)", "-n", "20", "--at", "x=0.5")
    assert rc == 0 and "value at (x=0.5): -809.40962" in out


def test_low_orders_still_use_autodiff_and_agree_with_the_formula():
    pytest.importorskip("sympy")
    for n in range(0, 7):
        res = strict_json(cli("derivative", "sin(x)*exp(x)", "-n", str(n), "--at", "x=0.5", "--json")[1])
        expected = 2 ** (n / 2) * math.exp(0.5) * math.sin(0.5 + n * math.pi / 4)
        assert res["autodiff"] == pytest.approx(expected, rel=1e-12), n


def test_without_sympy_high_orders_name_sympy(monkeypatch):
    monkeypatch.setattr(gcli, "_have_sympy", lambda: False)
    one_line_error(["derivative", "sin(x)*exp(x)", "-n", "20", "--at", "x=0.5"], "pip install sympy")
    rc, out, err = cli("derivative", "sin(x)*exp(x)", "-n", "3", "--at", "x=0.5", "--json")
    assert rc == 0, err
    expected = 2**1.5 * math.exp(0.5) * math.sin(0.5 + 3 * math.pi / 4)
    assert strict_json(out)["autodiff"] == pytest.approx(expected, rel=1e-12)


def test_a_symbolic_derivative_that_explodes_is_stopped_early():
    pytest.importorskip("sympy")
    product = "*".join(f"sin({i}*x)" for i in range(1, 60))  # Leibniz: ~59x more terms per order
    err = one_line_error(["derivative", product, "-n", "25", "--at", "x=1"], "grows too large")
    assert "order 1 has" in err and "order 2 would have about" in err


def test_symbolic_work_is_capped():
    terms = [f"x{i}*x{i}*1.00000000000000" for i in range(100)]  # 100 variables, ~2800 characters
    one_line_error(["hessian", "+".join(terms)], "too much work")


def test_matrix_sizes_are_capped():
    names = [f"x{i}" for i in range(101)]
    one_line_error(["hessian", "*".join(names[:60]) + "+" + "*".join(names[60:])], "entries")
    one_line_error(["jacobian", ", ".join(names)], "entries")


# --------------------------------------------------------------------------- strict JSON
@pytest.mark.parametrize(
    "args, key, expected",
    [
        (["grad", "log(x)", "--at", "x=0"], "autodiff", ["Infinity"]),
        (["grad", "0-log(x)", "--at", "x=0"], "autodiff", ["-Infinity"]),
        (["grad", "sqrt(x)", "--at", "x=-1"], "autodiff", ["NaN"]),
        (["grad", "x", "--at", "x=inf"], "at", {"x": "Infinity"}),
    ],
)
def test_json_is_strict_and_spells_nonfinite_values(args, key, expected):
    rc, out, err = cli(*args, "--json")
    assert rc == 0 and err == "", err
    res = strict_json(out)
    assert res[key] == expected
    values = expected if isinstance(expected, list) else list(expected.values())
    assert all(not math.isfinite(float(v)) for v in values)  # Python reads them back


def test_no_numpy_warnings_on_stderr():
    r = run("grad", "1/x", "--at", "x=0")  # a subprocess: pytest would capture warnings in-process
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "[-inf]" in r.stdout


def test_out_of_range_numbers_are_refused_not_made_infinite():
    one_line_error(["grad", "x", "--at", "x=1e400"], "out of float64's range")
    one_line_error(["grad", "x", "--at", "x=" + "9" * 400], "out of float64's range")
    one_line_error(["minimize", "x**2", "--x0", "1e400"], "finite")
    one_line_error(["minimize", "x**2", "--x0", "nan"], "finite")
    one_line_error(["minimize", "x**2", "--x0", "1", "--maxiter", "0"], "--maxiter")


# --------------------------------------------------------------------------- minimize
def test_a_failed_minimize_exits_nonzero_with_its_result():
    pytest.importorskip("scipy")
    rc, out, err = cli("minimize", "x", "--x0", "1", "--json")  # unbounded below
    assert rc == 1
    res = strict_json(out)
    assert res["success"] is False
    assert len(err.strip().splitlines()) == 1 and "did not converge" in err
    rc, out, err = cli("minimize", "x**2 - 4*x + 8", "--x0", "1.3")
    assert rc == 0 and err == ""


@pytest.mark.parametrize(
    "expr, message",
    [
        ("x", "iteration limit reached (--maxiter 50)"),  # unbounded below
        ("log(x)", "the objective or its gradient is -inf"),
        ("sqrt(x)", "the line search found no decrease"),  # infinite slope at the minimum
    ],
)
def test_gradient_descent_reports_why_it_stopped(expr, message):
    rc, out, err = cli("minimize", expr, "--x0", "1", "--method", "gd", "--maxiter", "50", "--json")
    assert rc == 1 and strict_json(out)["success"] is False
    assert message in strict_json(out)["message"] and message in err
    rc, out, err = cli("minimize", "(x-1)**2 + (y+2)**2", "--x0", "0", "0", "--method", "gd", "--json")
    assert rc == 0 and strict_json(out)["x"] == pytest.approx([1.0, -2.0], abs=1e-6)
    one_line_error(["minimize", "x**2", "--x0", "1", "--maxiter", "100001"], "--maxiter must be between")


def test_missing_scipy_is_named_not_replaced(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    err = one_line_error(["minimize", "x**2", "--x0", "1", "--method", "BFGS"], "pip install scipy")
    assert "--method BFGS needs SciPy" in err
    rc, out, err = cli("minimize", "(x-1)**2", "--x0", "0", "--method", "gd", "--json")
    assert rc == 0, err
    assert strict_json(out)["x"] == pytest.approx([1.0], abs=1e-6)


def test_missing_matplotlib_is_named_before_minimizing(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    one_line_error(
        ["minimize", "x**2", "--x0", "1", "--plot", str(tmp_path / "p.png")], "pip install matplotlib"
    )


# --------------------------------------------------------------------------- images
def png(width: int, height: int) -> bytes:
    """A grey PNG whose header declares ``width x height``, with (almost) no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("command", ["edges", "focus"])
def test_images_over_the_pixel_limit_are_refused_before_decoding(tmp_path, monkeypatch, command):
    pytest.importorskip("PIL")
    import gradkit.image

    def never(*args, **kwargs):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(gradkit.image, "read", never)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png(100_000, 100_000))
    out = ["-o", str(tmp_path / "o.png")] if command == "edges" else []
    err = one_line_error([command, str(bomb), *out], "100000x100000 = 10000000000 pixels")
    assert f"limit of {gcli.MAX_PIXELS} (--max-pixels)" in err
    small = tmp_path / "small.png"
    small.write_bytes(png(80, 60))
    one_line_error(
        [command, str(small), *out, "--max-pixels", "4799"], "80x60 = 4800 pixels, over the limit of 4799"
    )


def test_the_pixel_limit_is_a_flag_and_images_within_it_work(tmp_path):
    pytest.importorskip("PIL")
    import numpy as np

    from gradkit import image

    img = np.zeros((60, 80), np.uint8)
    img[20:40, 20:60] = 200
    image.write(tmp_path / "in.png", img)
    rc, out, err = cli("focus", str(tmp_path / "in.png"), "--max-pixels", "4800", "--json")
    assert rc == 0, err
    assert strict_json(out)["scores"][0]["score"] > 0
    rc, out, err = cli(
        "edges", str(tmp_path / "in.png"), "-o", str(tmp_path / "e.png"), "--max-pixels", "4800"
    )
    assert rc == 0, err
    one_line_error(["focus", str(tmp_path / "in.png"), "--max-pixels", "0"], "--max-pixels")
    one_line_error(
        ["edges", str(tmp_path / "in.png"), "-o", str(tmp_path / "e.png"), "--ksize", "99"], "--ksize"
    )
    one_line_error(
        ["edges", str(tmp_path / "in.png"), "-o", str(tmp_path / "e.png"), "--angle", "nan"], "finite"
    )


def test_missing_pillow_is_named(monkeypatch, tmp_path):
    (tmp_path / "a.png").write_bytes(png(4, 4))
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    one_line_error(["focus", str(tmp_path / "a.png")], "pip install pillow")
    one_line_error(["edges", str(tmp_path / "a.png"), "-o", str(tmp_path / "e.png")], "Pillow")


# --------------------------------------------------------------------------- hostile input
DEEP = "(" * 5000 + "x" + ")" * 5000


@pytest.mark.parametrize(
    "args",
    [
        ["grad", DEEP],
        ["grad", "1+" + "-" * 3000 + "x", "--at", "x=1"],
        ["grad", "x*" * 3000 + "x", "--at", "x=1"],
        ["grad", "x**" * 3000 + "x", "--at", "x=1"],
        ["grad", "+".join(f"x{i}" for i in range(1500))],
        ["grad", "x" * 10001],
        ["grad", ""],
        ["grad", "   "],
        ["grad", "x\x00"],
        ["grad", "10**10**10"],
        ["grad", "1e999999*x"],
        ["grad", "[x]*99999999"],
        ["grad", "().__class__"],
        ["grad", "x", "--at", "x=--1"],
        ["hessian", "x*y", "--vars", "x x"],
        ["derivative", "x", "--var", "y"],
        ["minimize", "x", "--x0", *["1"] * 10000],
        ["minimize", "x**2", "--x0", "1", "--method", "nonsense"],
        ["graph", "x*y", "-o", "/dev/null/g.svg"],
        ["graph", "x", "-o", "g.svg"],
        ["focus", "."],
        ["focus", __file__],
        ["edges", __file__, "-o", "never.png"],
        ["edges", ".", "-o", "never.png"],
    ],
    ids=lambda a: " ".join(a)[:40],
)
def test_hostile_input_is_one_line_and_nonzero(args):
    one_line_error(args)


def test_unexpected_library_errors_are_one_line(monkeypatch):
    def boom(args):
        raise RuntimeError("something inside broke\nsecond line")

    monkeypatch.setattr(gcli, "_calculus", boom)
    assert "RuntimeError: something inside broke" in one_line_error(["grad", "x"])

    def deep(args):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(gcli, "_calculus", deep)
    assert "nested too deeply" in one_line_error(["grad", "x"])


def test_deep_nesting_in_a_subprocess():
    r = run("grad", DEEP)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
