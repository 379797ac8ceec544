"""gradkit.testing.assert_close against torch.testing.assert_close: same verdicts, same messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradkit as gk

NAN, INF = math.nan, math.inf

# (actual, expected, kwargs): nested lists of ("t", values, dtype) become tensors of each library
CASES = [
    (("t", [1.0, 2.0, 3.0], "float32"), ("t", [1.0, 2.1, 3.0], "float32"), {}),
    (("t", [1.0, 2.0, 3.0], "float32"), ("t", [1.0, 2.0000001, 3.0], "float32"), {}),
    (("t", [1.0, 2.0, 3.0], "float32"), ("t", [1.0, 2.1, 3.0], "float64"), {}),
    (("t", [1.0, 2.0, 3.0], "float32"), ("t", [1.0, 2.1, 3.0], "float64"), {"check_dtype": False}),
    (("t", [1.0, 2.0], "float32"), ("t", [1.0, 2.0, 3.0], "float32"), {}),
    (("t", [1.0, 2.0], "float32"), ("t", [[1.0, 2.0]], "float32"), {}),
    (("t", [1, 2, 3], "int64"), ("t", [1, 4, 3], "int64"), {}),
    (("t", [1, 2, 3], "int64"), ("t", [1, 5, 3], "int64"), {}),
    (("t", [1, 2], "int32"), ("t", [1, 2], "int64"), {"check_dtype": False}),
    (("t", [True, False], "bool"), ("t", [True, True], "bool"), {}),
    (("t", NAN, "float32"), ("t", NAN, "float32"), {}),
    (("t", NAN, "float32"), ("t", NAN, "float32"), {"equal_nan": True}),
    (("t", [1.0, NAN], "float32"), ("t", [1.0, 2.0], "float32"), {}),
    (("t", [1.0, INF], "float64"), ("t", [1.0, INF], "float64"), {}),
    (("t", [0.0, 1.0], "float32"), ("t", [1e-6, 1.0], "float32"), {}),
    (("t", [1.0, 2.0, 3.0, 4.0], "float32"), ("t", [0.0, 0.0, 3.0, 4.0], "float32"), {}),
    (("t", [[1.0, 2.0], [3.0, 4.0]], "float32"), ("t", [[1.0, 2.0], [3.0, 5.0]], "float32"), {}),
    (("t", [1.0, 2.0], "float16"), ("t", [1.0, 2.001], "float16"), {}),
    (("t", [1.0, 2.0], "float16"), ("t", [1.0, 2.01], "float16"), {}),
    (("t", [1 + 1j], "complex64"), ("t", [1 + 1.1j], "complex64"), {}),
    (("t", [1.0, 2.0], "float32"), ("t", [1.0, 2.1], "float32"), {"rtol": 0.1, "atol": 0.0}),
    (("t", [1.0, 2.0], "float32"), ("t", [1.0, 2.1], "float32"), {"rtol": 0.0, "atol": 0.0}),
    (("t", [1.0, 2.0], "float32"), ("t", [1.0, 2.1], "float32"), {"rtol": 0.1}),
    (("t", [1.0, 2.0], "float32"), ("t", [1.0, 2.5], "float32"), {"msg": "custom"}),
    (("t", [1.0, 2.0], "float32"), ("t", [1.0, 2.5], "float32"), {"msg": lambda m: "X" + m[:9]}),
    (1.0, 1.1, {}),
    (1, 2, {}),
    (1, 1.0, {}),
    (1, 1.0, {"check_dtype": False}),
    (True, False, {}),
    ([1.0, 2.0], [1.0], {}),
    ((1.0,), [1.0], {}),
    ([("t", 1.0, "float32"), ("t", 2.0, "float32")], [("t", 1.0, "float32"), ("t", 2.5, "float32")], {}),
    ({"a": 1.0}, {"b": 1.0}, {}),
    ({"a": ("t", [1.0], "float64")}, {"a": ("t", [2.0], "float64")}, {}),
    ([[("t", [1.0, 2.0], "float32")]], [[("t", [1.0, 3.0], "float32")]], {}),
    (("n", [1.0, 2.0], "float64"), ("n", [1.0, 2.5], "float64"), {}),
    (("n", [1.0, 2.0], "float64"), ("n", [1.0, 2.0], "float32"), {}),
    (("t", [1.0, 2.0], "float32"), ("n", [1.0, 2.0], "float32"), {}),
    ("a", "a", {}),
]


def _build(spec, lib):
    if isinstance(spec, tuple) and len(spec) == 3 and spec[0] in ("t", "n"):
        arr = np.array(spec[1], dtype=spec[2])
        if spec[0] == "n":
            return arr
        return lib.from_numpy(arr) if arr.ndim else lib.tensor(arr.item(), dtype=getattr(lib, spec[2]))
    if isinstance(spec, list):
        return [_build(s, lib) for s in spec]
    if isinstance(spec, tuple):
        return tuple(_build(s, lib) for s in spec)
    if isinstance(spec, dict):
        return {k: _build(v, lib) for k, v in spec.items()}
    return spec


def _outcome(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except Exception as e:  # noqa: BLE001 - the outcome is compared
        return type(e).__name__, str(e)
    return None


@pytest.mark.parametrize("case", range(len(CASES)))
def test_same_as_torch(case):
    torch = pytest.importorskip("torch")
    a, b, kw = CASES[case]
    ref = _outcome(torch.testing.assert_close, _build(a, torch), _build(b, torch), **kw)
    ours = _outcome(gk.testing.assert_close, _build(a, gk), _build(b, gk), **kw)
    if ref is not None:
        ref = (ref[0], ref[1]
               .replace("<class 'torch.Tensor'>", f"<class '{gk.Tensor.__module__}.Tensor'>"))
    assert ours == ref


def test_recorded_messages_without_torch():
    # recorded from torch 2.13's torch.testing.assert_close
    with pytest.raises(AssertionError) as e:
        gk.testing.assert_close(gk.tensor([1.0, 2.0, 3.0]), gk.tensor([1.0, 2.1, 3.0]))
    assert str(e.value) == (
        "Tensor-likes are not close!\n\nMismatched elements: 1 / 3 (33.3%)\n"
        "Greatest absolute difference: 0.09999990463256836 at index (1,) (up to 1e-05 allowed)\n"
        "Greatest relative difference: 0.04761900380253792 at index (1,) (up to 1.3e-06 allowed)")
    with pytest.raises(ValueError, match="but got no atol"):
        gk.testing.assert_close(gk.zeros(1), gk.zeros(1), rtol=0.1)
    gk.testing.assert_close(gk.tensor([1.0, NAN]), gk.tensor([1.0, NAN]), equal_nan=True)


def test_module_paths_of_pytorch():
    torch = gk  # import gradkit as torch
    ds = torch.utils.data.TensorDataset(torch.arange(10.0), torch.arange(10))
    train, val = torch.utils.data.random_split(ds, [7, 3], generator=torch.Generator().manual_seed(0))
    assert (len(train), len(val)) == (7, 3)
    seen = [int(train[i][1]) for i in range(7)] + [int(val[i][1]) for i in range(3)]
    assert sorted(seen) == list(range(10))
    x, y = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0] and y.tolist() == [0, 1, 2, 3]
    from gradkit.utils.data import DataLoader, Dataset, TensorDataset, random_split

    assert DataLoader is gk.data.DataLoader and Dataset is gk.data.Dataset
    assert TensorDataset is gk.data.TensorDataset and random_split is gk.data.random_split


def test_generator_objects_as_torch():
    g = gk.Generator().manual_seed(3)
    first = gk.rand(4, generator=g)
    state = g.get_state()
    second = gk.rand(4, generator=g)
    g.set_state(state)
    assert gk.equal(gk.rand(4, generator=g), second)
    assert gk.equal(gk.rand(4, generator=gk.Generator().manual_seed(3)), first)
    assert g.initial_seed() == 3
    assert isinstance(gk.manual_seed(0), gk.Generator)
    assert str(gk.Generator().device) == "cpu"  # torch.Generator().device prints 'cpu'
    twin = g.clone_state()
    assert twin is not g and twin.initial_seed() == g.initial_seed()
    a = gk.rand(3, generator=g)
    assert gk.equal(gk.rand(3, generator=twin), a)  # same state, separate streams
    assert not gk.equal(gk.rand(3, generator=g), a)


def test_allow_subclasses_false_refuses_a_parameter_against_a_tensor() -> None:
    # torch.testing.assert_close's docstring example: a Parameter is a Tensor subclass
    import gradkit.nn as gnn
    expected = gk.tensor([1.0, 2.0, 3.0])
    gk.testing.assert_close(gnn.Parameter(expected.clone()), expected)
    with pytest.raises(TypeError, match="No comparison pair was able to handle inputs of type "
                                        "<class 'gradkit.nn.parameter.Parameter'>"):
        gk.testing.assert_close(gnn.Parameter(expected.clone()), expected, allow_subclasses=False)
    gk.testing.assert_close([expected], [expected.clone()], allow_subclasses=False)
