"""Module API odds (traversal, lookup by path, dtype casts, modes, grads) and the device
helpers; messages recorded from PyTorch 2.13 and compared with a live torch when installed."""

from __future__ import annotations

import pytest

import gradkit as gk


def _net(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
            self.register_buffer("b", lib.zeros(2))
            self.register_buffer("nb", lib.ones(1), persistent=False)
            self.register_buffer("count", lib.tensor(0))

        def forward(self, x):
            return self.seq(self.fc(x))
    return Net()


def _outcome(f):
    try:
        r = f()
    except Exception as e:  # noqa: BLE001 - the type and the message are compared
        return type(e).__name__, str(e)
    return "ok", r


def _trace(lib):
    n = _net(lib)
    nn = lib.nn
    applied = []
    out = {
        "named_modules": [k for k, _ in n.named_modules()],
        "named_modules_prefix": [k for k, _ in n.named_modules(prefix="m")],
        "named_children": [k for k, _ in n.named_children()],
        "named_buffers": [k for k, _ in n.named_buffers()],
        "named_buffers_local": [k for k, _ in n.named_buffers(recurse=False)],
        "state_keys": list(n.state_dict()),
        "shared": [k for k, _ in nn.Sequential(n.fc, n.fc).named_modules()],
        "shared_all": [k for k, _ in nn.Sequential(n.fc, n.fc).named_modules(remove_duplicate=False)],
        "get_submodule": repr(n.get_submodule("seq.0")),
        "get_parameter": tuple(n.get_parameter("seq.0.bias").shape),
        "get_buffer": n.get_buffer("b").tolist(),
        "apply": (n.apply(lambda m: applied.append(type(m).__name__)), applied)[1],
        "half": (n.half().fc.weight.dtype, n.b.dtype, n.count.dtype),
        "double": (n.double().fc.weight.dtype, n.b.dtype, n.count.dtype),
        "to_dtype": str(n.to(lib.float32).fc.weight.dtype),
        "train": (n.train(False) is n, n.training, n.seq[0].training),
        "eval": (n.eval().training, n.train().training),
        "requires_grad_": [p.requires_grad for p in n.requires_grad_(False).parameters()],
    }
    n.requires_grad_(True)
    n(lib.ones(1, 2)).sum().backward()
    n.zero_grad(set_to_none=False)
    out["zero_grad_keep"] = n.fc.weight.grad.tolist()
    n.zero_grad()
    out["zero_grad"] = n.fc.weight.grad
    n.set_submodule("seq.1", nn.Tanh())
    out["set_submodule"] = repr(n.seq)
    out["extra_repr"] = n.fc.extra_repr()
    for name, f in [
        ("sub_missing", lambda: n.get_submodule("seq.5")),
        ("sub_not_module", lambda: n.get_submodule("fc.weight")),
        ("param_missing", lambda: n.get_parameter("seq.0.nope")),
        ("param_not_param", lambda: n.get_parameter("b")),
        ("buffer_not_buffer", lambda: n.get_buffer("fc.weight")),
        ("to_int", lambda: n.to(lib.int32)),
        ("train_not_bool", lambda: n.train(1)),
        ("buffer_not_tensor", lambda: n.register_buffer("x", 3)),
        ("buffer_exists", lambda: n.register_buffer("fc", lib.zeros(1))),
        ("param_not_param_reg", lambda: n.register_parameter("p", lib.zeros(1))),
        ("set_submodule_empty", lambda: n.set_submodule("", nn.ReLU())),
        ("set_submodule_strict", lambda: n.set_submodule("seq.zz", nn.ReLU(), strict=True)),
    ]:
        out[name] = _outcome(f)
    out["after_to_int"] = str(n.fc.weight.dtype)          # a refused cast changed nothing
    return {k: (str(v) if "dtype" in type(v).__name__ else v) for k, v in out.items()}


def test_module_api_messages_recorded():
    got = _trace(gk)
    assert got["to_int"] == ("TypeError", "nn.Module.to only accepts floating point or complex "
                                          "dtypes, but got desired dtype=torch.int32")
    assert got["after_to_int"] == "torch.float32"
    assert got["sub_not_module"] == ("AttributeError", "`weight` is not an nn.Module")
    assert got["sub_missing"] == ("AttributeError", "Sequential has no attribute `5`")
    assert got["param_not_param"] == ("AttributeError", "`b` is not an nn.Parameter")
    assert got["buffer_not_buffer"] == ("AttributeError", "`weight` is not a buffer")
    assert got["param_not_param_reg"] == (
        "TypeError", "cannot assign 'torch.FloatTensor' object to parameter 'p' "
                     "(torch.nn.Parameter or None required)")
    assert got["half"] == (gk.float16, gk.float16, gk.int64)
    assert got["zero_grad_keep"] == [[0.0, 0.0], [0.0, 0.0]] and got["zero_grad"] is None
    assert got["state_keys"] == ["b", "count", "fc.weight", "fc.bias", "seq.0.weight",
                                 "seq.0.bias"]


def test_module_api_same_as_live_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _trace(gk), _trace(torch)
    for key in theirs:
        a, b = ours[key], theirs[key]
        if key in ("half", "double"):
            a, b = tuple(map(str, a)), tuple(map(str, b))
        assert a == b, key


def test_accelerator_and_default_device():
    import gradkit as torch  # the spelling users write
    if not torch.cuda.is_available():
        assert torch.accelerator.is_available() is False
        assert torch.accelerator.current_accelerator() is None
        assert torch.accelerator.device_count() == 0
        with pytest.raises(RuntimeError, match="^Cannot access accelerator device when none is "
                                               "available.$"):
            torch.accelerator.current_device_index()
    assert repr(torch.get_default_device()) == "device(type='cpu')"
    torch.set_default_device("cpu")
    torch.set_default_device(None)
    assert torch.get_default_device() == "cpu"
    with pytest.raises(NotImplementedError, match="only 'cpu' and 'meta' are supported"):
        torch.set_default_device("cuda")        # refused, not silently ignored
    assert torch.zeros(1).device == "cpu"
