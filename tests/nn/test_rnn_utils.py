"""nn.utils.rnn (PackedSequence and friends) and packed input to RNN/LSTM/GRU (issue #17).

Compared with live PyTorch: packed data, batch sizes, index permutations, padded results, and the
recurrent layers' packed outputs, h_n (each sequence's true last step) and all gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.utils.rnn as G

torch = pytest.importorskip("torch")
import torch.nn.utils.rnn as R  # noqa: E402

RNG = np.random.default_rng(11)


def _same(a, b, tol=1e-12):
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=tol, atol=tol)


def _same_packed(pt, pg):
    _same(pt.data, pg.data)
    np.testing.assert_array_equal(pg.batch_sizes.numpy(), pt.batch_sizes.numpy())
    for a, b in ((pt.sorted_indices, pg.sorted_indices), (pt.unsorted_indices, pg.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(b.numpy(), a.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce", [([5, 3, 3, 1], True), ([3, 5, 1, 3], False),
                                             ([2, 2, 2, 2], True)])
def test_pack_and_pad_roundtrip_matches_torch(batch_first, lengths, enforce):
    x = RNG.standard_normal((4, 5, 2) if batch_first else (5, 4, 2))
    tx, gx = torch.tensor(x, requires_grad=True), gk.tensor(x, requires_grad=True)
    pt = R.pack_padded_sequence(tx, lengths, batch_first=batch_first, enforce_sorted=enforce)
    pg = G.pack_padded_sequence(gx, gk.tensor(lengths), batch_first=batch_first, enforce_sorted=enforce)
    assert isinstance(pg, G.PackedSequence) and isinstance(pg, tuple)
    _same_packed(pt, pg)
    for kw in (dict(), dict(padding_value=-2.0, total_length=7)):
        at, lt = R.pad_packed_sequence(pt, batch_first=batch_first, **kw)
        ag, lg = G.pad_packed_sequence(pg, batch_first=batch_first, **kw)
        _same(at, ag)
        np.testing.assert_array_equal(lg.numpy(), lt.numpy())
        assert lg.dtype == gk.int64
    c = RNG.standard_normal(tuple(at.shape))
    (at * torch.tensor(c)).sum().backward()
    (ag * gk.tensor(c)).sum().backward()
    _same(tx.grad, gx.grad)


def test_pad_sequence_sides_and_pack_sequence():
    seqs = [RNG.standard_normal((n, 3)) for n in (2, 4, 1)]
    for bf in (False, True):
        for side in ("right", "left"):
            _same(R.pad_sequence([torch.tensor(s) for s in seqs], bf, 0.5, side),
                  G.pad_sequence([gk.tensor(s) for s in seqs], bf, 0.5, side))
    with pytest.raises(ValueError, match="Expected padding_side to be one of left or right, but got up."):
        G.pad_sequence([gk.tensor(s) for s in seqs], padding_side="up")
    pt = R.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    pg = G.pack_sequence([gk.tensor(s) for s in seqs], enforce_sorted=False)
    _same_packed(pt, pg)
    for a, b in zip(R.unpack_sequence(pt), G.unpack_sequence(pg)):
        _same(a, b)
    padded = R.pad_sequence([torch.tensor(s) for s in seqs])
    for a, b in zip(R.unpad_sequence(padded.clone(), torch.tensor([2, 4, 1])),
                    G.unpad_sequence(gk.tensor(padded.numpy()), gk.tensor([2, 4, 1]))):
        _same(a, b)


def test_pack_errors_match_torch():
    x = gk.randn(4, 3, 2)
    with pytest.raises(RuntimeError, match="`lengths` array must be sorted in decreasing order when "):
        G.pack_padded_sequence(x, [2, 3, 1])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        G.pack_padded_sequence(x, [3, 2, 0])
    packed = G.pack_padded_sequence(x, [4, 3, 1])
    with pytest.raises(ValueError, match="Expected total_length to be at least the length of the longest"):
        G.pad_packed_sequence(packed, total_length=3)
    assert G.invert_permutation(None) is None
    np.testing.assert_array_equal(G.invert_permutation(gk.tensor([2, 0, 1])).numpy(), [1, 2, 0])
    assert gk.nn.utils.rnn is G


CASES = [("RNN", {}), ("RNN", dict(nonlinearity="relu", num_layers=2)), ("LSTM", {}),
         ("LSTM", dict(bidirectional=True, num_layers=2)), ("GRU", dict(batch_first=True)),
         ("GRU", dict(bidirectional=True, batch_first=True, bias=False))]


@pytest.mark.parametrize("cls,kw", CASES)
@pytest.mark.parametrize("enforce", [True, False])
@pytest.mark.parametrize("with_hx", [False, True])
def test_rnn_layers_on_packed_sequences(cls, kw, enforce, with_hx):
    torch.manual_seed(0)
    m_t = getattr(torch.nn, cls)(3, 4, **kw).double()
    m_g = getattr(gk.nn, cls)(3, 4, **kw, dtype=gk.float64)
    m_g.load_state_dict({k: gk.tensor(v.detach().numpy()) for k, v in m_t.state_dict().items()})
    bf = kw.get("batch_first", False)
    lengths = [5, 4, 2] if enforce else [2, 5, 4]
    x = RNG.standard_normal((3, 5, 3) if bf else (5, 3, 3))
    tx, gx = torch.tensor(x, requires_grad=True), gk.tensor(x, requires_grad=True)
    pt = R.pack_padded_sequence(tx, lengths, batch_first=bf, enforce_sorted=enforce)
    pg = G.pack_padded_sequence(gx, lengths, batch_first=bf, enforce_sorted=enforce)
    n = m_t.num_layers * (2 if m_t.bidirectional else 1)
    hx_t = hx_g = None
    if with_hx:
        h = RNG.standard_normal((n, 3, 4))
        c = RNG.standard_normal((n, 3, 4))
        hx_t = (torch.tensor(h, requires_grad=True), torch.tensor(c)) if cls == "LSTM" else \
            torch.tensor(h, requires_grad=True)
        hx_g = (gk.tensor(h, requires_grad=True), gk.tensor(c)) if cls == "LSTM" else \
            gk.tensor(h, requires_grad=True)
    ot, st = m_t(pt, hx_t)
    og, sg = m_g(pg, hx_g)
    assert isinstance(og, G.PackedSequence)
    _same_packed(ot, og)
    st, sg = (st if cls == "LSTM" else (st,)), (sg if cls == "LSTM" else (sg,))
    for a, b in zip(st, sg):
        _same(a, b)
    # padded output (and h_n at each sequence's true last step) against the unpacked torch result
    _same(R.pad_packed_sequence(ot, batch_first=bf)[0], G.pad_packed_sequence(og, batch_first=bf)[0])
    c_out = RNG.standard_normal(tuple(ot.data.shape))
    c_h = RNG.standard_normal(tuple(st[0].shape))
    ((ot.data * torch.tensor(c_out)).sum() + (st[-1] * torch.tensor(c_h)).sum()).backward()
    ((og.data * gk.tensor(c_out)).sum() + (sg[-1] * gk.tensor(c_h)).sum()).backward()
    _same(tx.grad, gx.grad, 1e-10)
    if with_hx:
        _same((hx_t[0] if cls == "LSTM" else hx_t).grad, (hx_g[0] if cls == "LSTM" else hx_g).grad, 1e-10)
    params = dict(m_t.named_parameters())
    for name, p in m_g.named_parameters():
        _same(params[name].grad, p.grad, 1e-10)


def test_packed_h_n_is_each_sequences_last_step():
    """Independent of torch: h_n of a packed batch equals running each sequence alone."""
    m = gk.nn.GRU(2, 3, dtype=gk.float64)
    seqs = [gk.tensor(RNG.standard_normal((n, 2))) for n in (4, 1, 3)]
    _, h = m(G.pack_sequence(seqs, enforce_sorted=False))
    for i, s in enumerate(seqs):
        _, alone = m(s[:, None])
        np.testing.assert_allclose(h[:, i].detach().numpy(), alone[:, 0].detach().numpy(), rtol=1e-12)
