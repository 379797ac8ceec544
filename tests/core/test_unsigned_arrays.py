"""NumPy's uint16/uint32/uint64 have no gradkit dtype: a tensor made from one holds the
values in the signed dtype it reports, so its arithmetic does not wrap at a bound it lacks."""
import numpy as np
import pytest

import gradkit as gk


@pytest.mark.parametrize("make", [gk.tensor, gk.as_tensor], ids=["tensor", "as_tensor"])
def test_uint16_becomes_int32_that_does_not_wrap(make):
    t = make(np.array([1, 65535], dtype=np.uint16))
    assert t.dtype == gk.int32
    assert t.numpy().dtype == np.int32
    assert (t + 1).tolist() == [2, 65536]           # uint16 would wrap the second to 0


def test_uint32_and_uint64_become_int64():
    t = gk.tensor(np.array([2**32 - 1], dtype=np.uint32))
    assert t.dtype == gk.int64 and (t + 1).tolist() == [2**32]
    u = gk.tensor(np.array([2**63 - 1], dtype=np.uint64))
    assert u.dtype == gk.int64 and u.numpy().dtype == np.int64 and u.tolist() == [2**63 - 1]


def test_uint64_over_int64_range_is_an_error():
    with pytest.raises(RuntimeError, match="without overflow"):
        gk.tensor(np.array([2**63 + 5], dtype=np.uint64))


def test_from_numpy_refuses_what_it_cannot_share():
    # a widened copy could not share memory, which is from_numpy's promise
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.uint16"):
        gk.from_numpy(np.array([1], dtype=np.uint16))
    with pytest.raises(TypeError, match="numpy.str_"):
        gk.from_numpy(np.array(["a"]))
