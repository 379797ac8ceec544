"""Programs in the style of the public tutorials surveyed in round 4 (#17): PyTorch's pruning and
parametrization tutorials, the leaf/non-leaf tutorial, d2l's learning-a-kernel chapter and the
fused conv+batch-norm custom Function tutorial, rewritten small with fixed NumPy inputs. Run with
``gradkit`` as ``torch``, each prints what PyTorch 2.13 printed for it (recorded below from torch
2.13.0+cpu; numbers agree to 1e-4 relative), so no live torch is needed."""

from __future__ import annotations

import contextlib
import importlib
import io
import sys

import pytest

from tests.pytorch_programs.test_programs import _assert_same

_MODULES = ["", ".nn", ".nn.functional", ".nn.utils", ".nn.utils.prune", ".nn.utils.parametrize",
            ".optim", ".optim.lr_scheduler", ".autograd", ".autograd.function"]


def _run_as_torch(source: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for suffix in _MODULES:
        monkeypatch.setitem(sys.modules, "torch" + suffix,
                            importlib.import_module("gradkit" + suffix))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<program>", "exec"), {"__name__": "__main__"})
    return out.getvalue()

PROGRAM_PRUNE_SMALL_CNN = '''
import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune
import torch.nn.functional as F

rng = np.random.default_rng(7)


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 3 * 3, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(x.flatten(1))


net = Small()
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.3))
x = torch.tensor(rng.standard_normal((2, 1, 8, 8)).astype(np.float32))
print(net(x))
prune.l1_unstructured(net.conv, name="weight", amount=0.25)
prune.ln_structured(net.conv, name="weight", amount=1, n=2, dim=0)
prune.l1_unstructured(net.fc, name="bias", amount=2)
print([n for n, _ in net.conv.named_parameters()], [n for n, _ in net.conv.named_buffers()])
print(int((net.conv.weight == 0).sum()), net.conv.weight_mask.sum(dim=(1, 2, 3)))
print(net.fc.bias_mask, net.fc.bias)
out = net(x)
print(out)
out.sum().backward()
print(net.conv.weight_orig.grad.abs().sum(dim=(1, 2, 3)))
print([type(h).__name__ for h in net.conv._forward_pre_hooks.values()])
print([type(m).__name__ for m in next(iter(net.conv._forward_pre_hooks.values()))])
prune.remove(net.conv, "weight")
print(list(net.state_dict().keys()))
prune.global_unstructured([(net.conv, "weight"), (net.fc, "weight")],
                          pruning_method=prune.L1Unstructured, amount=0.5)
total = net.conv.weight.nelement() + net.fc.weight.nelement()
zeros = float((net.conv.weight == 0).sum() + (net.fc.weight == 0).sum())
print(f"global sparsity {100 * zeros / total:.2f}%", prune.is_pruned(net))
try:
    prune.l1_unstructured(net.fc, name="bias", amount=1.5)
except ValueError as e:
    print("ValueError:", e)
'''

PROGRAM_ORTHOGONAL_PARAMETRIZATION = '''
import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

rng = np.random.default_rng(2)


class Skew(nn.Module):
    def forward(self, X):
        upper = X.triu(1)
        return upper - upper.transpose(-1, -2)

    def right_inverse(self, A):
        return A.triu(1)


class Expm(nn.Module):
    def forward(self, X):
        return torch.matrix_exp(X)


lin = nn.Linear(3, 3)
with torch.no_grad():
    lin.weight.copy_(torch.tensor(rng.standard_normal((3, 3)).astype(np.float32)))
    lin.bias.zero_()
parametrize.register_parametrization(lin, "weight", Skew())
print(lin)
print(lin.weight)
parametrize.register_parametrization(lin, "weight", Expm())
W = lin.weight
print(bool(torch.dist(W.T @ W, torch.eye(3)) < 1e-5), round(torch.linalg.det(W).item(), 4))
x = torch.tensor([[1.0, 2.0, 3.0]])
out = lin(x)
print(out, round(out.pow(2).sum().item(), 4))
out[0, 0].backward()
print(lin.parametrizations.weight.original.grad)
print(sorted(n for n, _ in lin.named_parameters()))
with parametrize.cached():
    a = lin.weight
    print(a is lin.weight)
print(lin.weight is lin.weight)
parametrize.remove_parametrizations(lin, "weight", leave_parametrized=True)
print(lin, type(lin.weight).__name__, round(torch.linalg.det(lin.weight).item(), 4))
'''

PROGRAM_LEAF_AND_RETAIN_GRAD = '''
import torch
import torch.nn.functional as F

x = torch.tensor([[1.0, 2.0, 0.5]])
W = torch.tensor([[0.5, -1.0], [0.25, 0.75], [-0.5, 1.5]], requires_grad=True)
b = torch.tensor([[0.1, -0.2]], requires_grad=True)
y = torch.tensor([[0.0, 1.0]])
z = x @ W + b
y_pred = F.relu(z)
loss = F.mse_loss(y_pred, y)
print(f"{x.is_leaf=} {z.is_leaf=} {W.is_leaf=}")
print(f"{x.requires_grad=} {z.requires_grad=} {z.retains_grad=}")
z.retain_grad()
y_pred.retain_grad()
loss.retain_grad()
loss.backward()
print(f"{W.grad=}")
print(f"{b.grad=}")
print(f"{z.grad=}")
print(f"{y_pred.grad=}")
print(f"{loss.grad=} {x.grad=} {z.retains_grad=}")
try:
    x.retain_grad()
except RuntimeError as e:
    print("RuntimeError:", e)
W.retain_grad()
print(W.retains_grad)
'''

PROGRAM_LEARN_A_KERNEL = '''
import torch
from torch import nn

X = torch.ones((6, 8))
X[:, 2:6] = 0
K = torch.tensor([[1.0, -1.0]])


def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


Y = corr2d(X, K)
print(Y)
print(corr2d(X.t(), K))
conv2d = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
with torch.no_grad():
    conv2d.weight.copy_(torch.tensor([[[[0.3, 0.2]]]]))
X = X.reshape((1, 1, 6, 8))
Y = Y.reshape((1, 1, 6, 7))
lr = 3e-2
for i in range(10):
    Y_hat = conv2d(X)
    l = (Y_hat - Y) ** 2
    conv2d.zero_grad()
    l.sum().backward()
    conv2d.weight.data[:] -= lr * conv2d.weight.grad
    if (i + 1) % 2 == 0:
        print(f"epoch {i + 1}, loss {l.sum():.3f}")
print(conv2d.weight.data.reshape((1, 2)))
pool = nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1))
print(pool(torch.arange(16, dtype=torch.float32).reshape((1, 1, 4, 4))))
print(nn.AvgPool2d(2)(torch.arange(16, dtype=torch.float32).reshape((1, 1, 4, 4))))
'''

PROGRAM_FUSED_CONV_BN = '''
import numpy as np
import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable


def unsqueeze_all(t):
    return t[None, :, None, None]


class FusedConvBN(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, weight, eps=1e-3):
        ctx.save_for_backward(X, weight)
        Y = F.conv2d(X, weight)
        total = Y.sum(dim=(0, 2, 3))
        sd = torch.sqrt(Y.var(unbiased=True, dim=(0, 2, 3)))
        N = Y.numel() / Y.size(1)
        ctx.stats = (total, sd, N, eps)
        out = Y - unsqueeze_all(total / N)
        out /= unsqueeze_all(sd + eps)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        X, weight = ctx.saved_tensors
        total, sd, N, eps = ctx.stats
        Y = F.conv2d(X, weight)
        d_var = (-((Y - unsqueeze_all(total) / N) * g).sum(dim=(0, 2, 3))) / (sd + eps) ** 2 / (2 * sd)
        gy = Y * unsqueeze_all(d_var * N) + unsqueeze_all(-d_var * total)
        gy *= 2 / ((N - 1) * N)
        gy += unsqueeze_all(-(g / unsqueeze_all(sd + eps)).sum(dim=(0, 2, 3)) / N)
        gy += g / unsqueeze_all(sd + eps)
        gw = F.conv2d(X.transpose(0, 1), gy.transpose(0, 1)).transpose(0, 1)
        return F.conv_transpose2d(gy, weight), gw, None


rng = np.random.default_rng(4)
w = torch.tensor(rng.random((3, 2, 2, 2)), requires_grad=True)
X = torch.tensor(rng.random((2, 2, 4, 4)), requires_grad=True)
print(torch.autograd.gradcheck(FusedConvBN.apply, (X, w)))
ref = F.batch_norm(F.conv2d(X, w), None, None, training=True, eps=1e-12)
print(torch.allclose(FusedConvBN.apply(X, w, 0.0), ref * np.sqrt(17 / 18), atol=1e-6))
weight = torch.nn.Parameter(torch.tensor(rng.standard_normal((4, 1, 3, 3)).astype(np.float32) * 0.3))
head = torch.nn.Linear(4 * 6 * 6, 3)
with torch.no_grad():
    head.weight.copy_(torch.tensor(rng.standard_normal((3, 144)).astype(np.float32) * 0.05))
    head.bias.zero_()
data = torch.tensor(rng.random((16, 1, 8, 8)).astype(np.float32))
target = torch.tensor(rng.integers(0, 3, 16))
opt = torch.optim.Adadelta([weight, *head.parameters()], lr=1.0)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.7)
for epoch in range(6):
    opt.zero_grad()
    h = F.relu(FusedConvBN.apply(data, weight))
    loss = F.cross_entropy(head(h.flatten(1)), target)
    loss.backward()
    opt.step()
    sched.step()
    print(epoch, f"{loss.item():.5f}", sched.get_last_lr())
'''

FUSED_CONV_BN = """
True
True
0 1.36958 [1.0]
1 1.22947 [0.7]
2 1.11448 [0.7]
3 1.04631 [0.48999999999999994]
4 0.98474 [0.48999999999999994]
5 0.94502 [0.3429999999999999]
"""

LEAF_AND_RETAIN_GRAD = """
x.is_leaf=True z.is_leaf=False W.is_leaf=True
x.requires_grad=False z.requires_grad=True z.retains_grad=False
W.grad=tensor([[0.8500, 0.0500],
        [1.7000, 0.1000],
        [0.4250, 0.0250]])
b.grad=tensor([[0.8500, 0.0500]])
z.grad=tensor([[0.8500, 0.0500]])
y_pred.grad=tensor([[0.8500, 0.0500]])
loss.grad=tensor(1.) x.grad=None z.retains_grad=True
RuntimeError: can't retain_grad on Tensor that has requires_grad=False
False
"""

LEARN_A_KERNEL = """
tensor([[ 0.,  1.,  0.,  0.,  0., -1.,  0.],
        [ 0.,  1.,  0.,  0.,  0., -1.,  0.],
        [ 0.,  1.,  0.,  0.,  0., -1.,  0.],
        [ 0.,  1.,  0.,  0.,  0., -1.,  0.],
        [ 0.,  1.,  0.,  0.,  0., -1.,  0.],
        [ 0.,  1.,  0.,  0.,  0., -1.,  0.]])
tensor([[0., 0., 0., 0., 0.],
        [0., 0., 0., 0., 0.],
        [0., 0., 0., 0., 0.],
        [0., 0., 0., 0., 0.],
        [0., 0., 0., 0., 0.],
        [0., 0., 0., 0., 0.],
        [0., 0., 0., 0., 0.],
        [0., 0., 0., 0., 0.]])
epoch 2, loss 6.836
epoch 4, loss 1.727
epoch 6, loss 0.528
epoch 8, loss 0.186
epoch 10, loss 0.071
tensor([[ 1.0159, -0.9622]])
tensor([[[[ 5.,  7.],
          [13., 15.]]]])
tensor([[[[ 2.5000,  4.5000],
          [10.5000, 12.5000]]]])
"""

ORTHOGONAL_PARAMETRIZATION = """
ParametrizedLinear(
  in_features=3, out_features=3, bias=True
  (parametrizations): ModuleDict(
    (weight): ParametrizationList(
      (0): Skew()
    )
  )
)
tensor([[ 0.0000, -0.5227, -0.4131],
        [ 0.5227,  0.0000,  1.1442],
        [ 0.4131, -1.1442,  0.0000]], grad_fn=<SubBackward0>)
True 1.0
tensor([[-1.2307,  3.4570, -0.7312]], grad_fn=<AddmmBackward0>) 14.0
tensor([[0.0000, 3.0126, 1.2645],
        [0.0000, 0.0000, 0.5175],
        [0.0000, 0.0000, 0.0000]])
['bias', 'parametrizations.weight.original']
True
False
Linear(in_features=3, out_features=3, bias=True) Parameter 1.0
"""

PRUNE_SMALL_CNN = """
tensor([[ 0.2822, -2.2857, -3.7187, -2.3988,  1.0013],
        [ 0.2305, -1.7905, -1.7513, -1.3436, -0.9581]],
       grad_fn=<AddmmBackward0>)
['bias', 'weight_orig'] ['weight_mask']
16 tensor([7., 0., 6., 7.])
tensor([0., 1., 1., 1., 0.]) tensor([-0.0000, -0.2915, -0.4930,  0.1517, -0.0000], grad_fn=<MulBackward0>)
tensor([[-0.1313, -2.2050, -1.9430, -1.5706,  0.5926],
        [-0.5763, -1.9091, -0.8229, -1.8145, -0.9161]],
       grad_fn=<AddmmBackward0>)
tensor([ 7.2415,  0.0000, 15.7281, 16.3690])
['PruningContainer']
['L1Unstructured', 'LnStructured']
['conv.bias', 'conv.weight', 'fc.weight', 'fc.bias_orig', 'fc.bias_mask']
global sparsity 50.00% True
ValueError: amount=1.5 should either be a float in the range [0, 1] or a non-negative integer
"""


@pytest.mark.parametrize("name", ["PRUNE_SMALL_CNN", "ORTHOGONAL_PARAMETRIZATION",
                                  "LEAF_AND_RETAIN_GRAD", "LEARN_A_KERNEL", "FUSED_CONV_BN"])
def test_program_prints_what_pytorch_printed(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_same(_run_as_torch(globals()["PROGRAM_" + name], monkeypatch), globals()[name])
