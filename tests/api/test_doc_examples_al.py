"""What running PyTorch 2.13's docstring examples of ``torch.a*`` ... ``torch.l*`` and
``torch.linalg.*`` with gradkit as torch found (session s18-docs-c); each test names the
docstring whose example showed the difference. Expected values come from live torch (skipped
when it is absent) or were recorded from PyTorch 2.13 (CPU)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


def test_from_dlpack_of_a_capsule_is_writable_and_shared() -> None:  # torch.from_dlpack
    # NumPy marks an array read from a bare capsule read-only; PyTorch writes through it
    t = gk.arange(4)
    t3 = gk.from_dlpack(gk.utils.dlpack.to_dlpack(t))
    t3[0] = -9
    assert t3.tolist() == [-9, 1, 2, 3] and t.tolist() == [-9, 1, 2, 3]
    x = gk.arange(12.0).reshape(3, 4).t()
    y = gk.from_dlpack(gk.utils.dlpack.to_dlpack(x))
    assert y.stride() == x.stride() == (1, 4)
    y[0, 1] = 100.0
    assert x[0, 1].item() == 100.0
    del x
    assert y.tolist()[0] == [0.0, 100.0, 8.0]


def test_from_dlpack_of_a_torch_capsule() -> None:
    torch = pytest.importorskip("torch")
    src = torch.arange(5, dtype=torch.float32)
    g = gk.from_dlpack(torch.utils.dlpack.to_dlpack(src))
    g[1] = 7.0
    assert src.tolist() == [0.0, 7.0, 2.0, 3.0, 4.0] and g.dtype == gk.float32


def test_from_file_as_torch(tmp_path) -> None:  # torch.from_file (was missing)
    torch = pytest.importorskip("torch")
    for lib in (torch, gk):
        path = tmp_path / f"{lib.__name__}.bin"
        np.arange(10.0).tofile(path)
        whole = lib.from_file(str(path), shared=False, size=10, dtype=lib.float64)
        assert whole.tolist() == list(np.arange(10.0)) and whole.dtype == lib.float64
        assert lib.from_file(str(path)).tolist() == [] and lib.from_file(str(path)).dtype == lib.float32
        assert lib.from_file(str(path), size=3, dtype=lib.int32).tolist() == [0, 0, 0]
        private = lib.from_file(str(path), size=2, dtype=lib.float64)
        private[0] = 7.0                                       # copy-on-write: the file keeps 0
        assert np.fromfile(path)[0] == 0.0 and private.tolist() == [7.0, 1.0]
        shared = lib.from_file(str(path), shared=True, size=2, dtype=lib.float64)
        shared[0] = 42.0
        assert np.fromfile(path)[:3].tolist() == [42.0, 1.0, 2.0]
        fresh = tmp_path / f"{lib.__name__}_new.bin"             # shared=True creates the file
        assert lib.from_file(str(fresh), shared=True, size=3).tolist() == [0.0, 0.0, 0.0]
        assert fresh.stat().st_size == 12
        with pytest.raises(RuntimeError, match=r"size <80> is smaller than the required mapping "
                                               r"size <88>"):
            lib.from_file(str(path), size=11, dtype=lib.float64)
        with pytest.raises(RuntimeError, match="unable to open file .* in read-only mode: No such "
                                               "file or directory"):
            lib.from_file(str(tmp_path / "absent.bin"), size=1)


def test_as_strided_scatter() -> None:  # torch.as_strided_scatter (was missing)
    # forward recorded from PyTorch 2.13 (its docstring example, and one with an offset)
    a = gk.zeros(3, 3)
    assert gk.as_strided_scatter(a, gk.ones(2), (2,), (1,)).tolist() == [[1, 1, 0], [0, 0, 0],
                                                                         [0, 0, 0]]
    x = gk.arange(12.0).reshape(3, 4).requires_grad_()
    s = gk.tensor([[10.0, 20.0], [30.0, 40.0]], requires_grad=True)
    out = gk.as_strided_scatter(x, s, (2, 2), (1, 2), 1)
    assert out.tolist() == [[0, 10, 30, 20], [40, 5, 6, 7], [8, 9, 10, 11]]
    assert x.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]      # input untouched
    # gradients worked out by hand: elements 1..4 of x are overwritten (their gradient is 0,
    # the others get w), src element (i, j) lands on element 1 + i + 2 j and gets w there.
    # (PyTorch 2.13 answers the complement for x: w on elements 1..4, 0 elsewhere.)
    w = np.arange(12.0).reshape(3, 4) + 1
    (out * gk.tensor(w)).sum().backward()
    want_x = w.copy().reshape(-1)
    want_x[1:5] = 0
    np.testing.assert_array_equal(x.grad.numpy(), want_x.reshape(3, 4))
    np.testing.assert_array_equal(s.grad.numpy(), [[2.0, 4.0], [3.0, 5.0]])
    assert gk.zeros(4).as_strided_scatter(gk.ones(2), (2,), (2,)).tolist() == [1, 0, 1, 0]
    with pytest.raises(RuntimeError, match="expected src to have a size equal to the slice"):
        gk.as_strided_scatter(gk.zeros(4), gk.ones(3), (2,), (1,))
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        gk.as_strided_scatter(gk.zeros(4), gk.ones(3), (3,), (0,))    # PyTorch's refusal too


def _fq_run(lib) -> list:
    """fake_quantize_* the way torch's docstrings call them, plus edges: values, gradients,
    node names and refusals."""
    out = []
    x = lib.tensor([0.1257, -0.1321, 0.6404, 0.1049, 2.0, -3.0, 0.25, 0.35, 0.45, 0.05, 0.15,
                    -0.05, float("nan"), float("inf")], requires_grad=True)
    y = lib.fake_quantize_per_tensor_affine(x, 0.1, 0, 0, 255)
    y.sum().backward()
    out += [y.tolist(), x.grad.tolist(), y.grad_fn.name()]
    for cast in ("double", "half"):
        z = lib.fake_quantize_per_tensor_affine(getattr(x.detach(), cast)(), 0.1, 3, -128, 127)
        out += [z.tolist(), str(z.dtype)]
    out.append(lib.fake_quantize_per_tensor_affine(x, lib.tensor(0.1), lib.tensor(1), 0, 255)
               .grad_fn.name())
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((3, 2, 4)).astype(np.float32), requires_grad=True)
    scales, zp = lib.tensor([0.05, 0.11]), lib.tensor([0, 3], dtype=lib.int32)
    y = lib.fake_quantize_per_channel_affine(x, scales, zp, 1, 0, 255)
    y.sum().backward()
    out += [y.tolist(), x.grad.tolist(), y.grad_fn.name()]
    out.append(lib.fake_quantize_per_channel_affine(x.detach(), scales, lib.tensor([0.4, 1.5]), 1,
                                                    0, 255).tolist())
    out.append(lib.fake_quantize_per_channel_affine(
        x.detach().double(), lib.tensor([0.1, 0.2, 0.3, 0.4]),
        lib.tensor([0, 1, 2, 3], dtype=lib.int32), 2, -128, 127).tolist())
    bad = [lambda: lib.fake_quantize_per_tensor_affine(x, 0.1, 0, 5, 3),
           lambda: lib.fake_quantize_per_tensor_affine(x, 0.1, 10, 0, 5),
           lambda: lib.fake_quantize_per_tensor_affine(lib.arange(3), 0.1, 0, 0, 255)]
    for a in [(scales, zp, 3), (scales[:1], zp, 1), (scales, zp.long(), 1), (scales.double(), zp, 1),
              (scales, zp, -2), (scales, zp + 300, 1), (scales.reshape(2, 1), zp, 1),
              (scales, zp, 0), (scales.clone().requires_grad_(), zp, 1)]:
        bad.append(lambda a=a: lib.fake_quantize_per_channel_affine(x, *a, 0, 255))
    for fn in bad:
        try:
            fn()
            out.append("no error")
        except Exception as e:
            out.append(f"{type(e).__name__}: {e}")
    xx = x.detach().clone().requires_grad_()
    g, = lib.autograd.grad(lib.fake_quantize_per_channel_affine(xx, scales, zp, 1, 0, 255).sum(),
                           xx, create_graph=True)
    out.append(g.requires_grad)
    return out


def test_fake_quantize_as_torch() -> None:  # torch.fake_quantize_per_{tensor,channel}_affine
    # (were missing); NaN goes to quant_min and a float zero point is added before rounding,
    # as in PyTorch's kernels
    torch = pytest.importorskip("torch")
    got, want = _fq_run(gk), _fq_run(torch)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if isinstance(w, list):
            np.testing.assert_array_equal(np.array(g), np.array(w))
        else:
            assert g == w


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fake_quantize_bitwise_as_torch(dtype: str) -> None:
    # PyTorch's kernels round in the input's precision (float32 for float32) and map levels back
    # in float32 per tensor, float64 per channel; 15000 draws, every value equal
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((5000, 3)) * 3).astype(dtype)
    s = np.array([0.0137, 0.1, 0.0731], dtype=np.float32)
    for z in (np.array([3, -7, 0], dtype=np.int32), np.array([0.3, -7.5, 0.1], dtype=np.float32)):
        want = torch.fake_quantize_per_channel_affine(torch.tensor(x), torch.tensor(s),
                                                      torch.tensor(z), 1, -128, 127).numpy()
        got = gk.fake_quantize_per_channel_affine(gk.tensor(x), gk.tensor(s), gk.tensor(z), 1,
                                                  -128, 127).numpy()
        np.testing.assert_array_equal(got, want)
    want = torch.fake_quantize_per_tensor_affine(torch.tensor(x), 0.0137, 3, -128, 127).numpy()
    got = gk.fake_quantize_per_tensor_affine(gk.tensor(x), 0.0137, 3, -128, 127).numpy()
    np.testing.assert_array_equal(got, want)


def test_hash_tensor_as_torch() -> None:  # torch.hash_tensor (was missing)
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    got, want = [], []
    for lib, out in ((gk, got), (torch, want)):
        a = lib.tensor(values)
        b = lib.tensor(np.array([[1, -2, 3], [7, 0, -9]], dtype=np.int8))
        for t in (a, a.double(), a.half(), b, b.long(), b > 0, lib.tensor(-0.0)):
            out.append((lib.hash_tensor(t).tolist(), str(lib.hash_tensor(t).dtype)))
        out += [lib.hash_tensor(a, 1).tolist(), a.hash_tensor((0, 2)).tolist(),
                lib.hash_tensor(a, -1, keepdim=True).tolist(), lib.hash_tensor(b, 0).tolist(),
                lib.hash_tensor(lib.empty(0, 3), 1).tolist()]
        for args, kw in (((lib.empty(0),), {}), ((a,), {"mode": 1}),
                         ((lib.tensor([1 + 2j]),), {}), ((lib.empty(0, 3), 0), {})):
            with pytest.raises((RuntimeError, NotImplementedError, IndexError)) as info:
                lib.hash_tensor(*args, **kw)
            out.append(f"{info.type.__name__}: {info.value}")
    assert got == want


def test_lu_without_pivoting_refused_in_torch_words() -> None:  # torch.linalg.lu
    # recorded from PyTorch 2.13: all four name the kernel linalg.lu_factor
    a = gk.eye(3)
    for fn in (gk.linalg.lu, gk.linalg.lu_factor, gk.linalg.lu_factor_ex):
        with pytest.raises(RuntimeError, match="^linalg.lu_factor: LU without pivoting is not "
                                               "implemented on the CPU$"):
            fn(a, pivot=False)


_MIXED = {"int32": np.array([[3, -2, 5], [0, 7, -4]], dtype=np.int32),
          "int64": np.array([[3, -2, 5], [0, 7, -4]]),
          "uint8": np.array([[3, 2, 5], [0, 7, 4]], dtype=np.uint8),
          "bool": np.array([[True, False, True], [False, True, True]]),
          "float16": np.array([[0.3, -1.5, 2.25], [0.0, 4.0, -0.75]], dtype=np.float16),
          "float32": np.array([[0.3, -1.5, 2.25], [0.0, 4.0, -0.75]], dtype=np.float32),
          "float64": np.array([[0.3, -1.5, 2.25], [0.0, 4.0, -0.75]])}


def _result(lib, fn, *arrays):
    try:
        out = fn(lib, *(lib.tensor(a) for a in arrays))
    except Exception as e:
        return type(e).__name__
    return str(out.dtype), np.asarray(out.detach().double().numpy())


@pytest.mark.parametrize("name", ["clamp", "clamp_min", "clamp_max", "clamp_"])
def test_clamp_with_tensor_bounds_keeps_integer_dtypes(name: str) -> None:  # torch.clamp
    # a missing bound counted as a Python float in type promotion: clamp(int_tensor, int_tensor)
    # came out float32 (PyTorch: the integer result type; in place, the input's dtype)
    torch = pytest.importorskip("torch")
    calls = {"clamp": lambda lib, x, lo: lib.clamp(x, lo),
             "clamp_min": lambda lib, x, lo: lib.clamp_min(x, lo),
             "clamp_max": lambda lib, x, hi: lib.clamp_max(x, hi),
             "clamp_": lambda lib, x, lo: x.clamp_(lo, None)}
    for k1, a in _MIXED.items():
        for k2, b in _MIXED.items():
            want = _result(torch, calls[name], a, b)
            got = _result(gk, calls[name], a, b)
            if isinstance(want, str):
                continue                     # PyTorch refuses: gradkit's refusals are not the point
            assert got[0] == want[0], (name, k1, k2)
            np.testing.assert_allclose(got[1], want[1], rtol=1e-3, err_msg=f"{name} {k1} {k2}")


def test_cosine_similarity_mixed_dtypes_as_torch() -> None:  # torch.cosine_similarity
    # an integer input with a float32 one came out float64; two integer inputs were accepted
    torch = pytest.importorskip("torch")
    for k1, a in _MIXED.items():
        for k2, b in _MIXED.items():
            want = _result(torch, lambda lib, x, y: lib.cosine_similarity(x, y), a, b)
            got = _result(gk, lambda lib, x, y: lib.cosine_similarity(x, y), a, b)
            if isinstance(want, str):
                assert got == want, (k1, k2)         # RuntimeError for an integer common dtype
                continue
            assert got[0] == want[0], (k1, k2)
            np.testing.assert_allclose(got[1], want[1], rtol=1e-12, err_msg=f"{k1} {k2}")


def test_ldexp_dtypes_as_torch() -> None:  # torch.ldexp
    # an integer input with float16 exponents came out float32 (PyTorch: float16)
    torch = pytest.importorskip("torch")
    for k1, a in _MIXED.items():
        for k2, b in _MIXED.items():
            want = _result(torch, lambda lib, x, y: lib.ldexp(x, y), a, b)
            if isinstance(want, str):
                continue                     # PyTorch refuses bool exponents with float16
            got = _result(gk, lambda lib, x, y: lib.ldexp(x, y), a, b)
            assert got[0] == want[0], (k1, k2)
            np.testing.assert_allclose(got[1], want[1], rtol=1e-3, err_msg=f"{k1} {k2}")
