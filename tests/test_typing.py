"""Type checkers understand gradkit: mypy on user code, README's code blocks and examples/.

One mypy run (its API, a cache in a temporary folder) checks every file at once:

- ``good.py`` uses operators, common methods, nn, optim, func and grad modes, and must give no
  error; ``reveal_type(...)  # R: <type>`` lines also pin what mypy infers;
- ``bad.py`` holds obvious mistakes, each marked ``# E: <code>``: mypy must report each one,
  so the run can fail (a surface typed as ``Any`` everywhere would pass ``good.py``);
- ``names.py`` reveals every public name of ``gradkit``: none may be ``object`` (the type a
  lazily loaded name gets when the root package does not name it for type checkers);
- README.md's Python blocks and examples/*.py must give no error.

Errors inside gradkit itself are not the subject here (``--follow-imports=silent``).
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import gradkit

ROOT = Path(__file__).resolve().parent.parent

GOOD = '''
import numpy as np
import gradkit as gk
import gradkit.nn as nn
import gradkit.nn.functional as F
from gradkit import Tensor

x = gk.randn(3, 4, requires_grad=True)
w = gk.tensor([[1.0], [2.0], [3.0], [4.0]])
y: Tensor = x + 1
y = 1 + x - 2 * x / 3.0 + x * x - 1.5 / (x + 2)
y = (-x) ** 2 + 2 ** x + (x * x) ** x.abs()
y = x @ w
y = x @ w.t().t()
z = x > 0
z = (x < 1.0) & (x >= -1.0) | (x <= 2.0)
z = x == x
z = x != 0
z = ~(x > 0)
reveal_type((x ** 2).sum())  # R: gradkit._core.tensor.Tensor
reveal_type(x.size())  # R: gradkit._core.tensor.Size
reveal_type(x.size(0))  # R: int
reveal_type(x.shape)  # R: gradkit._core.tensor.Size
reveal_type(x.grad)  # R: gradkit._core.tensor.Tensor | None
reveal_type(x.max())  # R: gradkit._core.tensor.Tensor
loss = (x ** 2).mean()
loss.backward()
g = x.grad
if g is not None:
    print(g.abs().sum().item())
n: int = x.size(1) + x.shape[0] + x.ndim + x.dim() + x.numel() + len(x)
a: np.ndarray = x.detach().numpy()
f: float = float(x.sum().item())
x2 = x.reshape(12).view(3, 4).detach().clone().requires_grad_()
x3 = x.reshape(2, 6).view(-1).unsqueeze(0).squeeze(0).flatten().permute(0)
with gk.no_grad():
    x2.zero_()
    x2.add_(1.0)
    x2.mul_(2.0).sub_(x2, alpha=0.5)
    x2 -= 0.1 * x2
    x2 += 1
    x2[0] = 3.0
values, indices = x.max(dim=1)
vals: Tensor = x.max(1).values
top = x.topk(2).indices
print(x.T, x.mT, x.H, x.dtype, x.device, x.is_leaf, x.grad_fn, x.requires_grad, x.data)
print(x.sum(0, keepdim=True), x.mean(dim=(0, 1)), x.sum(axis=0), x.std(), x.var())
print(x.round(2), x.round(decimals=1), x.transpose(0, 1), x.transpose(), x.dot(w))
print(x.exp().log().sin().cos().tanh().sigmoid().relu().clamp(0, 1).abs().sqrt())
print(x.to(gk.float64), x.double(), x.float(), x.long(), x.type(gk.float32), x.tolist())
for row in x:
    print(row.sum())
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
lin = gk.nn.Linear(4, 1)
out = model(x)
loss_fn = nn.MSELoss()
loss = loss_fn(out, gk.zeros(3, 1)) + F.relu(lin(x)).sum() + F.mse_loss(out, out)
param: Tensor = lin.weight
opt = gk.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
adam = gk.optim.Adam(lin.parameters(), lr=1e-3)
opt.zero_grad()
loss.backward()
opt.step()
adam.step()
adam.zero_grad(set_to_none=True)
df = gk.func.grad(lambda t: (t ** 2).sum())
print(df(gk.ones(3)))
vf = gk.func.vmap(lambda t: t.sum())
print(vf(gk.ones(2, 3)), gk.func.jacrev(lambda t: t * 2)(gk.ones(2)))


@gk.no_grad()
def evaluate(t: Tensor) -> Tensor:
    return t * 2


with gk.enable_grad(), gk.set_grad_enabled(True):
    print(evaluate(x), gk.is_grad_enabled())
dt: gk.dtype = gk.float32
print(gk.tensor([1.0], dtype=gk.float64).to(dt), gk.exp(x), gk.sin(x), gk.matmul(x, w))
print(gk.autograd.grad((x * x).sum(), [x], retain_graph=True), gk.linalg.norm(x), gk.randn(2).exp())
tape = gk.GradientTape()
print(gk.Size([2, 3]).numel(), gk.cat([x, x]), gk.stack([x, x], dim=0), gk.where(x > 0, x, 0.0))
'''

BAD = '''
import gradkit as gk

t = gk.randn(3)
t.no_such_method()  # E: attr-defined
n: str = t.size(0)  # E: assignment
s: gk.Size = t.sum()  # E: assignment
t.sum(0, True, 1, 2)  # E: call-arg
gk.optim.SGD([t], lr=0.1).stepp()  # E: attr-defined
t.requires_grad = "yes"  # E: assignment
'''


def test_the_checked_code_runs() -> None:
    """What mypy is asked to accept is code that works (the stub is no looser than that)."""
    exec(compile(GOOD, "good.py", "exec"), {"reveal_type": lambda value: value})


def _readme_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [textwrap.dedent(body) for _, body in
            re.findall(r"^( *)```python\n(.*?)^\1```", text, re.S | re.M)]


def _names_file() -> str:
    names = sorted({n for n in dir(gradkit) if not n.startswith("_") and n != "annotations"}
                   | set(gradkit._LAZY_MODULES) | set(gradkit._LAZY_NAMES))
    return "import gradkit\n" + "".join(f"reveal_type(gradkit.{n})\n" for n in names)


@pytest.fixture(scope="module")
def mypy_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], str]:
    api = pytest.importorskip("mypy.api")
    tmp = tmp_path_factory.mktemp("typing")
    files = {"good": tmp / "good.py", "bad": tmp / "bad.py", "names": tmp / "names.py"}
    files["good"].write_text(GOOD)
    files["bad"].write_text(BAD)
    files["names"].write_text(_names_file())
    for i, block in enumerate(_readme_blocks()):
        files[f"readme_{i}"] = tmp / f"readme_{i}.py"
        files[f"readme_{i}"].write_text(block)
    examples = sorted((ROOT / "examples").glob("*.py"))
    # NOTE: MYPYPATH puts this working tree's gradkit ahead of an installed copy
    import os
    old = os.environ.get("MYPYPATH")
    os.environ["MYPYPATH"] = str(ROOT)
    try:
        stdout, stderr, _ = api.run(
            ["--cache-dir", str(tmp / "cache"), "--follow-imports=silent",
             "--ignore-missing-imports", "--show-error-codes", "--no-color-output",
             "--no-error-summary", "--hide-error-context"]
            + [str(p) for p in files.values()] + [str(p) for p in examples])
    finally:
        if old is None:
            del os.environ["MYPYPATH"]
        else:
            os.environ["MYPYPATH"] = old
    assert not stderr, stderr
    return files, stdout


def _lines(stdout: str, path: Path, kind: str) -> list[tuple[int, str]]:
    """``(line, message)`` for each ``kind`` ("error" or "note") mypy reported in ``path``."""
    out = []
    for line in stdout.splitlines():
        head, sep, msg = line.partition(f": {kind}: ")
        if sep and Path(head.rsplit(":", 1)[0]).resolve() == path.resolve():
            out.append((int(head.rsplit(":", 1)[1]), msg))
    return out


def test_user_code_has_no_errors(mypy_run: tuple[dict[str, Path], str]) -> None:
    files, stdout = mypy_run
    assert _lines(stdout, files["good"], "error") == []


def test_inferred_types(mypy_run: tuple[dict[str, Path], str]) -> None:
    files, stdout = mypy_run
    notes = dict(_lines(stdout, files["good"], "note"))
    want = {i: line.split("# R: ")[1] for i, line in enumerate(GOOD.splitlines(), 1)
            if "# R: " in line}
    assert len(want) == 6
    for line, typ in want.items():
        # NOTE: mypy 2 prints builtins without their module ("int"), mypy 1 with it
        assert notes.get(line, "").replace("builtins.", "") == f'Revealed type is "{typ}"', \
            (line, notes.get(line))


def test_mistakes_are_reported(mypy_run: tuple[dict[str, Path], str]) -> None:
    files, stdout = mypy_run
    errors = _lines(stdout, files["bad"], "error")
    want = {i: line.split("# E: ")[1] for i, line in enumerate(BAD.splitlines(), 1)
            if "# E: " in line}
    got = {line: msg for line, msg in errors}
    assert set(got) == set(want), errors
    for line, code in want.items():
        assert got[line].endswith(f"[{code}]"), (line, got[line])


def test_every_public_name_is_typed(mypy_run: tuple[dict[str, Path], str]) -> None:
    """A name the root package loads lazily must not look like ``object`` to a checker."""
    files, stdout = mypy_run
    notes = _lines(stdout, files["names"], "note")
    assert len(notes) == len(files["names"].read_text().splitlines()) - 1
    untyped = [files["names"].read_text().splitlines()[line - 1] for line, msg in notes
               if msg.replace("builtins.", "") == 'Revealed type is "object"']
    assert untyped == []
    assert _lines(stdout, files["names"], "error") == []


def test_readme_and_examples_type_check(mypy_run: tuple[dict[str, Path], str]) -> None:
    files, stdout = mypy_run
    assert len([k for k in files if k.startswith("readme_")]) >= 2
    errors = [line for line in stdout.splitlines() if ": error: " in line
              and ("readme_" in line or f"{ROOT / 'examples'}" in line or "examples/" in line)]
    assert errors == []


def test_lazy_names_are_spelled_out_for_checkers() -> None:
    """The TYPE_CHECKING imports in gradkit/__init__.py cover what __getattr__ loads."""
    import ast
    tree = ast.parse((ROOT / "gradkit" / "__init__.py").read_text())
    imported: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom):
                    imported |= {a.asname or a.name for a in sub.names}
    assert set(gradkit._LAZY_MODULES) | set(gradkit._LAZY_NAMES) <= imported
