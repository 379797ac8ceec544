"""nn.Transformer and its encoder/decoder layers against live PyTorch (issue #17).

PyTorch's initialised weights are copied in with ``load_state_dict``; outputs, input gradients and
every parameter's gradient are compared (float64 to 1e-10, float32 to ~1e-5).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gradkit as gk  # noqa: E402
import gradkit.nn.functional as GF  # noqa: E402

RNG = np.random.default_rng(7)
E, H, FF = 8, 2, 16


def _pair(name, *args, dtype="float64", **kw):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m_t = getattr(torch.nn, name)(*args, **kw).to(getattr(torch, dtype))
        m_g = getattr(gk.nn, name)(*args, **_gk_kw(kw), dtype=getattr(gk, dtype))
    assert list(m_t.state_dict()) == list(m_g.state_dict())
    assert repr(m_t) == repr(m_g)
    m_g.load_state_dict({k: gk.tensor(v.detach().numpy()) for k, v in m_t.state_dict().items()})
    return m_t, m_g


def _gk_kw(kw):
    out = dict(kw)
    if callable(kw.get("activation")):
        out["activation"] = {torch.nn.functional.silu: GF.silu, torch.tanh: gk.tanh}[kw["activation"]]
    return out


def _lib_args(lib, arrays):
    return [None if a is None else lib.tensor(a) for a in arrays]


def _check(m_t, m_g, inputs, masks=(), kwargs=None, tol=1e-10):
    """Compare the outputs, the inputs' gradients and all parameter gradients."""
    kwargs = kwargs or {}
    tin = [torch.tensor(a, requires_grad=True) for a in inputs]
    gin = [gk.tensor(a, requires_grad=True) for a in inputs]
    mt = {k: (v if not isinstance(v, np.ndarray) else torch.tensor(v)) for k, v in kwargs.items()}
    mg = {k: (v if not isinstance(v, np.ndarray) else gk.tensor(v)) for k, v in kwargs.items()}
    ot, og = m_t(*tin, **mt), m_g(*gin, **mg)
    assert tuple(ot.shape) == tuple(og.shape)
    assert str(og.dtype) == str(ot.dtype)
    np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), rtol=tol, atol=tol)
    c = RNG.standard_normal(tuple(ot.shape)).astype(inputs[0].dtype)
    (ot * torch.tensor(c)).sum().backward()
    (og * gk.tensor(c)).sum().backward()
    for a, b in zip(tin, gin):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=tol * 10, atol=tol * 10)
    pt = dict(m_t.named_parameters())
    for n, p in m_g.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), pt[n].grad.numpy(), rtol=tol * 10, atol=tol * 10,
                                   err_msg=n)


LAYER_KW = [
    dict(dropout=0.0),
    dict(dropout=0.0, batch_first=True),
    dict(dropout=0.0, norm_first=True),
    dict(dropout=0.0, activation="gelu", layer_norm_eps=1e-3),
    dict(dropout=0.0, activation=torch.nn.functional.silu, bias=False),
    dict(dropout=0.0, activation=torch.tanh, norm_first=True, batch_first=True),
]


def _seq(n, s, bf, dtype=np.float64):
    return RNG.standard_normal((n, s, E) if bf else (s, n, E)).astype(dtype)


@pytest.mark.parametrize("kw", LAYER_KW)
def test_encoder_layer_values_and_grads(kw):
    m_t, m_g = _pair("TransformerEncoderLayer", E, H, FF, **kw)
    bf = kw.get("batch_first", False)
    src = _seq(3, 5, bf)
    kpm = np.array([[False] * 5, [False] * 3 + [True] * 2, [False, True, False, False, True]])
    _check(m_t, m_g, [src])
    _check(m_t, m_g, [src], kwargs=dict(src_mask=RNG.standard_normal((5, 5))))
    _check(m_t, m_g, [src], kwargs=dict(src_key_padding_mask=kpm))
    _check(m_t, m_g, [src], kwargs=dict(src_mask=np.triu(np.ones((5, 5), bool), 1), src_key_padding_mask=kpm))
    causal = np.triu(np.full((5, 5), -np.inf), 1)
    _check(m_t, m_g, [src], kwargs=dict(src_mask=causal, is_causal=True))
    _check(m_t, m_g, [src[:, 0] if not bf else src[0]])  # unbatched


def test_encoder_layer_float32_and_training_mode_without_dropout():
    m_t, m_g = _pair("TransformerEncoderLayer", E, H, FF, dtype="float32", dropout=0.0)
    _check(m_t, m_g, [_seq(2, 4, False, np.float32)], tol=2e-6)
    m_t.eval()
    m_g.eval()
    _check(m_t, m_g, [_seq(2, 4, False, np.float32)], tol=2e-6)


@pytest.mark.parametrize("kw", LAYER_KW)
def test_decoder_layer_values_and_grads(kw):
    m_t, m_g = _pair("TransformerDecoderLayer", E, H, FF, **kw)
    bf = kw.get("batch_first", False)
    tgt, mem = _seq(3, 4, bf), _seq(3, 6, bf)
    _check(m_t, m_g, [tgt, mem])
    masks = dict(tgt_mask=np.triu(np.full((4, 4), -np.inf), 1), tgt_is_causal=True,
                 memory_mask=RNG.standard_normal((4, 6)),
                 tgt_key_padding_mask=np.array([[False] * 4, [False] * 3 + [True], [False] * 4]),
                 memory_key_padding_mask=np.array([[0] * 6, [0] * 2 + [1] * 4, [0] * 5 + [1]], bool))
    _check(m_t, m_g, [tgt, mem], kwargs=masks)


@pytest.mark.parametrize("bf", [False, True])
def test_transformer_values_grads_and_causal_mask(bf):
    m_t, m_g = _pair("Transformer", d_model=E, nhead=H, num_encoder_layers=2, num_decoder_layers=2,
                     dim_feedforward=FF, dropout=0.0, batch_first=bf)
    src, tgt = _seq(2, 5, bf), _seq(2, 4, bf)
    mask_g = gk.nn.Transformer.generate_square_subsequent_mask(4, dtype=gk.float64)
    mask_t = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    np.testing.assert_array_equal(mask_g.numpy(), mask_t.numpy())
    assert gk.nn.Transformer.generate_square_subsequent_mask(3).dtype == gk.float32
    _check(m_t, m_g, [src, tgt], kwargs=dict(tgt_mask=mask_t.numpy()))
    _check(m_t, m_g, [src, tgt], kwargs=dict(
        tgt_mask=mask_t.numpy(), src_key_padding_mask=np.array([[False] * 5, [False] * 3 + [True] * 2]),
        memory_key_padding_mask=np.array([[False] * 5, [False] * 3 + [True] * 2])))


def test_encoder_stack_with_norm_and_masks():
    layer_t = torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0).double()
    layer_g = gk.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, dtype=gk.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m_t = torch.nn.TransformerEncoder(layer_t, 3, torch.nn.LayerNorm(E).double())
    with pytest.warns(UserWarning, match="False because encoder_layer.self_attn.batch_first was not"):
        m_g = gk.nn.TransformerEncoder(layer_g, 3, gk.nn.LayerNorm(E, dtype=gk.float64))
    assert list(m_t.state_dict()) == list(m_g.state_dict())
    assert repr(m_t) == repr(m_g)
    m_g.load_state_dict({k: gk.tensor(v.detach().numpy()) for k, v in m_t.state_dict().items()})
    src = _seq(2, 5, False)
    causal = np.triu(np.full((5, 5), -np.inf), 1)
    _check(m_t, m_g, [src], kwargs=dict(mask=causal))
    kpm = np.array([[0, 0, 0, 1, 1], [0] * 5], bool)
    _check(m_t, m_g, [src], kwargs=dict(mask=causal, src_key_padding_mask=kpm))


@pytest.mark.parametrize("grad", [False, True])
def test_encoder_eval_padding_matches_torch_fast_path(grad):
    """Eval mode, padding mask, no grad: PyTorch's nested-tensor path zero-fills the padded positions."""
    layer_t = torch.nn.TransformerEncoderLayer(E, H, FF, batch_first=True).double()
    layer_g = gk.nn.TransformerEncoderLayer(E, H, FF, batch_first=True, dtype=gk.float64)
    m_t = torch.nn.TransformerEncoder(layer_t, 2, torch.nn.LayerNorm(E).double())
    m_g = gk.nn.TransformerEncoder(layer_g, 2, gk.nn.LayerNorm(E, dtype=gk.float64))
    m_g.load_state_dict({k: gk.tensor(v.detach().numpy()) for k, v in m_t.state_dict().items()})
    m_t.eval()
    m_g.eval()
    src = _seq(3, 6, True)
    kpm = np.array([[0] * 6, [0] * 4 + [1] * 2, [0] * 2 + [1] * 4], bool)
    for mask in (kpm, np.array([[0] * 6, [0, 1, 0, 0, 0, 1], [0] * 6], bool)):  # left aligned or not
        with torch.set_grad_enabled(grad):
            ot = m_t(torch.tensor(src), src_key_padding_mask=torch.tensor(mask))
        with gk.set_grad_enabled(grad):
            og = m_g(gk.tensor(src), src_key_padding_mask=gk.tensor(mask))
        assert tuple(ot.shape) == tuple(og.shape) == (3, 6, E)
        np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), rtol=1e-10, atol=1e-10)
    # without the final norm the padded rows are exactly zero when no gradient is recorded
    m_t.norm = None
    m_g.norm = None
    with torch.no_grad():
        ot = m_t(torch.tensor(src), src_key_padding_mask=torch.tensor(kpm))
    with gk.no_grad():
        og = m_g(gk.tensor(src), src_key_padding_mask=gk.tensor(kpm))
    assert (og.numpy()[kpm] == 0).all() and (ot.numpy()[kpm] == 0).all()
    np.testing.assert_allclose(og.numpy(), ot.numpy(), rtol=1e-10, atol=1e-10)


def test_errors_match_torch():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        gk.nn.TransformerEncoderLayer(E, H, activation="tanh")
    m = gk.nn.Transformer(E, H, 1, 1, FF)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        m(gk.randn(5, 2, E), gk.randn(4, 3, E))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        m(gk.randn(5, 2, E), gk.randn(4, 2, E + 1))
    layer = gk.nn.TransformerEncoderLayer(E, H, FF)
    with pytest.raises(AssertionError, match="only bool and floating types of src_key_padding_mask"):
        layer(gk.randn(5, 2, E), src_key_padding_mask=gk.zeros(2, 5, dtype=gk.int64))
    with pytest.warns(UserWarning, match="Support for mismatched src_key_padding_mask and src_mask"):
        layer(gk.randn(5, 2, E), src_mask=gk.zeros(5, 5), src_key_padding_mask=gk.zeros(2, 5, dtype=gk.bool))


def test_dropout_in_training_is_random_and_eval_is_not():
    m = gk.nn.TransformerEncoderLayer(E, H, FF, dropout=0.5)
    x = gk.randn(4, 2, E)
    assert not np.allclose(m(x).detach().numpy(), m(x).detach().numpy())
    m.eval()
    np.testing.assert_array_equal(m(x).detach().numpy(), m(x).detach().numpy())
