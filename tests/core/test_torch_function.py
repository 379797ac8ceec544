"""PyTorch's ``__torch_function__`` protocol (gradkit/_core/torch_function.py, gradkit/overrides.py).

Expected values were recorded from PyTorch 2.13 (CPU) running the same code, or are analytic;
``test_*_live_torch`` compare with an installed PyTorch and skip only when it is absent.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.overrides import (TorchFunctionMode, get_ignored_functions,
                               get_overridable_functions, get_testing_overrides,
                               handle_torch_function, has_torch_function, is_tensor_like,
                               redispatch_function, resolve_name)


class Sub(gk.Tensor):
    pass


class Sub2(Sub):
    pass


class Other(gk.Tensor):
    pass


class Recorder(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str | None] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls.append(resolve_name(func))
        return func(*args, **(kwargs or {}))


# ----------------------------------------------------------------------- subclasses
def test_subclass_survives_functions_methods_operators():
    a = Sub([1.0, -2.0])
    for out in (gk.add(a, 1), a + 1, 1 + a, a.exp(), -a, a[0], F.relu(a), gk.linalg.norm(a),
                gk.fft.fft(a), gk.cat([a, gk.ones(2)]), a.sum(dim=0)):
        assert type(out) is Sub
    assert type(gk.add(a, gk.ones(2))) is Sub
    values, indices = gk.max(a, dim=0)
    assert type(values) is Sub and type(indices) is Sub
    assert [type(p) for p in a.split(1)] == [Sub, Sub] and [type(p) for p in a] == [Sub, Sub]
    # what is not a tensor stays what it is
    assert type(a.shape) is gk.Size and type(a.tolist()) is list and a.dtype is gk.float32


def test_lowest_subclass_wins_and_unrelated_ones_refuse():
    assert type(gk.add(Sub2([0.0]), Sub([1.0]))) is Sub2
    assert type(gk.add(Sub([0.0]), Sub2([1.0]))) is Sub2
    with pytest.raises(TypeError, match=r"^Multiple dispatch failed for 'torch.add'; all "
                                        r"__torch_function__ handlers returned NotImplemented"):
        gk.add(Sub([0.0]), Other([1.0]))


def test_operators_decline_what_a_plain_tensor_declines():
    class R:
        def __radd__(self, other):
            return "radd"

        def __rmul__(self, other):
            return "rmul"

    x = Sub([1.0, 2.0])
    assert x + R() == "radd" and x * R() == "rmul"
    # recorded from PyTorch: comparing with None is not an error
    assert (x != None) is True and (x == None) is False  # noqa: E711
    with pytest.raises(TypeError):
        x + "a"
    assert type(x + [1.0, 1.0]) is Sub and type(x + np.float64(1.0)) is Sub


def test_subclass_methods_and_properties_of_its_own():
    class Meters(gk.Tensor):
        @property
        def unit(self):
            return "m"

        def km(self):
            return self / 1000

    a = Meters([1500.0, 250.0])
    assert type(a.km()) is Meters
    np.testing.assert_allclose(a.km().numpy(), [1.5, 0.25])
    assert (a + 1).unit == "m"


def test_disable_subclass_dispatch_and_parameter():
    a = Sub([1.0])
    with gk._C.DisableTorchFunctionSubclass():
        assert type(a + 1) is gk.Tensor and type(gk.add(a, 1)) is gk.Tensor
    assert type(a + 1) is Sub
    p = gk.nn.Parameter(gk.ones(2))
    assert type(p + 1) is gk.Tensor and type(gk.add(p, 1)) is gk.Tensor
    assert not has_torch_function((p,)) and has_torch_function((a,))

    class Plain(gk.Tensor):
        __torch_function__ = gk._C._disabled_torch_function_impl

    assert type(Plain([1.0]) * 2) is gk.Tensor


def test_repr_names_the_subclass():
    # recorded from PyTorch
    assert repr(Sub([[1.0, 2.0], [3.0, 4.0]])) == "Sub([[1., 2.],\n     [3., 4.]])"
    assert repr(Sub([1.0, 2.0]).double()) == "Sub([1., 2.], dtype=torch.float64)"
    assert repr(gk.nn.Parameter(gk.ones(1))) == \
        "Parameter containing:\ntensor([1.], requires_grad=True)"


# ----------------------------------------------------------------------- autograd
def test_as_subclass_stays_on_the_graph():
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x.as_subclass(Sub)
    assert type(m) is Sub and not m.is_leaf and m.grad_fn.name() == "AliasBackward0"
    (m * m).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])     # d/dx sum(x^2) = 2x
    t = gk.zeros(2, 3)
    s = t.as_subclass(Sub)
    s[0, 0] = 5.0
    assert t[0, 0].item() == 5.0                                     # the same memory
    with pytest.raises(TypeError, match="does not inherit from Tensor"):
        t.as_subclass(int)


def test_gradients_through_a_subclass_leaf():
    a = Sub([0.5, 2.0]).requires_grad_()
    b = a * 3 + a.sin()
    assert type(b) is Sub and b.grad_fn.name() == "AliasBackward0"
    b.sum().backward()
    assert type(a.grad) is gk.Tensor                                 # grad is not wrapped
    np.testing.assert_allclose(a.grad.numpy(), 3 + np.cos([0.5, 2.0]), rtol=1e-6)
    (g,) = gk.autograd.grad((a ** 2).sum(), a)
    assert type(g) is Sub
    np.testing.assert_allclose(g.numpy(), [1.0, 4.0])


def test_module_on_subclass_input():
    lin = gk.nn.Linear(2, 1)
    out = lin(Sub([[1.0, 2.0]]))
    assert type(out) is Sub and out.shape == (1, 1)


# ----------------------------------------------------------------------- tensor-likes
def test_scalar_tensor_of_the_note():
    handled = {}

    class ScalarTensor:
        def __init__(self, n, value):
            self._N, self._value = n, value

        def tensor(self):
            return self._value * gk.eye(self._N)

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if func not in handled or not all(issubclass(t, (gk.Tensor, ScalarTensor))
                                              for t in types):
                return NotImplemented
            return handled[func](*args, **(kwargs or {}))

    handled[gk.mean] = lambda s: float(s._value) / s._N
    handled[gk.add] = lambda s, o: (ScalarTensor(s._N, s._value + o._value)
                                    if isinstance(o, ScalarTensor)
                                    else gk.add(s.tensor(), o))
    assert gk.mean(ScalarTensor(5, 2)) == 0.4
    assert gk.add(ScalarTensor(2, 2), ScalarTensor(2, 2))._value == 4
    np.testing.assert_array_equal(gk.add(ScalarTensor(2, 2), gk.ones(2, 2)).numpy(),
                                  [[3.0, 1.0], [1.0, 3.0]])
    with pytest.raises(TypeError, match="got an unexpected keyword argument 'alpha'"):
        gk.add(ScalarTensor(2, 2), ScalarTensor(2, 2), alpha=2)
    with pytest.raises(TypeError, match="Multiple dispatch failed for 'torch.mul'"):
        gk.mul(ScalarTensor(2, 2), 3)


def test_dispatch_order_subclasses_first_then_left_to_right():
    order = []

    class A:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            order.append("A")
            return NotImplemented

    class B(A):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            order.append("B")
            return NotImplemented

    class C:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            order.append("C")
            return func.__name__, [t.__name__ for t in types]

    with pytest.raises(TypeError):
        gk.sub(A(), B())
    assert order == ["B", "A"]
    order.clear()
    assert gk.add(A(), C()) == ("add", ["A", "C"]) and order == ["A", "C"]
    order.clear()
    assert gk.stack([A(), C()]) == ("stack", ["A", "C"])           # inside a list too
    assert F.relu(C()) == ("relu", ["C"])
    assert gk.linalg.norm(C()) == ("linalg_norm", ["C"])           # torch's __name__
    assert gk.sum(gk.ones(1), dim=C()) == ("sum", ["C"])            # keyword arguments count


def test_plain_method_handler_warns():
    class Old:
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return 7

    with pytest.warns(UserWarning, match="as a plain method is deprecated"):
        assert gk.mean(Old()) == 7


# ----------------------------------------------------------------------- modes
def test_mode_sees_functions_methods_and_factories():
    x = gk.ones(2, requires_grad=True)
    before = gk.Tensor.add
    with Recorder() as rec:
        y = (x * 2 + 1).sum()
        y.backward()
        _ = x.grad
        _ = x.shape
        _ = gk.ones(2)
    # recorded from PyTorch
    assert rec.calls == ["torch.Tensor.mul", "torch.Tensor.add", "torch.Tensor.sum",
                         "torch.Tensor.backward", "torch.Tensor.grad.__get__",
                         "torch.Tensor.shape.__get__", "torch.ones"]
    assert gk.Tensor.add is before                                    # put back on exit
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_modes_nest_and_disable():
    class Doubler(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            return out * 2 if func is gk.add else out

    with Doubler():
        assert gk.add(gk.ones(2), 1).tolist() == [4.0, 4.0]
        assert gk.sub(gk.ones(2), 1).tolist() == [0.0, 0.0]
        with Recorder() as inner:
            out = gk.add(gk.ones(2), 1)
        assert out.tolist() == [4.0, 4.0]
        assert inner.calls == ["torch.ones", "torch.add"]
    assert gk.add(gk.ones(2), 1).tolist() == [2.0, 2.0]
    with Recorder() as rec:
        with gk._C.DisableTorchFunction():
            gk.add(gk.zeros(1), 1)
        gk.mul(gk.zeros(1), 1)
    assert rec.calls == ["torch.zeros", "torch.mul"]


def test_a_mode_belongs_to_its_thread():
    seen = []

    def other():
        seen.append(type(gk.add(gk.ones(1), 1)))

    with Recorder() as rec:
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == [gk.Tensor] and rec.calls == []


# ----------------------------------------------------------------------- torch.overrides
def test_overrides_helpers():
    class TensorLike:
        @classmethod
        def __torch_function__(cls, func, types, args, kwargs):
            return -1

    assert is_tensor_like(Sub([0])) and is_tensor_like(gk.ones(1)) and is_tensor_like(TensorLike())
    assert not is_tensor_like(6) and not is_tensor_like(None) and not is_tensor_like(object())
    assert gk.Tensor.as_subclass in get_ignored_functions()
    assert gk.add not in get_ignored_functions() and gk.zeros in get_ignored_functions()
    funcs = get_overridable_functions()
    assert [f.__name__ for f in funcs[gk.nn.functional][:5]] == [
        "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
        "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices"]
    assert gk.add in funcs[gk] and gk.Tensor.add in funcs[gk.Tensor]
    assert get_testing_overrides()[gk.add](1, 2) == -1
    assert resolve_name(gk.add) == "torch.add"
    assert resolve_name(gk.Tensor.add) == "torch.Tensor.add"
    assert resolve_name(F.relu) == "torch.nn.functional.relu"
    assert resolve_name(gk.Tensor.grad.__get__) == "torch.Tensor.grad.__get__"

    def func(a):
        if has_torch_function((a,)):
            return handle_torch_function(func, (a,), a)
        return a + 0

    assert func(TensorLike()) == -1 and func(gk.ones(1)).tolist() == [1.0]


def test_redispatch_docstring_examples(capsys):
    class LoggingTensor(gk.Tensor):
        depth = 0

        @classmethod
        def __torch_function__(cls, func, types, args, kwargs=None):
            print(f"{'  ' * cls.depth}Calling {func.__name__}")
            cls.depth += 1
            r = redispatch_function(func, types, args, kwargs)
            cls.depth -= 1
            return r

    def scaled_mul(a, b):
        if has_torch_function((a, b)):
            return handle_torch_function(scaled_mul, (a, b), a, b)
        return a * b + 1

    result = scaled_mul(LoggingTensor(gk.tensor([3.0])), LoggingTensor(gk.tensor([4.0])))
    assert repr(result) == "tensor([13.])"

    class LoggingMode(TorchFunctionMode):
        def __init__(self):
            self.depth = 0

        def __torch_function__(self, func, types, args, kwargs=None):
            print(f"{'  ' * self.depth}Calling {func.__name__}")
            self.depth += 1
            with self:
                r = redispatch_function(func, types, args, kwargs)
            self.depth -= 1
            return r

    a, b = gk.tensor([3.0]), gk.tensor([4.0])
    with LoggingMode():
        result = scaled_mul(a, b)
    assert repr(result) == "tensor([13.])"
    # the docstring's printed lines (torch.overrides.redispatch_function)
    assert capsys.readouterr().out == ("Calling scaled_mul\n  Calling mul\n"
                                       "Calling scaled_mul\n  Calling mul\n  Calling add\n")


def test_plain_types_are_cached_not_misread():
    class NoProtocol:
        pass

    with pytest.raises(TypeError):
        gk.add(gk.ones(1), NoProtocol())
    with pytest.raises(TypeError):
        gk.add(gk.ones(1), NoProtocol())
    assert not has_torch_function((NoProtocol(),))


# ----------------------------------------------------------------------- live PyTorch
_LOGGED = """
seen = []
class L(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        seen.append((torch.overrides.resolve_name(func), sorted(kwargs or {})))
        return super().__torch_function__(func, types, args, kwargs)
x = L([1.0, 2.0])
ops = [lambda: x + 1, lambda: 1 + x, lambda: x * 2, lambda: x - 1, lambda: 1 - x, lambda: x / 2,
       lambda: x ** 2, lambda: -x, lambda: x[0], lambda: x == 1, lambda: x < 1, lambda: x @ x,
       lambda: abs(x), lambda: x.data, lambda: x.shape, lambda: x.grad, lambda: x.add(1, alpha=2),
       lambda: x.sum(dim=0), lambda: torch.add(x, 1), lambda: torch.cat([x, x]),
       lambda: x.clone().detach(), lambda: len(x)]
result = []
for op in ops:
    seen.clear()
    out = op()
    result.append((list(seen), type(out).__name__))
"""


def test_logged_calls_match_live_torch():
    torch = pytest.importorskip("torch")
    ns_t: dict = {"torch": torch}
    ns_g: dict = {"torch": gk}
    exec(_LOGGED, ns_t)
    exec(_LOGGED, ns_g)
    assert ns_g["result"] == ns_t["result"]
