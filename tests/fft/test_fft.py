"""gradkit.fft (torch.fft's spelling) and np.fft on tensors: values equal NumPy's, gradients equal
central finite differences in float64 (and PyTorch's, when installed), any order, forward mode."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import func

RNG = np.random.default_rng(20261207)


def _fd_grad(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _loss_weights(shape: tuple[int, ...], complex_: bool) -> np.ndarray:
    w = RNG.standard_normal(shape)
    return w + 1j * RNG.standard_normal(shape) if complex_ else w


def _real_loss(y, w):
    """A real scalar that reads every real and imaginary part of ``y``."""
    prod = y * w
    return np.sum(np.real(prod) + 0.5 * np.imag(prod) ** 2)


R1 = RNG.standard_normal(8)
R1_ODD = RNG.standard_normal(7)
R2 = RNG.standard_normal((4, 6))

# (numpy name, kwargs, input kind): NumPy's signature, called through dispatch on tensors
NP_CASES = [
    ("fft", {}, "r1"), ("fft", {"n": 5}, "r1"), ("fft", {"n": 11, "norm": "ortho"}, "r1o"),
    ("ifft", {}, "r1"), ("ifft", {"n": 6, "norm": "forward"}, "r1o"),
    ("rfft", {}, "r1"), ("rfft", {"n": 11}, "r1o"), ("rfft", {"n": 4, "norm": "ortho"}, "r1"),
    ("ihfft", {}, "r1o"), ("ihfft", {"n": 6, "norm": "forward"}, "r1"),
    ("fft", {"axis": 0}, "r2"), ("rfft", {"axis": 0, "n": 3}, "r2"),
    ("fft2", {}, "r2"), ("fft2", {"s": (3, 8), "axes": (0, 1)}, "r2"),
    ("ifft2", {"s": (5, 5), "axes": (-2, -1), "norm": "ortho"}, "r2"),
    ("fftn", {"axes": (0,)}, "r2"), ("ifftn", {}, "r2"),
    ("rfft2", {}, "r2"), ("rfftn", {"s": (5, 7), "axes": (0, 1)}, "r2"),
    ("rfftn", {"axes": (1, 0)}, "r2"),
]


def _input(kind: str) -> np.ndarray:
    return {"r1": R1, "r1o": R1_ODD, "r2": R2}[kind]


@pytest.mark.parametrize("name,kw,kind", NP_CASES)
def test_numpy_fft_of_real_input_values_and_gradients(name: str, kw: dict, kind: str) -> None:
    x = _input(kind)
    f = getattr(np.fft, name)
    ref = f(x, **kw)
    got = f(gk.tensor(x), **kw)
    assert isinstance(got, gk.Tensor)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-12, atol=1e-12)
    w = _loss_weights(ref.shape, True)
    g = np.asarray(func.grad(lambda t: _real_loss(f(t, **kw), w))(x))
    np.testing.assert_allclose(g, _fd_grad(lambda v: _real_loss(f(v, **kw), w), x), rtol=1e-6, atol=1e-7)


def _complex_case(shape: tuple[int, ...]) -> np.ndarray:
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


C_CASES = [
    ("fft", {}, (5,)), ("ifft", {"n": 8}, (5,)), ("fft", {"n": 3, "norm": "ortho"}, (5,)),
    ("irfft", {}, (5,)), ("irfft", {"n": 7}, (5,)), ("irfft", {"n": 12, "norm": "ortho"}, (5,)),
    ("irfft", {"n": 4, "norm": "forward"}, (5,)),
    ("hfft", {}, (5,)), ("hfft", {"n": 9}, (5,)), ("hfft", {"n": 6, "norm": "ortho"}, (4,)),
    ("fft2", {}, (3, 4)), ("ifftn", {"s": (4, 2), "axes": (0, 1)}, (3, 4)),
    ("irfft2", {}, (4, 4)), ("irfftn", {"s": (3, 7), "axes": (0, 1)}, (4, 4)),
    ("irfftn", {"axes": (0,)}, (4, 3)), ("irfft2", {"s": (5, 4), "axes": (0, 1), "norm": "forward"}, (3, 4)),
]


@pytest.mark.parametrize("name,kw,shape", C_CASES)
def test_numpy_fft_of_complex_input_values_and_gradients(name: str, kw: dict, shape: tuple[int, ...]) -> None:
    """A complex input's gradient is dL/dRe + i dL/dIm (PyTorch's convention): checked against
    finite differences in the real and the imaginary parts separately."""
    z = _complex_case(shape)
    f = getattr(np.fft, name)
    ref = f(z, **kw)
    got = f(gk.tensor(z), **kw)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-12, atol=1e-12)
    w = _loss_weights(ref.shape, np.iscomplexobj(ref))
    t = gk.tensor(z, requires_grad=True)
    _real_loss(f(t, **kw), w).backward()
    re = _fd_grad(lambda v: _real_loss(f(v + 1j * z.imag, **kw), w), z.real)
    im = _fd_grad(lambda v: _real_loss(f(z.real + 1j * v, **kw), w), z.imag)
    np.testing.assert_allclose(t.grad.numpy(), re + 1j * im, rtol=1e-6, atol=1e-7)


def test_fft_second_derivatives_and_forward_mode() -> None:
    def f(x):
        return np.sum(np.abs(np.fft.rfft(x * x)) ** 2) + np.sum(np.fft.irfft(np.fft.fft(x)[:4], n=5) ** 3)

    x = R1
    g = func.grad(f)
    hess = np.asarray(func.hessian(f)(x))
    fd = np.stack([(np.asarray(g(x + 1e-5 * e)) - np.asarray(g(x - 1e-5 * e))) / 2e-5
                   for e in np.eye(x.size)])
    np.testing.assert_allclose(hess, fd, rtol=1e-5, atol=1e-6)
    v = RNG.standard_normal(x.size)
    _, tan = func.jvp(lambda t: np.fft.irfft(np.fft.rfft(t) ** 2), (x,), (v,))
    def h(u):
        return np.fft.irfft(np.fft.rfft(u) ** 2)

    fd_t = (h(x + 1e-6 * v) - h(x - 1e-6 * v)) / 2e-6
    np.testing.assert_allclose(np.asarray(tan), fd_t, rtol=1e-6, atol=1e-8)


def test_torch_spelling_values_names_and_errors() -> None:
    x = gk.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = gk.fft.rfft(x)
    assert type(y.grad_fn).__name__ == "FftR2CBackward0"
    np.testing.assert_allclose(y.detach().numpy(), np.fft.rfft([1.0, 2, 3, 4]))
    (y.abs() ** 2).sum().backward()
    # recorded from torch 2.13: torch.fft.rfft(x).abs().pow(2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [12.0, 20.0, 20.0, 28.0], rtol=1e-6)
    assert gk.fft.fft(gk.tensor([1, 2, 3])).dtype == gk.complex64       # ints: the default dtype
    assert gk.fft.fft(gk.tensor([1.0, 2.0], dtype=gk.float64)).dtype == gk.complex128
    assert type(gk.fft.fft2(gk.ones(2, 2, requires_grad=True)).grad_fn).__name__ == "FftC2CBackward0"
    assert type(gk.fft.ifft(gk.ones(2, requires_grad=True)).grad_fn).__name__ == "ConjBackward0"
    assert type(gk.fft.irfft(gk.ones(3, dtype=gk.complex64, requires_grad=True)).grad_fn).__name__ \
        == "FftC2RBackward0"
    with pytest.raises(RuntimeError, match='Invalid normalization mode: "bad"'):
        gk.fft.fft(x, norm="bad")
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\) specified"):
        gk.fft.fft(x, n=0)
    with pytest.raises(RuntimeError, match="rfft expects a real input tensor, but got ComplexFloat"):
        gk.fft.rfft(gk.ones(3, dtype=gk.complex64))
    with pytest.raises(IndexError, match="no dimensions"):
        gk.fft.fft(gk.tensor(3.0))
    with pytest.raises(ValueError, match="Invalid norm value"):
        np.fft.fft(gk.tensor([1.0, 2.0]), norm="bad")
    with pytest.raises(ValueError, match=r"Invalid number of FFT data points \(0\)"):
        np.fft.rfft(gk.tensor([1.0, 2.0]), n=0)


def test_shifts_and_frequencies() -> None:
    x = gk.arange(10.0).reshape(2, 5)
    np.testing.assert_array_equal(gk.fft.fftshift(x).numpy(), np.fft.fftshift(x.numpy()))
    np.testing.assert_array_equal(gk.fft.ifftshift(x, dim=1).numpy(), np.fft.ifftshift(x.numpy(), axes=1))
    np.testing.assert_array_equal(np.fft.fftshift(x, axes=(1,)).numpy(),
                                  np.fft.fftshift(x.numpy(), axes=(1,)))
    np.testing.assert_allclose(gk.fft.fftfreq(5).numpy(), [0.0, 0.2, 0.4, -0.4, -0.2], rtol=1e-6)
    np.testing.assert_allclose(gk.fft.rfftfreq(5, d=0.5).numpy(), [0.0, 0.4, 0.8], rtol=1e-6)
    assert gk.fft.fftfreq(4).dtype == gk.float32


def test_numpy_complex_helpers_on_tensors() -> None:
    """np.real / np.imag / np.angle / np.conj keep tensors on the graph (NumPy's conventions:
    the real part of a real array is itself, its imaginary part zero)."""
    z = _complex_case((3,))
    t = gk.tensor(z, requires_grad=True)
    loss = np.sum(np.real(t) * 2 + np.imag(t) ** 2 + np.angle(t) + np.real(np.conj(t) * t))
    loss.backward()
    re, im = z.real, z.imag
    r2 = re ** 2 + im ** 2
    expected = (2 + (-im / r2) + 2 * re) + 1j * (2 * im + re / r2 + 2 * im)
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-12)
    r = gk.tensor([1.0, -2.0], requires_grad=True)
    assert np.real(r) is r
    np.testing.assert_array_equal(np.imag(r).detach().numpy(), [0.0, 0.0])
    np.testing.assert_allclose(np.angle(gk.tensor([1j]), deg=True).numpy(), [90.0])


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "ihfft", "irfft", "hfft", "fft2", "ifft2",
                                  "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfft2",
                                  "ihfft2", "hfftn", "ihfftn"])
def test_against_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    complex_in = name in ("irfft", "hfft", "irfft2", "hfft2", "irfftn", "hfftn")
    for kw in ({}, {"norm": "ortho"}, {"norm": "forward"}):
        if name.endswith(("2", "n")):
            kw = dict(kw, s=(3, 7))
        else:
            kw = dict(kw, n=7)
        x = _complex_case((4, 5)) if complex_in else RNG.standard_normal((4, 5))
        a = gk.tensor(x, requires_grad=True)
        b = torch.tensor(x, requires_grad=True)
        ya, yb = getattr(gk.fft, name)(a, **kw), getattr(torch.fft, name)(b, **kw)
        assert type(ya.grad_fn).__name__ == type(yb.grad_fn).__name__
        w = _loss_weights(tuple(yb.shape), yb.is_complex())
        la = (ya * gk.tensor(w)).real.sum() if ya.is_complex() else (ya * gk.tensor(w)).sum()
        lb = (yb * torch.tensor(w)).real.sum() if yb.is_complex() else (yb * torch.tensor(w)).sum()
        la.backward()
        lb.backward()
        np.testing.assert_allclose(ya.detach().numpy(), yb.detach().resolve_conj().numpy(), rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.resolve_conj().numpy(), rtol=1e-10, atol=1e-12)
