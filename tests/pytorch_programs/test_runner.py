"""The program runner's line comparison (tools/pytorch_programs/run.py): what it forgives
(numbers within 1e-4, object addresses, printed ``id()`` values) and what it does not."""

from __future__ import annotations

from tools.pytorch_programs.run import _same_line, first_difference


def test_printed_ids_and_addresses_are_not_compared() -> None:
    assert _same_line("id(Z): 140201236718368", "id(Z): 139872001122480")
    assert _same_line("before id(X)=12345 after", "before id(X)=67890 after")
    assert _same_line("<object at 0x7f00aa>", "<object at 0x7f11bb>")


def test_other_numbers_on_an_id_line_are_still_compared() -> None:
    assert not _same_line("id(Z): 1401 loss 0.5", "id(Z): 1402 loss 0.6")
    assert not _same_line("id(Z): 1401", "Z: 1401")
    # an integer without an id(...) label before it is a value like any other
    assert not _same_line("count 140201236718368", "count 139872001122480")


def test_first_difference_names_the_line() -> None:
    assert first_difference("a 1.0\nid(Y): 5\n", "a 1.00001\nid(Y): 7\n") is None
    assert first_difference("a 1\nb 2\n", "a 1\nb 3\n") == "line 2: torch `b 2` gradkit `b 3`"


def test_nan_matches_nan_only() -> None:
    assert _same_line("tensor([1.0000,    nan])", "tensor([1.0000,    nan])")
    assert not _same_line("tensor([1.0000,    nan])", "tensor([1.0000, 2.0000])")


_PROGRAM = """\
import torch
from torch.distributions import Categorical
w = torch.normal(0, 0.01, (3, 1), requires_grad=True)
print('leaf', w.is_leaf, w.requires_grad, w.grad_fn is None)
(w * 2).sum().backward()
print('grad', w.grad.flatten().tolist())
probs = torch.tensor([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
print('sample', Categorical(probs).sample().tolist(), Categorical(probs).sample((4,)).tolist())
print('next', round(float(torch.rand(1)), 6))
"""


def test_normal_with_requires_grad_is_a_leaf_and_categorical_draws_from_the_stream(tmp_path) -> None:
    # both runs of one program: torch.normal(..., requires_grad=True) is a leaf (d2l trains
    # it with an SGD that reads .grad), and Categorical.sample draws the same categories
    # (PyTorch's calls torch.multinomial, which the runner feeds from its stream)
    import subprocess
    import sys
    from pathlib import Path

    import pytest
    pytest.importorskip("torch")
    prog = tmp_path / "prog.py"
    prog.write_text(_PROGRAM)
    root = Path(__file__).resolve().parents[2]
    outs = [subprocess.run([sys.executable, "-m", "tools.pytorch_programs.run", "--backend", b,
                            str(prog)], cwd=root, capture_output=True, text=True, timeout=300)
            for b in ("torch", "gradkit")]
    for o in outs:
        assert o.returncode == 0, o.stderr[-2000:]
    assert "leaf True True True" in outs[0].stdout and "grad [2.0, 2.0, 2.0]" in outs[0].stdout
    assert first_difference(outs[0].stdout, outs[1].stdout) is None, (outs[0].stdout, outs[1].stdout)
