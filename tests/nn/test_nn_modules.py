"""nn.Module, Parameter, layers, containers, init and utils; PyTorch cross-checks when installed."""

from __future__ import annotations

import copy
import math
from collections import OrderedDict

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.nn import init
from gradkit.nn import utils as U


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2, bias=False)
        self.register_buffer("scale", gk.ones(2))
        self.register_buffer("tmp", gk.zeros(1), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_parameter_is_tensor_with_repr():
    p = nn.Parameter(gk.tensor([1.0, 2.0]))
    assert isinstance(p, gk.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert not nn.Parameter(gk.zeros(1), requires_grad=False).requires_grad
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q is not p


def test_registration_and_traversal():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight"]
    assert len(list(net.parameters())) == 3
    assert [n for n, _ in net.named_buffers()] == ["scale", "tmp"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert list(net.state_dict()) == ["scale", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert net.get_parameter("fc1.bias") is net.fc1.bias
    assert net.get_submodule("fc2") is net.fc2
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        _ = net.nope
    with pytest.raises(TypeError, match="cannot assign 'torch.FloatTensor' as parameter 'weight'"):
        net.fc1.weight = gk.zeros(3, 4)
    net.fc1.weight = nn.Parameter(gk.zeros(3, 4))
    assert float(net.fc1.weight.sum()) == 0.0
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, shared)
    assert len(list(seq.parameters())) == 2


def test_repr_matches_pytorch_layout():
    net = Net()
    assert repr(net) == (
        "Net(\n  (fc1): Linear(in_features=4, out_features=3, bias=True)\n  (act): ReLU()\n"
        "  (fc2): Linear(in_features=3, out_features=2, bias=False)\n)"
    )
    seq = nn.Sequential(OrderedDict(conv=nn.Conv2d(1, 2, 3), body=nn.Sequential(nn.Tanh())))
    assert repr(seq) == (
        "Sequential(\n  (conv): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))\n"
        "  (body): Sequential(\n    (0): Tanh()\n  )\n)"
    )


def test_repr_equals_torch():
    torch = pytest.importorskip("torch")
    for make in (
        lambda m: m.Sequential(m.Linear(2, 3), m.ReLU(), m.Dropout(0.2), m.Flatten()),
        lambda m: m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.BatchNorm2d(4), m.MaxPool2d(2)),
        lambda m: m.LSTM(3, 4, num_layers=2, batch_first=True),
        lambda m: m.ModuleDict({"a": m.LayerNorm(4), "b": m.Embedding(10, 3)}),
    ):
        assert repr(make(nn)) == repr(make(torch.nn))


def test_train_eval_apply_zero_grad_hooks():
    net = Net()
    assert net.training and net.fc1.training
    net.eval()
    assert not net.training and not net.fc1.training
    net.train()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Net"]
    out = net(gk.randn(5, 4)).sum()
    out.backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    calls = []
    handle = net.fc1.register_forward_hook(lambda m, args, out: calls.append(tuple(out.shape)))
    pre = net.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    y = net(gk.randn(2, 4))
    assert calls == [(2, 3)]
    handle.remove()
    pre.remove()
    net(gk.randn(2, 4))
    assert calls == [(2, 3)]
    np.testing.assert_allclose(y.detach().numpy(), net(gk.zeros(2, 4)).detach().numpy())


def test_state_dict_roundtrip_and_errors():
    a, b = Net(), Net()
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = gk.randn(3, 4)
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    sd = a.state_dict()
    assert not sd["fc1.weight"].requires_grad
    del sd["fc1.bias"]
    sd["extra"] = gk.zeros(1)
    with pytest.raises(RuntimeError) as err:
        b.load_state_dict(sd)
    assert str(err.value) == (
        "Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: "
        '"fc1.bias". \n\tUnexpected key(s) in state_dict: "extra". '
    )
    keys = b.load_state_dict(sd, strict=False)
    assert keys.missing_keys == ["fc1.bias"] and keys.unexpected_keys == ["extra"]
    sd = a.state_dict()
    sd["fc1.weight"] = gk.zeros(2, 4)
    with pytest.raises(
        RuntimeError,
        match=r"size mismatch for fc1.weight: copying a param with shape "
        r"torch.Size\(\[2, 4\]\) from checkpoint, the shape in current "
        r"model is torch.Size\(\[3, 4\]\).",
    ):
        b.load_state_dict(sd, strict=False)


def test_state_dict_error_text_matches_torch():
    torch = pytest.importorskip("torch")
    sd = {"weight": np.zeros((2, 3), np.float32), "junk": np.zeros(1, np.float32)}
    with pytest.raises(RuntimeError) as ours:
        nn.Linear(3, 2).load_state_dict({k: gk.tensor(v) for k, v in sd.items()})
    with pytest.raises(RuntimeError) as ref:
        torch.nn.Linear(3, 2).load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    assert str(ours.value) == str(ref.value)


def test_default_init_bounds_and_dtype():
    gk.manual_seed(0)
    lin = nn.Linear(100, 50)
    assert lin.weight.dtype == gk.float32
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= 0.1 and np.abs(w).max() > 0.09
    conv = nn.Conv2d(4, 8, 3)
    assert np.abs(conv.weight.detach().numpy()).max() <= 1 / 6
    t = gk.empty(200, 300)
    init.xavier_uniform_(t)
    assert np.abs(t.numpy()).max() <= math.sqrt(6 / 500)
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(t.numpy().std() - math.sqrt(2 / 200)) < 0.005
    init.zeros_(t)
    assert float(t.abs().sum()) == 0
    assert init.calculate_gain("tanh") == 5 / 3 and init.calculate_gain("relu") == math.sqrt(2)
    q = init.orthogonal_(gk.empty(4, 6))
    np.testing.assert_allclose(q.numpy() @ q.numpy().T, np.eye(4), atol=1e-5)
    g1, g2 = gk.Generator().manual_seed(3), gk.Generator().manual_seed(3)
    np.testing.assert_array_equal(
        init.normal_(gk.empty(3), generator=g1).numpy(), init.normal_(gk.empty(3), generator=g2).numpy()
    )


def _copy_from_torch(ours, theirs):
    ours.load_state_dict({k: gk.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


@pytest.mark.parametrize(
    "name",
    [
        "linear",
        "conv1d",
        "conv2d",
        "pool",
        "bn1d",
        "bn2d",
        "ln",
        "emb",
        "rnn",
        "rnn_relu",
        "lstm",
        "gru",
        "gru_unbatched",
    ],
)
def test_layers_match_torch_forward_and_backward(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    specs = {
        "linear": (lambda m: m.Linear(5, 3), (4, 5)),
        "conv1d": (lambda m: m.Conv1d(2, 3, 3, stride=2, padding=1), (2, 2, 9)),
        "conv2d": (lambda m: m.Conv2d(2, 4, 3, padding=1, groups=2), (2, 2, 6, 6)),
        "pool": (lambda m: m.Sequential(m.MaxPool2d(2), m.AvgPool2d(2, 1), m.Flatten()), (2, 3, 6, 6)),
        "bn1d": (lambda m: m.BatchNorm1d(3), (6, 3)),
        "bn2d": (lambda m: m.BatchNorm2d(3, momentum=None), (4, 3, 2, 2)),
        "ln": (lambda m: m.LayerNorm([3, 4]), (2, 3, 4)),
        "rnn": (lambda m: m.RNN(3, 4, num_layers=2, bidirectional=True), (5, 2, 3)),
        "rnn_relu": (lambda m: m.RNN(3, 4, nonlinearity="relu", batch_first=True), (2, 5, 3)),
        "lstm": (lambda m: m.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True), (2, 5, 3)),
        "gru": (lambda m: m.GRU(3, 4, num_layers=2), (5, 2, 3)),
        "gru_unbatched": (lambda m: m.GRU(3, 4, bidirectional=True), (5, 3)),
    }
    if name == "emb":
        ref, ours = torch.nn.Embedding(10, 3, padding_idx=0), nn.Embedding(10, 3, padding_idx=0)
        _copy_from_torch(ours, ref)
        idx = np.array([[0, 2, 5], [9, 2, 1]])
        yr, yo = ref(torch.tensor(idx)), ours(gk.tensor(idx))
        yr.pow(2).sum().backward()
        yo.pow(2).sum().backward()
        np.testing.assert_allclose(ours.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-5)
        return
    make, shape = specs[name]
    ref, ours = make(torch.nn), make(nn)
    _copy_from_torch(ours, ref)
    x = rng.standard_normal(shape).astype(np.float32)
    xr, xo = torch.tensor(x, requires_grad=True), gk.tensor(x, requires_grad=True)
    yr, yo = ref(xr), ours(xo)
    if isinstance(yr, tuple):
        hr, ho = yr[1], yo[1]
        if isinstance(hr, tuple):
            np.testing.assert_allclose(ho[1].detach().numpy(), hr[1].detach().numpy(), rtol=1e-4, atol=1e-5)
            hr, ho = hr[0], ho[0]
        np.testing.assert_allclose(ho.detach().numpy(), hr.detach().numpy(), rtol=1e-4, atol=1e-5)
        yr, yo = yr[0], yo[0]
    np.testing.assert_allclose(yo.detach().numpy(), yr.detach().numpy(), rtol=1e-4, atol=1e-5)
    (yr * yr).sum().backward()
    (yo * yo).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xr.grad.numpy(), rtol=1e-3, atol=1e-4)
    for (n, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-3, atol=1e-4, err_msg=n)
    for (n, b), (_, c) in zip(ours.named_buffers(), ref.named_buffers()):
        np.testing.assert_allclose(b.numpy(), c.numpy(), rtol=1e-5, atol=1e-6, err_msg=n)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]


def test_batchnorm_eval_uses_running_stats():
    bn = nn.BatchNorm1d(2)
    x = gk.tensor([[1.0, 2.0], [3.0, 6.0]])
    bn(x)
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.2, 0.4], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), [0.9 + 0.2, 0.9 + 0.8], rtol=1e-6)
    assert int(bn.num_batches_tracked.item()) == 1
    bn.eval()
    y = bn(x)
    expected = (x.numpy() - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + 1e-5)
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(2)(x)


def test_dropout_modes():
    d = nn.Dropout(0.5)
    x = gk.ones(1000)
    y = d(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 300 < (y == 0).sum() < 700
    d.eval()
    assert d(x) is x


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and len(seq[:2]) == 2
    seq.append(nn.Sigmoid())
    assert seq(gk.randn(4, 2)).shape == (4, 1)
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.Tanh())
    assert len(ml) == 4 and len(list(ml.parameters())) == 6
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.ReLU()
    assert list(md.keys()) == ["a", "b"] and "a" in md
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]


def test_loss_modules_match_functional():
    F = nn.functional
    x = gk.randn(4, 3)
    t = gk.tensor([0, 2, 1, 2])
    assert float(nn.CrossEntropyLoss()(x, t)) == pytest.approx(float(F.cross_entropy(x, t)))
    assert float(nn.NLLLoss()(F.log_softmax(x, 1), t)) == pytest.approx(float(F.cross_entropy(x, t)))
    y = gk.randn(4, 3)
    assert float(nn.MSELoss(reduction="sum")(x, y)) == pytest.approx(float(((x - y) ** 2).sum()), rel=1e-5)
    assert float(nn.L1Loss()(x, y)) == pytest.approx(float((x - y).abs().mean()), rel=1e-5)
    assert float(nn.BCEWithLogitsLoss()(x, y.sigmoid())) == pytest.approx(
        float(F.binary_cross_entropy(x.sigmoid(), y.sigmoid())), rel=1e-4
    )


def test_activation_modules():
    x = gk.tensor([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), [0, 0, 3])
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).numpy(), [-0.2, 0, 3], rtol=1e-6)
    np.testing.assert_allclose(nn.Softmax(dim=0)(x).numpy().sum(), 1.0, rtol=1e-6)
    assert repr(nn.LeakyReLU(0.1)) == "LeakyReLU(negative_slope=0.1)"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"


def test_module_to_double():
    lin = nn.Linear(2, 2).double()
    assert lin.weight.dtype == gk.float64
    assert lin(gk.randn(3, 2, dtype=gk.float64)).dtype == gk.float64


def test_clip_grad_norm_and_value_match_torch():
    g = [np.array([3.0, 4.0]), np.array([[12.0]])]
    ps = [nn.Parameter(gk.zeros(*a.shape)) for a in g]
    for p, a in zip(ps, g):
        p.grad = gk.tensor(a, dtype=gk.float32)
    total = U.clip_grad_norm_(ps, 1.0)
    assert float(total) == pytest.approx(13.0)
    np.testing.assert_allclose(ps[0].grad.numpy(), np.array([3, 4]) / (13 + 1e-6), rtol=1e-6)
    for p, a in zip(ps, g):
        p.grad = gk.tensor(a, dtype=gk.float32)
    assert float(U.clip_grad_norm_(ps, 100.0, norm_type="inf")) == 12.0
    U.clip_grad_value_(ps, 3.5)
    np.testing.assert_allclose(ps[0].grad.numpy(), [3.0, 3.5])
    ps[0].grad = gk.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        U.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    torch = pytest.importorskip("torch")
    tp = [torch.nn.Parameter(torch.zeros(a.shape)) for a in g]
    for p, a in zip(tp, g):
        p.grad = torch.tensor(a, dtype=torch.float32)
    for p, a in zip(ps, g):
        p.grad = gk.tensor(a, dtype=gk.float32)
    assert float(torch.nn.utils.clip_grad_norm_(tp, 2.0, 3.0)) == pytest.approx(
        float(U.clip_grad_norm_(ps, 2.0, 3.0))
    )
    np.testing.assert_allclose(ps[1].grad.numpy(), tp[1].grad.numpy(), rtol=1e-6)


def test_parameters_vector_roundtrip():
    net = Net()
    vec = U.parameters_to_vector(net.parameters())
    assert vec.shape == (4 * 3 + 3 + 3 * 2,)
    U.vector_to_parameters(gk.arange(21.0), net.parameters())
    np.testing.assert_array_equal(net.fc1.bias.detach().numpy(), [12.0, 13.0, 14.0])


# --- examples, at small size ---------------------------------------------------
def _example(name):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_gradient_descent(capsys):
    by_hand, with_sgd = _example("gradient_descent").main(["--steps", "4"])
    assert by_hand == with_sgd
    np.testing.assert_allclose(by_hand, [1.0, 0.2, 0.04, 0.008], rtol=1e-6)
    assert "step 1: w = 1.000000, loss = 25.000000" in capsys.readouterr().out


@pytest.mark.parametrize("name, epochs, floor", [("digits_mlp", 3, 0.85), ("digits_cnn", 1, 0.5)])
def test_example_digits_small(name, epochs, floor, tmp_path, capsys):
    pytest.importorskip("sklearn")
    result = _example(name).main(["--epochs", str(epochs), "--out", str(tmp_path)])
    assert result["test_acc"] >= floor
    assert (tmp_path / f"{name}.gk").exists()
    assert "[" + "#" * 30 + "]" in capsys.readouterr().out
    if result["png"] is not None:
        assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
