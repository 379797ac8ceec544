"""The PyTorch snippets of the seed documents, run with ``import gradkit as torch``.

Each snippet is executed as a script (``torch`` bound to gradkit) with stdout
captured, and the text must match, character for character, what PyTorch
2.13.0 printed for the same script. The expected strings were recorded from
PyTorch; ``test_expected_output_matches_live_pytorch`` re-checks them when
PyTorch is installed.

Sources: /work/shared/seeds/003 (scalar, vector and matrix gradients, grad
control, accumulation, zero_, gradient descent, detach), 004 (``torch.pow``,
``max`` ties, ``clip``) and 002 (``x[0]**2 + x[1]**3``, the ``W*x+b`` model).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from types import ModuleType

import pytest

import gradkit

# name -> (source, output recorded from PyTorch 2.13.0)
SNIPPETS: dict[str, tuple[str, str]] = {
    "scalar": ("""
x = torch.tensor(1.0,requires_grad = True)
y = x**2 +2*x +3
y.backward()
print(x.grad)
""", "tensor(4.)\n"),
    "multi_scalar": ("""
x1 = torch.tensor(1., requires_grad=True)
x2 = torch.tensor(2., requires_grad=True)
y = x1**2 + 3*x2 +5
y.backward()
print(x1.grad)
print(x2.grad)
""", "tensor(2.)\ntensor(3.)\n"),
    "vector": ("""
x = torch.tensor([1.0,2.0,3.0],requires_grad = True)
y = x**2 +2*x +5
print(y)
y = y.sum()
print(y)
y.backward()
print(x.grad)
""", "tensor([ 8., 13., 20.], grad_fn=<AddBackward0>)\ntensor(41., grad_fn=<SumBackward0>)\n"
        "tensor([4., 6., 8.])\n"),
    "multi_vector_sum": ("""
x1 = torch.tensor([1.,2.], requires_grad=True)
x2 = torch.tensor([2.,5.], requires_grad=True)
y = x1**2 + 3*x2 +5
y1 = y.sum()
y1.backward()
print(x1.grad)
print(x2.grad)
""", "tensor([2., 4.])\ntensor([3., 3.])\n"),
    "multi_vector_mean": ("""
x1 = torch.tensor([1.,2.], requires_grad=True)
x2 = torch.tensor([2.,5.], requires_grad=True)
y = x1**2 + 3*x2 +5
y2 = y.mean()
y2.backward()
print(x1.grad)
print(x2.grad)
""", "tensor([1., 2.])\ntensor([1.5000, 1.5000])\n"),
    "matrix": ("""
x1 = torch.tensor([[1.,2.],[3.,4.]], requires_grad=True)
y = x1**2 + 3*x1 +5
y2 = y.sum()
y2.backward()
print(x1.grad)
""", "tensor([[ 5.,  7.],\n        [ 9., 11.]])\n"),
    "multi_matrix": ("""
x1 = torch.tensor([[1.,2.],[3.,4.]], requires_grad=True)
x2 = torch.tensor([[11.,2.],[1.,22.]], requires_grad=True)
y = x1**2 + 3*x2 +5
y2 = y.sum()
y2.backward()
print(x1.grad)
print(x2.grad)
""", "tensor([[2., 4.],\n        [6., 8.]])\ntensor([[3., 3.],\n        [3., 3.]])\n"),
    # The graph of the second y was recorded before set_grad_enabled(False), so it
    # still backpropagates (PyTorch prints tensor(8.)).
    "global_control": ("""
x = torch.tensor(3.0,requires_grad = False)
y = x**2 +2*x +3
try:
    y.backward()
    print(x.grad)
except:
    print("操作报错")
x = torch.tensor(3.0,requires_grad = True)
y = x**2 +2*x +3
torch.set_grad_enabled(False)
try:
    y.backward()
    print(x.grad)
except:
    print("操作报错")
torch.set_grad_enabled(True)
""", "操作报错\ntensor(8.)\n"),
    "global_control_before": ("""
x = torch.tensor(3.0,requires_grad = True)
torch.set_grad_enabled(False)
y = x**2 +2*x +3
torch.set_grad_enabled(True)
try:
    y.backward()
    print(x.grad)
except:
    print("操作报错")
print(y.requires_grad, y.grad_fn)
""", "操作报错\nFalse None\n"),
    "with_control": ("""
x = torch.tensor(3.0,requires_grad = True)
with torch.no_grad():
    y = x**2 +2*x +3
try:
    y.backward()
    print(x.grad)
except:
    print("操作报错")
""", "操作报错\n"),
    "decorator_control": ("""
x = torch.tensor(3.0,requires_grad = True)
def zsq(func):
    def wrapper(*args):
        with torch.no_grad():
            return func(*args)
    return wrapper
@zsq
def fun():
    y = x**2 +2*x +3
    try:
        y.backward()
        print(x.grad)
    except:
        print("操作报错")
fun()
""", "操作报错\n"),
    "accumulate": ("""
x =torch.tensor(4.0,requires_grad=True)
y = 2*x**2 +7
y.backward()
print(x.grad)
z = x**2
z.backward()
print(x.grad)
""", "tensor(16.)\ntensor(24.)\n"),
    "zero_grad": ("""
x =torch.tensor(4.0,requires_grad=True)
y = 2*x**2 +7
try:
    x.grad.zero_()
except:
    print("梯度为None,不能清零")
y.backward()
print(x.grad)
z = x**2
z.backward()
print(x.grad)
x.grad.zero_()
print(x.grad is None)
print(x.grad)
""", "梯度为None,不能清零\ntensor(16.)\ntensor(24.)\nFalse\ntensor(0.)\n"),
    "leaf_numpy_detach": ("""
x= torch.tensor([1., 2., 3.], requires_grad=True)
try:
    x2 = x.numpy()
    print(x2)
except :
    print("转化错误")
try:
    x3 = x.detach()
    print(x3)
    print(x)
    x2 = x3.numpy()
    print(x2)
except :
    pass
""", "转化错误\ntensor([1., 2., 3.])\ntensor([1., 2., 3.], requires_grad=True)\n[1. 2. 3.]\n"),
    "pow_sum": ("""
x = torch.tensor([1, 1, 1.0], requires_grad=True)
y = torch.tensor([2, 2, 2.0], requires_grad=True)
z = torch.pow(x, 2) + torch.pow(y, 2)
z.sum().backward()
print((x.grad, y.grad))
""", "(tensor([2., 2., 2.]), tensor([4., 4., 4.]))\n"),
    "max_tie": ("""
x = torch.tensor([1, 2, 3, 4, 4, 0.], requires_grad=True)
y = torch.max(x)
y.backward()
print(x.grad)
""", "tensor([0.0000, 0.0000, 0.0000, 0.5000, 0.5000, 0.0000])\n"),
    "clip": ("""
x = torch.tensor([1, 2, 3, 4, 5, 6, 7.0], requires_grad=True)
y = torch.clip(x, 1.5, 5.5)
y.sum().backward()
print(x.grad)
""", "tensor([0., 1., 1., 1., 1., 0., 0.])\n"),
    "index_powers": ("""
x = torch.tensor([2.0, 3.0], requires_grad=True)
y = x[0]**2 + x[1]**3
y.backward()
print(x.grad)
""", "tensor([ 4., 27.])\n"),
    "linear_model": ("""
W = torch.tensor([0.5], requires_grad=True)
b = torch.tensor([0.5], requires_grad=True)
def model(x):
    return W * x + b
def loss(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean()
x = torch.tensor([1.0, 2.0, 3.0, 4.0])
y_true = torch.tensor([0.0, -1.0, -2.0, -3.0])
y_pred = model(x)
current_loss = loss(y_true, y_pred)
current_loss.backward()
print(y_pred, current_loss)
print("dW:", W.grad, "db:", b.grad)
""", "tensor([1.0000, 1.5000, 2.0000, 2.5000], grad_fn=<AddBackward0>) "
        "tensor(13.3750, grad_fn=<MeanBackward0>)\ndW: tensor([20.]) db: tensor([6.5000])\n"),
    # seed 000/001: a non-scalar output needs a weight vector; leaf attributes; .data update
    "vector_backward_and_data": ("""
x = torch.tensor([1., 2., 3.], requires_grad=True)
y = x ** 2
y.backward(torch.ones_like(y))
print(x.grad, x.requires_grad, x.is_leaf, y.requires_grad, y.is_leaf)
print(x.data, x.grad_fn)
x.data = x.data - 0.1 * x.grad
print(x, x.is_leaf)
""", "tensor([2., 4., 6.]) True True True False\ntensor([1., 2., 3.]) None\n"
        "tensor([0.8000, 1.6000, 2.4000], requires_grad=True) True\n"),
}

# Seed 004 section 5: 50 steps of gradient descent on w**2 from w=5 with lr 0.4.
# What PyTorch printed for the slope and the new w at each step.
_SLOPES = ("10. 2. 0.4000 0.0800 0.0160 0.0032 0.0006 0.0001 2.5600e-05 5.1200e-06 1.0240e-06 "
           "2.0480e-07 4.0960e-08 8.1920e-09 1.6384e-09 3.2768e-10 6.5536e-11 1.3107e-11 "
           "2.6214e-12 5.2429e-13 1.0486e-13 2.0971e-14 4.1943e-15 8.3886e-16 1.6777e-16 "
           "3.3554e-17 6.7109e-18 1.3422e-18 2.6843e-19 5.3687e-20 1.0737e-20 2.1475e-21 "
           "4.2950e-22 8.5899e-23 1.7180e-23 3.4360e-24 6.8719e-25 1.3744e-25 2.7488e-26 "
           "5.4975e-27 1.0995e-27 2.1990e-28 4.3980e-29 8.7961e-30 1.7592e-30 3.5184e-31 "
           "7.0369e-32 1.4074e-32 2.8147e-33 5.6295e-34").split()
_WS = ("1. 0.2000 0.0400 0.0080 0.0016 0.0003 6.4000e-05 1.2800e-05 2.5600e-06 5.1200e-07 "
       "1.0240e-07 2.0480e-08 4.0960e-09 8.1920e-10 1.6384e-10 3.2768e-11 6.5536e-12 1.3107e-12 "
       "2.6214e-13 5.2429e-14 1.0486e-14 2.0971e-15 4.1943e-16 8.3886e-17 1.6777e-17 3.3554e-18 "
       "6.7109e-19 1.3422e-19 2.6843e-20 5.3687e-21 1.0737e-21 2.1475e-22 4.2950e-23 8.5899e-24 "
       "1.7180e-24 3.4360e-25 6.8719e-26 1.3744e-26 2.7488e-27 5.4975e-28 1.0995e-28 2.1990e-29 "
       "4.3980e-30 8.7961e-31 1.7592e-31 3.5184e-32 7.0369e-33 1.4074e-33 2.8147e-34 "
       "5.6295e-35").split()
# Note the subtlety the loop depends on: ``a = w.grad.data`` shares memory with
# ``w.grad``, and backward accumulates into that same tensor in place, so the
# early-exit test ``b > a`` never fires and all 50 steps run.
SNIPPETS["gradient_descent"] = ("""
w = torch.tensor(5., requires_grad=True)
num =0
while True:
    num+=1
    if num > 50:
        break
    loss = w**2
    a=0
    if w.grad is None:
        pass
    else:
        a = w.grad.data
        w.grad.zero_()
    loss.backward()
    b = w.grad.data
    if (b>a and a!=0) or b ==0:
        break
    print("斜率:\\n",w.grad)
    w.data = w.data - 0.4*w.grad
    print("更新的横坐标:\\n",w.data)
    print("----------",num)
""", "".join(f"斜率:\n tensor({s})\n更新的横坐标:\n tensor({w})\n---------- {i}\n"
             for i, (s, w) in enumerate(zip(_SLOPES, _WS), start=1)))


def run_script(source: str, module: ModuleType) -> str:
    """Execute ``source`` with ``torch`` bound to ``module`` and return what it printed."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(compile(source, "<seed>", "exec"), {"torch": module, "__name__": "__seed__"})
        finally:
            module.set_grad_enabled(True)
    return buf.getvalue()


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_seed_snippet_prints_what_pytorch_prints(name: str) -> None:
    source, expected = SNIPPETS[name]
    assert run_script(source, gradkit) == expected


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_expected_output_matches_live_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    source, expected = SNIPPETS[name]
    assert run_script(source, torch).replace("torch.", "gradkit.") == expected


def test_gradient_descent_values() -> None:
    """w_{k+1} = w_k - 0.4 * 2 w_k = 0.2 w_k, so w_k = 5 * 0.2**k and the slope 2 w_k."""
    w = gradkit.tensor(5.0, requires_grad=True)
    for k in range(1, 51):
        if w.grad is not None:
            w.grad.zero_()
        (w ** 2).backward()
        assert w.grad.item() == pytest.approx(10.0 * 0.2 ** (k - 1), rel=1e-5)
        w.data = w.data - 0.4 * w.grad
        assert w.item() == pytest.approx(5.0 * 0.2 ** k, rel=1e-5)
        assert w.is_leaf and w.requires_grad


def test_analytic_gradients_of_the_seed_functions() -> None:
    # d/dx (x^2 + 2x + 3) = 2x + 2
    x = gradkit.tensor([1.0, -2.0, 0.5], requires_grad=True)
    (x ** 2 + 2 * x + 3).sum().backward()
    assert x.grad.tolist() == [4.0, -2.0, 3.0]
    # mean over n elements divides the gradient by n
    m = gradkit.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (m ** 2 + 3 * m + 5).mean().backward()
    assert m.grad.tolist() == [[1.25, 1.75], [2.25, 2.75]]
