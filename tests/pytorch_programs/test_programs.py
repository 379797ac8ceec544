"""Small PyTorch programs, written for these tests in the style of the PyTorch tutorials, run
with ``gradkit`` as ``torch`` and print what PyTorch 2.13 printed for them (recorded below from
torch 2.13.0+cpu; numbers agree to 1e-4 relative). Inputs are fixed NumPy arrays, so no random
draw is involved. ``tools/pytorch_programs`` runs the public tutorials the same way."""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import sys

import pytest

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_MODULES = ["", ".nn", ".nn.functional", ".nn.parameter", ".optim", ".autograd",
            ".autograd.forward_ad", ".utils", ".utils.data", ".func", ".functional"]


def _run_as_torch(source: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for suffix in _MODULES:
        monkeypatch.setitem(sys.modules, "torch" + suffix,
                            importlib.import_module("gradkit" + suffix))
    out = io.StringIO()
    gradkit = importlib.import_module("gradkit")
    default = gradkit.get_default_dtype()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, "<program>", "exec"), {"__name__": "__main__"})
    finally:
        gradkit.set_default_dtype(default)      # a program may change it (POLY_REGRESSION does)
    return out.getvalue()


def _assert_same(got: str, expected: str) -> None:
    got_lines, want_lines = got.splitlines(), expected.strip("\n").splitlines()
    assert len(got_lines) == len(want_lines), got
    for g, w in zip(got_lines, want_lines):
        assert _NUMBER.sub("#", g) == _NUMBER.sub("#", w), (g, w)
        for a, b in zip(_NUMBER.findall(g), _NUMBER.findall(w)):
            assert float(a) == pytest.approx(float(b), rel=1e-4, abs=1e-6), (g, w)


PROGRAM_LEGENDRE_FIT = '''
import math
import torch

class Cubic(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v):
        ctx.save_for_backward(v)
        return 0.5 * (5 * v ** 3 - 3 * v)

    @staticmethod
    def backward(ctx, g):
        v, = ctx.saved_tensors
        return g * 1.5 * (5 * v ** 2 - 1)

x = torch.linspace(-math.pi, math.pi, 500)
y = torch.sin(x)
w = [torch.full((), v, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3)]
opt = torch.optim.SGD(w, lr=2e-5, momentum=0.5)
for step in range(300):
    a, b, c, d = w
    loss = (a + b * Cubic.apply(c + d * x) - y).pow(2).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 60 == 59:
        print(step, round(loss.item(), 4))
print(" ".join(f"{p.item():.5f}" for p in w))
'''

PROGRAM_MLP_TRAINING = '''
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(7)
X = torch.tensor(rng.standard_normal((96, 5)), dtype=torch.float32)
y = torch.tensor((rng.standard_normal(96) > 0).astype(np.int64))
model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.uniform(-0.4, 0.4, tuple(p.shape)), dtype=torch.float32))
loader = DataLoader(TensorDataset(X, y), batch_size=32)
loss_fn = nn.CrossEntropyLoss()
opt = torch.optim.Adam(model.parameters(), lr=0.02)
for epoch in range(4):
    total = 0.0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
    with torch.no_grad():
        acc = (model(X).argmax(1) == y).float().mean().item()
    print(f"epoch {epoch}: loss {total / len(loader):.5f} accuracy {acc:.4f}")
print(model[0].bias.detach())
print(model)
'''

PROGRAM_FORWARD_AD = '''
import numpy as np
import torch
import torch.autograd.forward_ad as fwAD

class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v):
        ctx.result = torch.exp(v)
        return ctx.result

    @staticmethod
    def jvp(ctx, t):
        return t * ctx.result

rng = np.random.default_rng(3)
primal = torch.tensor(rng.standard_normal((3, 3)), dtype=torch.float64)
tangent = torch.tensor(rng.standard_normal((3, 3)), dtype=torch.float32)
with fwAD.dual_level():
    dual = fwAD.make_dual(primal, tangent)
    print(fwAD.unpack_dual(dual).tangent is tangent)
    out = Exp.apply(dual)
    t = fwAD.unpack_dual(out).tangent
    print(t.dtype == torch.float64, round(t.sum().item(), 6))
    sq = fwAD.unpack_dual((dual ** 2).sum()).tangent
    print(round(sq.item(), 6))
x = primal.clone().requires_grad_()
print(torch.autograd.gradcheck(Exp.apply, (x,), check_forward_ad=True, check_backward_ad=False,
                               check_undefined_grad=False, check_batched_grad=False))
'''

PROGRAM_MODULES_AND_FUNCTIONS = '''
import io
import numpy as np
import torch
from torch import nn

class Affine(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, scale):
        ctx.save_for_backward(x, w)
        ctx.scale = scale
        return scale * (x.mm(w.t()) + b)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = g.mm(w) * ctx.scale if ctx.needs_input_grad[0] else None
        gw = g.t().mm(x) * ctx.scale if ctx.needs_input_grad[1] else None
        return gx, gw, g.sum(0) * ctx.scale, None

class Block(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.n_in, self.n_out = n_in, n_out
        self.weight = nn.Parameter(torch.zeros(n_out, n_in))
        self.bias = nn.Parameter(torch.zeros(n_out))
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, x):
        self.calls += 1
        return Affine.apply(x, self.weight, self.bias, 0.5)

    def extra_repr(self):
        return f"n_in={self.n_in}, n_out={self.n_out}"

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Block(3, 4)
        self.acts = nn.ModuleDict({"tanh": nn.Tanh(), "relu": nn.ReLU()})
        self.last = Block(4, 1)

    def forward(self, x, act):
        return self.last(self.acts[act](self.first(x)))

rng = np.random.default_rng(11)
net = Net()
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.tensor(rng.uniform(-1, 1, tuple(p.shape)), dtype=torch.float32))
print(net)
print([name for name, _ in net.named_modules()])
print([name for name, _ in net.named_buffers()])
x = torch.tensor(rng.standard_normal((6, 3)), dtype=torch.float32)
target = torch.tensor(rng.standard_normal((6, 1)), dtype=torch.float32)
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
for step in range(25):
    loss = ((net(x, "tanh" if step % 2 else "relu") - target) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
print(round(loss.item(), 5), net.first.calls.item())
buf = io.BytesIO()
torch.save(net.state_dict(), buf)
buf.seek(0)
clone = Net()
clone.load_state_dict(torch.load(buf))
print(sorted(clone.state_dict()))
print(torch.equal(clone(x, "relu"), net(x, "relu")), clone.last.calls.item())
xd = torch.tensor(rng.standard_normal((2, 3)), dtype=torch.float64, requires_grad=True)
wd = torch.tensor(rng.standard_normal((2, 3)), dtype=torch.float64, requires_grad=True)
bd = torch.tensor(rng.standard_normal(2), dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(Affine.apply, (xd, wd, bd, 3.0)))
'''


LEGENDRE_FIT = """
59 49.2244
119 31.5305
179 20.5341
239 13.6791
299 9.3977
0.00000 -1.84987 0.00000 0.25263
"""

MLP_TRAINING = """
epoch 0: loss 0.66878 accuracy 0.6250
epoch 1: loss 0.65704 accuracy 0.6250
epoch 2: loss 0.65319 accuracy 0.6146
epoch 3: loss 0.65162 accuracy 0.6042
tensor([ 0.0020, -0.3844, -0.0071,  0.3366, -0.2801, -0.2272,  0.2236,  0.1372])
Sequential(
  (0): Linear(in_features=5, out_features=8, bias=True)
  (1): Tanh()
  (2): Linear(in_features=8, out_features=2, bias=True)
)
"""

FORWARD_AD = """
True
True 23.856384
15.262244
True
"""

MODULES_AND_FUNCTIONS = """
Net(
  (first): Block(n_in=3, n_out=4)
  (acts): ModuleDict(
    (tanh): Tanh()
    (relu): ReLU()
  )
  (last): Block(n_in=4, n_out=1)
)
['', 'first', 'acts', 'acts.tanh', 'acts.relu', 'last']
['first.calls', 'last.calls']
0.59107 25.0
['first.bias', 'first.calls', 'first.weight', 'last.bias', 'last.calls', 'last.weight']
True 26.0
True
"""


# A module with buffers (nn.Buffer, one not persistent) wrapped in DataParallel, an
# autograd.Function whose forward calls NumPy, two parameter groups and a step schedule.
PROGRAM_BUFFERS_AND_GROUPS = '''
import numpy as np
import torch
from torch import nn
from torch.nn.parameter import Buffer, Parameter


class NumpyClip(torch.autograd.Function):
    @staticmethod
    def forward(x, lo, hi):
        return torch.tensor(np.clip(x.numpy(), lo, hi))

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, lo, hi = inputs
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * ((x > ctx.lo) & (x < ctx.hi)), None, None


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.scale = Buffer(torch.tensor([2.0, 0.5]))
        self.count = Buffer(torch.zeros(()), persistent=False)
        with torch.no_grad():
            self.lin.weight.copy_(torch.tensor([[0.5, -1.0, 0.25], [1.0, 0.0, -0.5]]))
            self.lin.bias.copy_(torch.tensor([0.1, -0.2]))

    def forward(self, x):
        self.count += 1
        return NumpyClip.apply(self.lin(x), -1.0, 1.0) * self.scale


net = nn.DataParallel(Scaled())
print(net)
print(list(net.state_dict()), [n for n, _ in net.named_buffers()])
print(type(net.module.lin.weight) is Parameter, isinstance(net.module.scale, Buffer))
x = torch.tensor([[1.0, 0.5, -2.0], [0.2, 0.4, 0.6], [-1.0, 1.0, 2.0]])
y = torch.tensor([[0.5, 0.0], [0.0, 0.5], [-1.0, 1.0]])
opt = torch.optim.SGD([{"params": [net.module.lin.weight]}, {"params": [net.module.lin.bias], "lr": 0.5}],
                      lr=0.1, momentum=0.9)
print(opt)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
for step in range(4):
    opt.zero_grad()
    loss = ((net(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    sched.step()
    print(step, round(loss.item(), 6), sched.get_last_lr())
print(net.module.lin.weight.grad)
print(net.module.count)
print(sorted(sched.state_dict())[:4])
print(sorted(sched.state_dict())[4:])
'''

BUFFERS_AND_GROUPS = """
DataParallel(
  (module): Scaled(
    (lin): Linear(in_features=3, out_features=2, bias=True)
  )
)
['module.scale', 'module.lin.weight', 'module.lin.bias'] ['module.scale', 'module.count']
True True
SGD (
Parameter Group 0
    dampening: 0
    differentiable: False
    foreach: None
    fused: None
    lr: 0.1
    maximize: False
    momentum: 0.9
    nesterov: False
    weight_decay: 0

Parameter Group 1
    dampening: 0
    differentiable: False
    foreach: None
    fused: None
    lr: 0.5
    maximize: False
    momentum: 0.9
    nesterov: False
    weight_decay: 0
)
0 0.877083 [0.1, 0.5]
1 0.907119 [0.05, 0.25]
2 0.691623 [0.05, 0.25]
3 0.593391 [0.025, 0.125]
tensor([[ 0.6024, -0.4856, -1.0219],
        [-0.0175, -0.0351, -0.0526]])
tensor(4.)
['_get_lr_called_within_step', '_is_initial', '_last_lr', '_step_count']
['base_lrs', 'gamma', 'last_epoch', 'step_size']
"""


# The model-ensembling pattern (PyTorch's ensembling tutorial): a skeleton of the model on the
# meta device runs under vmap with the stacked real parameters; then what a meta tensor prints,
# the errors that keep values from being read, and to_empty + load_state_dict.
PROGRAM_META_ENSEMBLE = '''
import copy
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state


class TinyMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.fc2 = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


rows = np.arange(60, dtype=np.float32).reshape(3, 20)
models = []
for k in range(3):
    m = TinyMLP()
    with torch.no_grad():
        m.fc1.weight.copy_(torch.from_numpy(np.sin(rows[k, :12]).reshape(3, 4)))
        m.fc1.bias.copy_(torch.from_numpy(np.cos(rows[k, 12:15])))
        m.fc2.weight.copy_(torch.from_numpy(np.sin(rows[k, 14:20]).reshape(2, 3)))
        m.fc2.bias.fill_(0.1 * k)
    models.append(m)
x = torch.from_numpy(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4))

params, buffers = stack_module_state(models)
base = copy.deepcopy(models[0]).to('meta')
print(base.fc1.weight)
print(base.fc1.weight.is_meta, base.fc1.weight.device)

def fmodel(params, buffers, x):
    return functional_call(base, (params, buffers), (x,))

out = torch.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)
print(out.shape)
print(out[1])
loop = torch.stack([m(x) for m in models])
print(torch.allclose(out, loop))

print(base(x.to('meta')))
y = base(torch.empty(7, 4, device='meta'))
y.sum().backward()
print(base.fc1.weight.grad)
print(torch.empty(2, 3, dtype=torch.int64, device='meta'))
print(torch.zeros(3, device='meta', requires_grad=True) * 2)
for what, f in [("item", lambda: y[0, 0].item()), ("cpu", lambda: y.cpu()),
                ("numpy", lambda: y.detach().numpy()), ("mix", lambda: y + torch.ones(7, 2))]:
    try:
        f()
    except Exception as e:
        print(what, type(e).__name__, str(e).split(". ")[0])

fresh = TinyMLP().to('meta').to_empty(device='cpu')
print(fresh.load_state_dict(models[2].state_dict()))
print(fresh(x)[:2])
'''

META_ENSEMBLE = """
Parameter containing:
tensor(..., device='meta', size=(3, 4), requires_grad=True)
True meta
torch.Size([3, 5, 2])
tensor([[-0.4264,  0.6116],
        [ 0.1540,  0.0251],
        [ 0.2305, -0.1323],
        [ 0.3070, -0.2897],
        [ 0.3835, -0.4471]], grad_fn=<SelectBackward0>)
True
tensor(..., device='meta', size=(5, 2), grad_fn=<AddmmBackward0>)
tensor(..., device='meta', size=(3, 4))
tensor(..., device='meta', size=(2, 3), dtype=torch.int64)
tensor(..., device='meta', size=(3,), grad_fn=<MulBackward0>)
item RuntimeError Tensor.item() cannot be called on meta tensors
cpu NotImplementedError Cannot copy out of meta tensor; no data!
numpy TypeError can't convert meta device type tensor to numpy
mix RuntimeError Tensor on device cpu is not on the expected device meta!
<All keys matched successfully>
tensor([[-0.3763,  0.7740],
        [ 0.1791,  0.2163]], grad_fn=<SliceBackward0>)
"""


# The introyt/basics tensor tutorials' less common calls: torch.sin_(t), torch.svd, t_() and
# unsqueeze_(), out= (and its refusal under autograd), torch.functional, cat's 0-d error.
PROGRAM_TENSOR_TOUR = '''
import math
import torch
import torch.functional as TF

t = torch.tensor([0.0, math.pi / 6, math.pi / 2])
print(torch.sin_(t) is t, t)
m = torch.tensor([[4.0, 0.0], [3.0, -5.0]], dtype=torch.float64)
u, s, v = torch.svd(m)
print(s, torch.dist(u @ torch.diag(s) @ v.T, m) < 1e-12)
print(torch.svd(m, compute_uv=False).V)
b = torch.arange(6.0).reshape(2, 3)
b.t_()
print(b.shape, b.is_contiguous(), b)
b.unsqueeze_(0)
print(b.shape, b._version)
c = torch.empty(3, 3)
torch.matmul(b[0], torch.ones(2, 3), out=c)
print(c)
torch.cat([c[0], c[1]], out=torch.empty(6)).add_(1)
print(TF.einsum("ij,ij->", c, c), TF.split(torch.arange(5), 2))
try:
    torch.mul(torch.ones(2, requires_grad=True), 2, out=torch.empty(2))
except RuntimeError as e:
    print("RuntimeError:", str(e)[:70])
try:
    torch.cat([torch.ones(2), torch.tensor(1.0)])
except RuntimeError as e:
    print("RuntimeError:", e)
'''

TENSOR_TOUR = """
True tensor([0.0000, 0.5000, 1.0000])
tensor([6.3246, 3.1623], dtype=torch.float64) tensor(True)
tensor([[0., 0.],
        [0., 0.]], dtype=torch.float64)
torch.Size([3, 2]) False tensor([[0., 3.],
        [1., 4.],
        [2., 5.]])
torch.Size([1, 3, 2]) 2
tensor([[3., 3., 3.],
        [5., 5., 5.],
        [7., 7., 7.]])
tensor(249.) (tensor([0, 1]), tensor([2, 3]), tensor([4]))
RuntimeError: mul(): functions with out=... arguments don't support automatic differ
RuntimeError: zero-dimensional tensor (at position 1) cannot be concatenated
"""


# The NLP tutorials' LSTM tagger with the recipes' general checkpoint (model and optimizer
# state in one file, loaded into fresh ones), built inside `with torch.device('cpu')`; its
# Dropout2d sees 2-D input (elementwise, with PyTorch's warning) and is off in eval().
PROGRAM_CHECKPOINT_TAGGER = '''
import io
import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

rng = np.random.default_rng(42)


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(7, 4)
        self.lstm = nn.LSTM(4, 5)
        self.out = nn.Linear(5, 3)
        self.drop = nn.Dropout2d(0.3)

    def forward(self, words):
        h, _ = self.lstm(self.emb(words).view(len(words), 1, -1))
        return F.log_softmax(self.out(self.drop(h.view(len(words), -1))), dim=1)


def fixed(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)), dtype=torch.float32))
    return model


with torch.device("cpu"):
    model = fixed(Tagger())
opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.5)
sentences = [(torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1, 2, 0])),
             (torch.tensor([4, 5, 6]), torch.tensor([1, 2, 0]))]
model.eval()
for epoch in range(6):
    for words, tags in sentences:
        opt.zero_grad()
        loss = F.nll_loss(model(words), tags)
        loss.backward()
        opt.step()
    print(epoch, round(loss.item(), 5))
buf = io.BytesIO()
torch.save({"epoch": 6, "model": model.state_dict(), "opt": opt.state_dict()}, buf)
buf.seek(0)
ckpt = torch.load(buf)
again = fixed(Tagger())
print(again.load_state_dict(ckpt["model"]))
opt2 = torch.optim.SGD(again.parameters(), lr=0.2, momentum=0.5)
opt2.load_state_dict(ckpt["opt"])
print(ckpt["epoch"], opt2.state_dict()["param_groups"][0]["params"])
print(opt2.state_dict()["state"][6]["momentum_buffer"])
again.eval()
print(again(sentences[0][0]).argmax(1), torch.equal(again(sentences[1][0]), model(sentences[1][0])))
'''

CHECKPOINT_TAGGER = """
0 1.16926
1 1.13355
2 1.11394
3 1.10701
4 1.10573
5 1.10619
<All keys matched successfully>
6 [0, 1, 2, 3, 4, 5, 6]
tensor([-0.0068,  0.0417, -0.0349])
tensor([0, 0, 0, 0]) True
"""


# pytorch/examples' regression: a degree-4 polynomial fitted with smooth_l1_loss and manual
# updates through .data (float64, fixed data and start, so the run is reproducible).
PROGRAM_POLY_REGRESSION = '''
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(3)
W_target = torch.tensor([[1.5], [-2.0], [0.5], [0.25]])
b_target = torch.tensor([0.75])


def features(x):
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, 5)], 1)


fc = torch.nn.Linear(4, 1)
with torch.no_grad():
    fc.weight.copy_(torch.tensor([[0.1, -0.2, 0.3, -0.1]]))
    fc.bias.fill_(0.0)
for batch in range(1, 201):
    x = features(torch.tensor(rng.uniform(-1.5, 1.5, 16)))
    y = x.mm(W_target) + b_target.item()
    fc.zero_grad()
    loss = F.smooth_l1_loss(fc(x), y)
    loss.backward()
    for p in fc.parameters():
        p.data.add_(-0.1 * p.grad)
    if batch % 50 == 0:
        print(batch, f"{loss.item():.6f}")
print(" ".join("{:+.3f}".format(w) for w in fc.weight.view(-1)), "{:+.3f}".format(fc.bias[0]))
'''

POLY_REGRESSION = """
50 0.052798
100 0.031502
150 0.040299
200 0.021666
+1.341 -1.036 +0.606 -0.209 +0.492
"""


@pytest.mark.parametrize("name", ["LEGENDRE_FIT", "MLP_TRAINING", "FORWARD_AD",
                                  "MODULES_AND_FUNCTIONS", "BUFFERS_AND_GROUPS", "META_ENSEMBLE",
                                  "TENSOR_TOUR", "CHECKPOINT_TAGGER", "POLY_REGRESSION"])
def test_program_prints_what_pytorch_printed(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_same(_run_as_torch(globals()["PROGRAM_" + name], monkeypatch), globals()[name])


def test_the_comparison_can_fail() -> None:
    with pytest.raises(AssertionError):
        _assert_same("epoch 0: loss 0.66900", "epoch 0: loss 0.66878")
    with pytest.raises(AssertionError):
        _assert_same("gradkit.Size([2])", "torch.Size([2])")
