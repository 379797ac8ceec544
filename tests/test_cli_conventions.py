"""The CLI's conventions: --version, non-zero exit on failure, SymPy's presence said, install hints."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import gradkit as gk
from gradkit.cli import main


def test_version_flag():
    out = subprocess.run([sys.executable, "-m", "gradkit", "--version"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0
    assert out.stdout.strip() == f"gradkit {gk.__version__}"


def test_grad_shows_symbolic_form_with_sympy(capsys):
    pytest.importorskip("sympy")
    assert main(["grad", "x**2*y", "--at", "x=1", "y=2"]) == 0
    out = capsys.readouterr().out
    assert "symbolic: [2*x*y, x**2]" in out and "[4, 1]" in out


def test_grad_says_when_sympy_is_missing(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sympy", None)  # import sympy raises ImportError
    assert main(["grad", "x**2*y", "--at", "x=1", "y=2"]) == 0
    out = capsys.readouterr().out
    assert "SymPy is not installed (pip install sympy)" in out and "[4, 1]" in out
    assert main(["grad", "x**2*y", "--at", "x=1", "y=2", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert "symbolic" not in res and "pip install sympy" in res["symbolic_missing"]
    assert main(["grad", "x**2*y"]) == 1  # nothing to show at all: an error, exit 1
    assert "pip install sympy" in capsys.readouterr().err


def test_images_need_pillow_and_say_so(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL", None)
    src = tmp_path / "a.png"
    src.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert main(["edges", str(src), "-o", str(tmp_path / "b.png")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install pillow" in err


def test_missing_image_exits_non_zero(capsys, tmp_path):
    assert main(["edges", str(tmp_path / "missing.png"), "-o", str(tmp_path / "b.png")]) == 1
    assert "no such image file" in capsys.readouterr().err


def test_scipy_install_hint_names_the_package(monkeypatch):
    for name in [m for m in sys.modules if m == "scipy" or m.startswith("scipy.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    from gradkit.optimize._core import require_scipy

    with pytest.raises(ImportError, match=r"pip install scipy"):
        require_scipy("minimize")
