"""``gradkit.nn.parameter`` as ``torch.nn.parameter``: the module, its classes' printed names,
and ``Buffer``. Expected text and values recorded from torch 2.13.0+cpu, where the module is
``torch.nn.parameter`` (here ``gradkit.nn.parameter``)."""

from __future__ import annotations

import pickle

import pytest

import gradkit as gk
from gradkit.nn import parameter
from gradkit.nn.parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter


def test_the_module_holds_the_classes_nn_uses() -> None:
    # torch 2.13: torch.nn.parameter.__all__ (UninitializedTensorMixin is listed there too)
    for name in ["Parameter", "UninitializedParameter", "is_lazy", "Buffer", "UninitializedBuffer",
                 "UninitializedTensorMixin"]:
        assert hasattr(parameter, name)
    assert gk.nn.Parameter is Parameter and gk.nn.Buffer is Buffer
    assert gk.nn.UninitializedParameter is UninitializedParameter
    assert gk.nn.UninitializedBuffer is UninitializedBuffer


def test_printed_class_names() -> None:
    # torch: <class 'torch.nn.parameter.Parameter'>, ...UninitializedParameter'>, ...Buffer'>
    assert str(type(Parameter(gk.ones(2)))) == "<class 'gradkit.nn.parameter.Parameter'>"
    assert str(type(gk.nn.Linear(2, 1).weight)) == "<class 'gradkit.nn.parameter.Parameter'>"
    assert str(UninitializedParameter) == "<class 'gradkit.nn.parameter.UninitializedParameter'>"
    assert str(UninitializedBuffer) == "<class 'gradkit.nn.parameter.UninitializedBuffer'>"
    assert str(Buffer) == "<class 'gradkit.nn.parameter.Buffer'>"


def test_parameter_pickles_by_its_public_path() -> None:
    p = pickle.loads(pickle.dumps(Parameter(gk.tensor([1.0, 2.0]))))
    assert type(p) is Parameter and p.requires_grad and p.tolist() == [1.0, 2.0]


def test_buffer_is_a_marked_plain_tensor() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    b = Buffer(x * 2)
    # torch: type(b) is torch.Tensor, isinstance(b, Buffer) True, requires_grad kept, leaf
    assert type(b) is gk.Tensor
    assert isinstance(b, Buffer) and not isinstance(gk.ones(1), Buffer)
    assert b.requires_grad and b.is_leaf and b.grad_fn is None
    assert b.persistent is True
    assert Buffer(gk.ones(1), persistent=False).persistent is False
    assert Buffer().shape == (0,)


def test_assigning_a_buffer_registers_it() -> None:
    m = gk.nn.Module()
    m.b = Buffer(gk.ones(2))
    m.c = Buffer(gk.zeros(1), persistent=False)
    m.t = gk.ones(3)  # a plain tensor is an attribute, not a buffer
    # torch: _buffers keys ['b', 'c'], state_dict keys ['b'], named_buffers ['b', 'c']
    assert list(m._buffers) == ["b", "c"]
    assert list(m.state_dict()) == ["b"]
    assert [n for n, _ in m.named_buffers()] == ["b", "c"]
    m.b = Parameter(gk.ones(1))  # torch: a parameter now, no longer a buffer
    assert list(m._buffers) == ["c"] and list(m._parameters) == ["b"]


def test_buffer_before_module_init() -> None:
    class Early(gk.nn.Module):
        def __init__(self) -> None:
            self.b = Buffer(gk.ones(1))
            super().__init__()

    with pytest.raises(AttributeError, match="cannot assign buffer before Module.__init__"):
        Early()
