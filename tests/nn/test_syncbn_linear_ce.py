"""``nn.SyncBatchNorm`` (without a process group, as PyTorch 2.13 runs it on the CPU) and
``nn.LinearCrossEntropyLoss`` / ``F.linear_cross_entropy`` against live PyTorch."""

import numpy as np
import pytest

import gradkit as gk


def _np(t):
    return t.detach().numpy()


def test_syncbatchnorm_train_eval_as_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((4, 3, 5)).astype(np.float32)
    mods = [lib.nn.SyncBatchNorm(3, momentum=0.3) for lib in (gk, torch)]
    for m, lib in zip(mods, (gk, torch)):
        with lib.no_grad():
            m.weight.copy_(lib.tensor([0.5, 1.0, 2.0]))
            m.bias.copy_(lib.tensor([0.1, -0.2, 0.3]))
    outs = []
    for m, lib in zip(mods, (gk, torch)):
        xi = lib.tensor(x, requires_grad=True)
        y = m(xi)
        (y * y).sum().backward()
        m.eval()
        z = m(lib.tensor(x[:2]))
        outs.append((_np(y), _np(z), _np(xi.grad), _np(m.weight.grad), _np(m.running_mean),
                     _np(m.running_var), int(m.num_batches_tracked)))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert repr(mods[0]) == repr(mods[1])
    assert list(mods[0].state_dict()) == list(mods[1].state_dict())


@pytest.mark.parametrize("shape", [(3,), (2, 0, 4)])
def test_syncbatchnorm_input_errors_as_pytorch(shape):
    torch = pytest.importorskip("torch")
    msgs = []
    for lib in (gk, torch):
        with pytest.raises(ValueError) as e:
            lib.nn.SyncBatchNorm(shape[1] if len(shape) > 1 else 3)(lib.zeros(*shape))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
    # any rank >= 2 runs (BatchNorm1d would refuse 5-D)
    assert gk.nn.SyncBatchNorm(2)(gk.ones(2, 2, 1, 1, 3)).shape == (2, 2, 1, 1, 3)


def test_convert_sync_batchnorm_keeps_parameters_and_state_dict():
    torch = pytest.importorskip("torch")
    reprs, keys = [], []
    for lib in (gk, torch):
        nn = lib.nn
        model = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3, momentum=0.2),
                              nn.Sequential(nn.BatchNorm1d(4, affine=False),
                                            nn.InstanceNorm1d(4)))
        model[1].eval()
        w = model[1].weight
        before = {k: v.clone() for k, v in model.state_dict().items()}
        conv = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        assert type(conv[1]).__name__ == "SyncBatchNorm" and conv[1].weight is w
        assert not conv[1].training
        assert type(conv[2][1]).__name__ == "InstanceNorm1d"
        after = conv.state_dict()
        assert list(after) == list(before)
        for k in before:
            assert (after[k] == before[k]).all()
        reprs.append(repr(conv))
        keys.append(list(after))
        single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm3d(2))
        assert type(single).__name__ == "SyncBatchNorm"
    assert reprs[0] == reprs[1] and keys[0] == keys[1]


@pytest.mark.parametrize("kw", [
    {}, {"bias": True, "reduction": "sum"}, {"out_features": (2, 3), "reduction": "none"},
    {"label_smoothing": 0.1, "ignore_index": 1}, {"probs": True}, {"bias": True, "weighted": True},
])
def test_linear_cross_entropy_loss_as_pytorch(kw):
    torch = pytest.importorskip("torch")
    kw = dict(kw)
    probs, weighted = kw.pop("probs", False), kw.pop("weighted", False)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    out = kw.get("out_features", ())
    if probs:
        t = rng.random((4, 6) + out).astype(np.float32)
        t /= t.sum(1, keepdims=True)
    else:
        t = rng.integers(0, 6, (4,) + out)
    cw = rng.random(6).astype(np.float32) if weighted else None
    res = []
    for lib in (gk, torch):
        lib.manual_seed(0)
        m = lib.nn.LinearCrossEntropyLoss(5, 6, weight=None if cw is None else lib.tensor(cw),
                                          **kw)
        with lib.no_grad():
            m.linear.weight.copy_(lib.tensor(
                np.linspace(-1, 1, m.linear.weight.numel(), dtype=np.float32)
                .reshape(tuple(m.linear.weight.shape))))
            if m.linear.bias is not None:
                m.linear.bias.copy_(lib.tensor(np.linspace(-0.5, 0.5, m.linear.bias.numel(),
                                                           dtype=np.float32)))
        xi = lib.tensor(x, requires_grad=True)
        loss = m(xi, lib.tensor(t))
        loss.sum().backward()
        res.append((_np(loss), _np(xi.grad), _np(m.linear.weight.grad), repr(m),
                    list(m.state_dict())))
    for a, b in zip(res[0][:3], res[1][:3]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert res[0][3:] == res[1][3:]


def test_linear_cross_entropy_errors_as_pytorch():
    torch = pytest.importorskip("torch")
    cases = [
        lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(2, 2, 3), lib.ones(4, 3),
                                                           lib.zeros(2, dtype=lib.int64)),
        lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(2, 3), lib.ones(4, 2),
                                                           lib.zeros(2, dtype=lib.int64)),
        lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(3), lib.ones(4, 2, 3),
                                                           lib.zeros(2, dtype=lib.int64)),
        lambda lib: lib.nn.functional.linear_cross_entropy(
            lib.ones(2, 3), lib.ones(4, 3), lib.zeros(2, dtype=lib.int64),
            linear_bias=lib.ones(3)),
        lambda lib: lib.nn.functional.linear_cross_entropy(
            lib.ones(2, 3), lib.ones(4, 3), lib.ones(2, 4) / 4, ignore_index=0),
        lambda lib: lib.nn.LinearCrossEntropyLoss(3, 4, weight=lib.ones(3)),
        lambda lib: lib.nn.LinearCrossEntropyLoss(3, 4, label_smoothing=1.5),
    ]
    for case in cases:
        msgs = []
        for lib in (gk, torch):
            with pytest.raises(RuntimeError) as e:
                case(lib)
            msgs.append(str(e.value))
        assert msgs[0] == msgs[1]


def test_linear_cross_entropy_options_warn_where_pytorch_ignores_them():
    torch = pytest.importorskip("torch")
    msgs = []
    for lib in (gk, torch):
        with pytest.warns(UserWarning) as rec:
            lib.nn.functional.linear_cross_entropy(
                lib.ones(2, 3), lib.ones(4, 3), lib.zeros(2, dtype=lib.int64),
                label_smoothing=0.1, options=lib.nn.LinearCrossEntropyOptions())
        msgs.append(str(rec[0].message))
    assert msgs[0] == msgs[1]
    assert repr(gk.nn.LinearCrossEntropyOptions()) == repr(torch.nn.LinearCrossEntropyOptions())
