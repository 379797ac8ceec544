"""NumPy's products on tensors promote as NumPy does (float with complex, float32 with float64),
while gradkit's own products refuse two dtypes as PyTorch's do. Oracle: NumPy on the arrays."""
import numpy as np
import pytest

import gradkit as gk

REAL = np.array([0.5, -1.0, 2.0])
CPLX = np.array([1j, 2.0, 3.0 - 1j])
MAT32 = np.arange(6, dtype=np.float32).reshape(2, 3)

CASES = [
    ("dot", lambda x: np.dot(x, CPLX)),
    ("vdot", lambda x: np.vdot(CPLX, x)),
    ("matmul", lambda x: np.matmul(x, CPLX)),
    ("inner", lambda x: np.inner(x, CPLX)),
    ("outer", lambda x: np.outer(x, CPLX)),
    ("tensordot", lambda x: np.tensordot(x, CPLX, 1)),
    ("operator", lambda x: x @ CPLX),
    ("roperator", lambda x: MAT32 @ x),
    ("dot32", lambda x: np.dot(MAT32, x)),
]


@pytest.mark.parametrize("name, f", CASES, ids=[c[0] for c in CASES])
def test_numpy_products_promote_as_numpy(name, f):
    want = f(REAL)
    got = f(gk.tensor(REAL))
    assert isinstance(got, gk.Tensor)
    assert got.numpy().dtype == want.dtype
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_gradient_through_promoted_product():
    x = gk.tensor(REAL, requires_grad=True)
    y = np.dot(x, CPLX)
    gk.real(y).backward()
    np.testing.assert_allclose(x.grad.numpy(), CPLX.real, rtol=1e-12)   # d Re(x.c)/dx = Re(c)


def test_two_tensors_of_two_dtypes_still_refused_as_pytorch():
    with pytest.raises(RuntimeError, match="expected both vectors to have same dtype"):
        gk.tensor(REAL) @ gk.tensor(CPLX)
