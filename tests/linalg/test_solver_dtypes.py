"""PyTorch's solvers refuse operands of different dtypes, in its words; NumPy's and SciPy's
functions on tensors promote as NumPy and SciPy do. Messages recorded from PyTorch 2.13."""

import numpy as np
import pytest

import gradkit as gk
import gradkit.scipy.linalg as gsl

F32, F64 = gk.eye(2), gk.ones(2, 1, dtype=gk.float64)


@pytest.mark.parametrize("call, message", [
    (lambda: gk.linalg.solve(F32, F64[:, 0]),
     "linalg.solve: Expected A and B to have the same dtype, but found A of type Float and B of "
     "type Double instead"),
    (lambda: gk.linalg.lstsq(F32, F64),
     "torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's dtype "
     "Float and other's dtype Double"),
    (lambda: gk.cholesky_solve(F64, F32),
     "Expected b and A to have the same dtype, but found b of type Double and A of type Float "
     "instead."),
    (lambda: gk.linalg.lu_solve(*gk.linalg.lu_factor(F32), F64),
     "linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type Float and B "
     "of type Double instead"),
])
def test_torch_solvers_refuse_mixed_dtypes(call, message):
    with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_numpy_and_scipy_promote():
    x = np.linalg.solve(F32, F64[:, 0])
    assert x.dtype == gk.float64
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0])
    assert np.linalg.solve(F32, [1.0, 2.0]).dtype == gk.float64
    y = gsl.cho_solve((F32, True), F64[:, 0])
    assert y.dtype == gk.float64
    np.testing.assert_allclose(y.numpy(), [1.0, 1.0])
    a = gk.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    b = gk.tensor([1.0, 2.0], dtype=gk.float64)
    np.linalg.solve(a, b).sum().backward()             # the promotion stays on the graph
    want = -np.linalg.solve(np.array([[2.0, 1.0], [1.0, 3.0]]).T, np.ones(2))[:, None] * \
        np.linalg.solve(np.array([[2.0, 1.0], [1.0, 3.0]]), [1.0, 2.0])[None, :]
    np.testing.assert_allclose(a.grad.numpy(), want, rtol=1e-6)
