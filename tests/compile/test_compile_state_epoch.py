"""A compiled training step whose state did not change skips the walk over it, and never
replays over a change.

``gradkit.compile`` walks everything a function reaches on a call (the walk is the guard). When
the last walk met only state it can check cheaply, the next call checks instead: the same
objects at the roots (arguments, closure cells, globals, defaults), every container the walk met
holding the same objects, and the state epoch (``gradkit._core.epoch``) unmoved, which every
write to a tensor's hook tables moves. These tests change the state of a training
step in every way we know of between calls, on a compiled step and on an eager twin built the
same way, and compare the two bit for bit after every call.
"""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import gradkit as gk

LOSS_SCALE = 1.0


class _Net(gk.nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = gk.nn.Linear(4, 8)
        self.bn = gk.nn.BatchNorm1d(8)
        self.l2 = gk.nn.Linear(8, 2)
        self.gain = 1.0

    def forward(self, x):
        out = self.l2(gk.tanh(self.bn(self.l1(x)))) * self.gain
        off = self._buffers.get("offset")
        if off is not None:
            out = out + off
        shift = self._parameters.get("shift")
        if shift is not None:
            out = out + shift
        return out


class _Side:
    """A model, its optimizer and scheduler, and a step reading state through a closure (a
    dict, a rebindable cell) and a global."""

    def __init__(self, compiled):
        gk.manual_seed(0)
        self.net = _Net()
        self.opt = gk.optim.SGD(self.net.parameters(), lr=0.1, momentum=0.9)
        self.sched = gk.optim.lr_scheduler.StepLR(self.opt, step_size=1, gamma=0.5)
        self.box = {"none": True}
        net, opt, box = self.net, self.opt, self.box
        scale = 1.0

        def set_scale(v):
            nonlocal scale
            scale = v

        def step(x, y):
            opt.zero_grad(set_to_none=box["none"])
            loss = ((net(x) - y) ** 2).mean() * scale * LOSS_SCALE
            loss.backward()
            opt.step()
            return loss
        self.set_scale = set_scale
        self.step = gk.compile(step) if compiled else step
        self.walks = 0
        if compiled:
            walk = self.step._scan_state

            def counted(*a, **k):
                self.walks += bool(k.get("record"))      # a call's walk, not a trace's
                return walk(*a, **k)
            self.step._scan_state = counted


def _layer(seed, a, b):
    gk.manual_seed(seed)
    return gk.nn.Linear(a, b)


def _load_with_lr(s):
    sd = s.opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.02
    s.opt.load_state_dict(sd)


def _add_shift(s):
    p = gk.nn.Parameter(gk.full((2,), 0.125))
    s.net.shift = p
    s.opt.add_param_group({"params": [p], "lr": 0.3})


def _gain_from_class(s):
    vars(s.net).pop("gain", None)              # then read from the class
    type(s.net).gain = 0.75


def _set_global(v):
    globals()["LOSS_SCALE"] = v


#: (name, change): each applied to both twins between calls
MUTATIONS = [
    ("lr by hand", lambda s: s.opt.param_groups[0].__setitem__("lr", 0.05)),
    ("lr by a scheduler", lambda s: s.sched.step()),
    ("momentum edited", lambda s: s.opt.param_groups[0].__setitem__("momentum", 0.5)),
    ("weight_decay edited", lambda s: s.opt.param_groups[0].update(weight_decay=0.01)),
    ("nesterov on", lambda s: s.opt.param_groups[0].update(nesterov=True, dampening=0.0)),
    ("eval()", lambda s: s.net.eval()),
    ("train()", lambda s: s.net.train()),
    ("bn.training by hand", lambda s: setattr(s.net.bn, "training", not s.net.bn.training)),
    ("parameter replaced", lambda s: setattr(s.net.l2, "weight",
                                             gk.nn.Parameter(gk.full((2, 8), 0.1)))),
    ("p.data reassigned", lambda s: setattr(s.net.l1.weight, "data", gk.full((8, 4), 0.05))),
    ("p.data written in place", lambda s: s.net.l1.weight.data.mul_(0.5)),
    ("requires_grad off", lambda s: s.net.l1.bias.requires_grad_(False)),
    ("requires_grad on", lambda s: s.net.l1.bias.requires_grad_(True)),
    ("a global rebound", lambda s: _set_global(LOSS_SCALE * 0.5)),
    ("a closure cell rebound", lambda s: s.set_scale(2.0)),
    ("optimizer state cleared", lambda s: s.opt.state.clear()),
    ("optimizer state replaced", lambda s: setattr(s.opt, "state",
                                                   collections.defaultdict(dict))),
    ("zero_grad to zeros", lambda s: s.box.__setitem__("none", False)),
    ("zero_grad to None", lambda s: s.box.__setitem__("none", True)),
    ("a module attribute set", lambda s: setattr(s.net, "gain", 0.5)),
    ("a module attribute written into vars()", lambda s: vars(s.net).__setitem__("gain", 2.0)),
    ("object.__setattr__ on a module", lambda s: object.__setattr__(s.net, "gain", 1.5)),
    ("a submodule replaced in _modules", lambda s: s.net._modules.__setitem__(
        "l2", _layer(3, 8, 2))),
    ("a bias dropped through _parameters", lambda s: s.net.l2._parameters.__setitem__(
        "bias", None)),
    ("a buffer registered", lambda s: s.net.register_buffer("offset", gk.full((2,), 0.25))),
    ("a buffer written in place", lambda s: s.net.bn.running_var.mul_(2.0)),
    ("a parameter group added", _add_shift),
    ("load_state_dict", _load_with_lr),
    ("a param group replaced", lambda s: s.opt.param_groups.__setitem__(
        0, dict(s.opt.param_groups[0], lr=0.03))),
    ("a group's params list edited", lambda s: s.opt.param_groups[0]["params"].pop()),
    ("an optimizer attribute set", lambda s: setattr(s.opt, "defaults",
                                                     dict(s.opt.defaults, lr=1.0))),
    ("a module dict entry deleted", lambda s: _gain_from_class(s)),
]


def _compare(a, b):
    for (n, p), (_, q) in zip(a.net.state_dict().items(), b.net.state_dict().items()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy(), equal_nan=True), n
    for p, q in zip(a.net.parameters(), b.net.parameters()):
        assert (p.grad is None) == (q.grad is None)
        if p.grad is not None:
            assert np.array_equal(p.grad.numpy(), q.grad.numpy())


def _run(order, calls, rng):
    old = LOSS_SCALE
    had_gain = "gain" in vars(_Net)
    try:
        eager, comp = _Side(False), _Side(True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gk.compile.TraceWarning)
            for i, (name, change) in enumerate(order):
                change(eager)
                change(comp)
                for _ in range(calls[i]):
                    x = gk.tensor(rng.normal(size=(6, 4)).astype(np.float32))
                    y = gk.tensor(rng.normal(size=(6, 2)).astype(np.float32))
                    le, lc = eager.step(x, y), comp.step(x, y)
                    assert np.array_equal(le.detach().numpy(), lc.detach().numpy()), \
                        f"after {name!r}"
                    _compare(eager, comp)
        return comp
    finally:
        _set_global(old)
        if not had_gain and "gain" in vars(_Net):
            del _Net.gain


@pytest.mark.parametrize("name", [n for n, _ in MUTATIONS])
def test_each_change_is_seen(name):
    rng = np.random.default_rng(3)
    change = dict(MUTATIONS)[name]
    comp = _run([("start", lambda s: None), (name, change)], [3, 3], rng)
    assert comp.step.stats["replays"] >= 1


def test_every_change_is_seen():
    rng = np.random.default_rng(0)
    comp = _run([("start", lambda s: None)] + MUTATIONS, [3] * (len(MUTATIONS) + 1), rng)
    assert comp.step.stats["replays"] > len(MUTATIONS)


@pytest.mark.parametrize("seed", range(12))
def test_random_changes_are_seen(seed):
    rng = np.random.default_rng(seed)
    picks = rng.integers(len(MUTATIONS), size=10)
    _run([("start", lambda s: None)] + [MUTATIONS[i] for i in picks],
         [3] + [int(c) for c in rng.integers(1, 4, size=10)], rng)


def test_unchanged_state_is_checked_not_walked():
    rng = np.random.default_rng(1)
    s = _Side(True)
    x = gk.tensor(rng.normal(size=(6, 4)).astype(np.float32))
    y = gk.tensor(rng.normal(size=(6, 2)).astype(np.float32))
    for _ in range(3):
        s.step(x, y)
    walks = s.walks
    for _ in range(5):
        s.step(x, y)
    assert s.walks == walks                      # checked, not walked
    s.opt.param_groups[0]["lr"] = 0.01           # a plain dict's value: its check fails
    s.step(x, y)
    assert s.walks == walks + 1
    s.net.l1.register_forward_pre_hook(lambda m, a: None).remove()     # as it was
    s.step(x, y)
    assert s.walks == walks + 1
    s.net.l1.weight.register_hook(lambda g: None).remove()            # moves the epoch
    s.step(x, y)
    assert s.walks == walks + 2
    s.step(x, y)
    assert s.walks == walks + 2


@pytest.mark.parametrize("kind", ["module forward hook", "module pre-hook", "tensor hook",
                                  "post-accumulate hook"])
def test_hooks_added_after_compiling_are_called(kind):
    """A hook added after the step was traced is called (the step then runs eagerly): the
    replay never skips it."""
    rng = np.random.default_rng(2)
    eager, comp = _Side(False), _Side(True)
    x = gk.tensor(rng.normal(size=(6, 4)).astype(np.float32))
    y = gk.tensor(rng.normal(size=(6, 2)).astype(np.float32))
    for _ in range(3):
        eager.step(x, y)
        comp.step(x, y)
    calls = {"eager": 0, "comp": 0}

    def add(s, who):
        def count(*a):
            calls[who] += 1
        if kind == "module forward hook":
            s.net.l2.register_forward_hook(lambda m, a, o: count() or o * 0.5)
        elif kind == "module pre-hook":
            s.net.l1.register_forward_pre_hook(lambda m, a: count())
        elif kind == "tensor hook":
            s.net.l1.weight.register_hook(lambda g: count() or g * 2.0)
        else:
            s.net.l2.bias.register_post_accumulate_grad_hook(lambda p: count())
    add(eager, "eager")
    add(comp, "comp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gk.compile.TraceWarning)
        for _ in range(3):
            le, lc = eager.step(x, y), comp.step(x, y)
            assert np.array_equal(le.detach().numpy(), lc.detach().numpy())
            _compare(eager, comp)
    assert calls["comp"] == calls["eager"] == 3


def test_plain_containers_and_class_attributes_changed_in_place_are_seen():
    cfg = {}                                    # empty, then filled
    names = set()                               # a set of strings
    tags = []

    class Scaled(gk.nn.Module):
        factor = 2.0

        def __init__(self):
            super().__init__()                  # its __class__ cell: the class is walked

        def forward(self, x):
            out = x * type(self).factor * cfg.get("k", 1.0) * len(tags)
            return out * 3.0 if "a" in names else out

    m = Scaled()
    tags.append(None)

    def f(x):
        return m(x).sum()
    cf = gk.compile(f)
    x = gk.tensor([1.0, 2.0], dtype=gk.float64)
    changes = [lambda: None, lambda: None, lambda: cfg.__setitem__("k", 3.0),
               lambda: names.add("a"), lambda: setattr(Scaled, "factor", 5.0),
               lambda: tags.append(None), lambda: names.discard("a"),
               lambda: cfg.pop("k"), lambda: None]
    for change in changes:
        change()
        assert cf(x).item() == f(x).item()
    assert cf.stats["replays"] >= 2 and cf.stats["eager"] == 0


def test_public_function_wrappers_hold_no_state_to_walk():
    # gradkit's __torch_function__ wrappers (gk.sin is one) are library code over a library
    # function: the walk reads nothing through them (it read their closures on every call)
    from gradkit.compile import _walk
    assert _walk._dispatch_wrapper(gk.sin) and _walk._discover(gk.sin) == []
    y = gk.tensor(2.0)

    def user(x):
        return gk.sin(x) * y
    assert not _walk._dispatch_wrapper(user)
    assert any(get() is y for get in _walk._discover(user))     # the user's state still is
    c = gk.compile(user)
    assert c(gk.tensor(1.0)).item() == pytest.approx(2 * np.sin(1.0), rel=1e-6)
    y.mul_(3.0)                                                  # changed in place: read again
    assert c(gk.tensor(1.0)).item() == pytest.approx(6 * np.sin(1.0), rel=1e-6)
