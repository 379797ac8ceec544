"""``dropout2d``/``dropout3d`` on inputs of other ranks, as PyTorch 2.13 treats them (checked
against torch's behaviour: which slices share a mask, which ranks warn or raise)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.functional as F


def _blocks_constant(out: np.ndarray, lead: int) -> bool:
    """Each slice ``out[i0, ..., i(lead-1)]`` is all 0 or all 2 (one mask entry per slice)."""
    flat = out.reshape(int(np.prod(out.shape[:lead])), -1)
    return bool(np.all((flat == flat[:, :1]) & np.isin(flat[:, :1], (0.0, 2.0))))


def test_dropout2d_reads_3d_input_as_batch_channel_length() -> None:
    gk.manual_seed(0)
    with pytest.warns(UserWarning, match=r"interpreted as shape \(N, C, L\)"):
        out = F.dropout2d(gk.ones(8, 6, 5), 0.5).numpy()
    assert _blocks_constant(out, 2)
    # a (C, H, W) reading would drop whole 6x5 blocks: with 48 slices of 5, some block mixes
    assert not _blocks_constant(out, 1)


def test_dropout2d_2d_input_drops_elements_with_a_warning() -> None:
    gk.manual_seed(1)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d, which is deprecated"):
        out = F.dropout2d(gk.ones(4, 50), 0.5).numpy()
    assert set(np.unique(out)) == {0.0, 2.0}


def test_dropout2d_needs_two_dimensions_when_training() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(F.dropout2d(gk.ones(3), 0.5, training=False).numpy(), 1.0)
        with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
            F.dropout2d(gk.ones(3), 0.5)


def test_dropout3d_other_ranks_are_unbatched() -> None:
    gk.manual_seed(2)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout3d"):
        out = F.dropout3d(gk.ones(40, 7), 0.5).numpy()
    assert _blocks_constant(out, 1)
    with pytest.warns(UserWarning, match="Received a 1-D input to dropout3d"):
        out = F.dropout3d(gk.ones(40), 0.5).numpy()
    assert set(np.unique(out)) == {0.0, 2.0}


def test_dropout2d_4d_and_dropout3d_5d_do_not_warn() -> None:
    gk.manual_seed(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.dropout2d(gk.ones(6, 7, 3, 3), 0.5).numpy()
        assert _blocks_constant(out, 2)
        out = F.dropout3d(gk.ones(6, 7, 2, 2, 2), 0.5).numpy()
        assert _blocks_constant(out, 2)
