"""The docstring-example sweep (tools/docexamples.py): how it splits docstrings into statements,
how it classifies a difference, and a run on a few of PyTorch's own docstrings."""

from __future__ import annotations

import pytest

from tools import docexamples as dx


def _stmt(out: str = "", err: list | None = None, want_tb: bool = False) -> dict:
    return {"out": out, "err": err, "want_tb": want_tb}


BLOCK = {"name": "torch.demo", "scope": "", "module": "torch",
         "examples": [["x = 1\n", ""], ["x\n", "1\n"]]}


def test_statements_split_over_prompts_are_joined() -> None:
    pairs = [["for i in range(2):\n", ""], ["    print(i)\n", "0\n1\n"], ["y = 2\n", ""]]
    assert dx._join_statements(pairs) == [["for i in range(2):\n    print(i)\n", "0\n1\n"],
                                          ["y = 2\n", ""]]


@pytest.mark.parametrize("torch_run, gradkit_run, category", [
    ([_stmt(), _stmt("tensor([1., 2.])\n")], [_stmt(), _stmt("tensor([1., 2.])\n")], "pass"),
    ([_stmt(), _stmt("tensor([1., 2.])\n")], [_stmt(), _stmt("tensor([1.00001, 2.])\n")], "pass"),
    ([_stmt(), _stmt("tensor([1., 2.])\n")], [_stmt(), _stmt("tensor([1., 3.])\n")], "value"),
    ([_stmt(), _stmt("tensor([1., 2.])\n")], [_stmt(), _stmt("tensor([1, 2])\n")], "dtype"),
    ([_stmt(), _stmt("tensor([1.], dtype=torch.float64)\n")], [_stmt(), _stmt("tensor([1.])\n")],
     "dtype"),
    ([_stmt(), _stmt("torch.Size([2])\n")], [_stmt(), _stmt("(2,)\n")], "printing"),
    ([_stmt(), _stmt("1\n")],
     [_stmt(), _stmt(err=["AttributeError", "module 'gradkit' has no attribute 'nan'", ""])],
     "missing"),
    ([_stmt(), _stmt("1\n")], [_stmt(), _stmt(err=["TypeError", "bad", ""])], "gradkit raised"),
    ([_stmt(), _stmt(err=["ValueError", "no", ""], want_tb=True)], [_stmt(), _stmt("1\n")],
     "no error"),
    ([_stmt(), _stmt(err=["ValueError", "no", ""], want_tb=True)],
     [_stmt(), _stmt(err=["ValueError", "No", ""], want_tb=True)], "error message"),
    ([_stmt(), _stmt(err=["NameError", "x", ""])], [_stmt(), _stmt("1\n")], "torch fails"),
    ([_stmt(), _stmt("tensor(4.5819e-05)\n")], [_stmt(), _stmt("tensor(3.7701e-05)\n")], "round-off"),
    ([_stmt(), _stmt("<torch._C.Generator object at 0x7f7da1>\n")],
     [_stmt(), _stmt("<gradkit._core.creation.Generator object at 0x7f6623>\n")], "pass"),
])
def test_classify(torch_run: list, gradkit_run: list, category: str) -> None:
    assert dx.classify(BLOCK, torch_run, gradkit_run)[0] == category


def test_out_of_scope_blocks_are_not_compared() -> None:
    assert dx.classify(dict(BLOCK, scope="out of scope"), None, None)[0] == "out of scope"


def test_sweep_of_three_docstrings(capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("torch")
    assert dx.main(["--only", "torch.abs", "torch.Tensor.register_hook", "torch.nn.functional.cross_entropy",
                    "--list", "pass"]) == 0
    out = capsys.readouterr().out
    for name in ("torch.abs", "torch.Tensor.register_hook",
                 "torch.nn.functional.cross_entropy"):
        assert f"pass             {name}:" in out
    assert "3 docstrings with examples; 3 compared" in out


def test_an_indented_block_is_joined_to_its_end() -> None:
    pairs = [["def f(x):\n", ""], ["    y = x\n", ""], ["    return y\n", ""], ["f(1)\n", "1\n"]]
    assert dx._join_statements(pairs) == [["def f(x):\n    y = x\n    return y\n", ""],
                                          ["f(1)\n", "1\n"]]
