"""Optimizer hooks and named parameters (PyTorch's optim docs: "Optimizer step hooks", "How to
utilize named parameters to load optimizer state dict"; issue #17).

Expected values are the docs' stated behaviour, checked against torch 2.13 where noted (values
recorded); a live comparison imports torch with ``pytest.importorskip``.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.optim.optimizer import (register_optimizer_step_post_hook,
                                     register_optimizer_step_pre_hook)


def test_step_hooks_order_args_and_removal():
    p = gk.tensor(2.0, requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    calls = []
    h_glob_pre = register_optimizer_step_pre_hook(lambda o, a, k: calls.append("global pre"))
    h_glob_post = register_optimizer_step_post_hook(lambda o, a, k: calls.append("global post"))
    h_pre = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", a[0] is o, k)))
    h_post = opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    try:
        p.grad = gk.tensor(1.0)
        opt.step()
    finally:
        for h in (h_glob_pre, h_glob_post, h_pre, h_post):
            h.remove()
    # torch 2.13 (recorded): global pre, own pre, step, own post, global post; args = (optimizer,)
    assert calls == ["global pre", ("pre", True, {}), "post", "global post"]
    assert float(p) == 1.5
    opt.step()
    assert len(calls) == 4 and float(p) == 1.0


def test_step_pre_hook_may_replace_the_arguments():
    p = gk.tensor(1.0, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    seen = []

    def closure():
        seen.append("closure")
        return gk.tensor(7.0)

    opt.register_step_pre_hook(lambda o, a, k: (a, {"closure": closure}))
    p.grad = gk.tensor(1.0)
    assert float(opt.step()) == 7.0 and seen == ["closure"]
    opt.register_step_pre_hook(lambda o, a, k: 5)
    with pytest.raises(RuntimeError,
                       match=r"must return None or a tuple of \(new_args, new_kwargs\), but got 5."):
        opt.step()


def test_named_parameters_give_param_names():
    model = nn.Linear(3, 4)
    opt = optim.SGD(model.named_parameters(), lr=0.01, momentum=0.9)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.param_groups[0]["params"][0] is model.weight
    groups = opt.state_dict()["param_groups"]
    assert list(groups[0])[0] == "param_names" and list(groups[0])[-1] == "params"
    with pytest.raises(ValueError, match="all optimizer params should be with/without names. "
                                         "Some param names are missing"):
        optim.SGD([("w", model.weight), model.bias], lr=0.1)
    with pytest.raises(ValueError, match="cannot add param group without names to the optimizer"):
        opt.add_param_group({"params": [gk.zeros(1, requires_grad=True)]})


def test_state_dict_hooks_and_load_pre_hook_rewrites_the_dict():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.named_parameters(), lr=0.1, momentum=0.9)
    model(gk.ones(1, 2)).sum().backward()
    opt.step()
    events = []
    opt.register_state_dict_pre_hook(lambda o: events.append("sd pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    sd = opt.state_dict()
    assert sd["extra"] == 1 and events == ["sd pre"]

    other = nn.Linear(2, 1)
    opt2 = optim.SGD([("bias", other.bias), ("weight", other.weight)], lr=0.5, momentum=0.9)

    def by_name(o, state_dict):            # the docs' names_matching, shortened
        assert "extra" in state_dict        # a shallow copy of what was passed
        new = copy.deepcopy(o.state_dict())
        names = state_dict["param_groups"][0]["param_names"]
        for pid, name in zip(new["param_groups"][0]["params"], new["param_groups"][0]["param_names"]):
            saved_id = state_dict["param_groups"][0]["params"][names.index(name)]
            new["state"][pid] = state_dict["state"][saved_id]
        return new

    opt2.register_load_state_dict_pre_hook(by_name)
    opt2.register_load_state_dict_post_hook(lambda o: events.append("load post"))
    opt2.load_state_dict(sd)
    assert events == ["sd pre", "load post"]
    np.testing.assert_array_equal(opt2.state[other.bias]["momentum_buffer"].numpy(), [1.0])
    np.testing.assert_array_equal(opt2.state[other.weight]["momentum_buffer"].numpy(), [[1.0, 1.0]])
    assert opt2.param_groups[0]["lr"] == 0.5          # the hook kept its own groups
    assert "extra" in sd


def test_load_keeps_param_names_when_the_saved_dict_has_none():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.named_parameters(), lr=0.1)
    sd = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.3).state_dict()
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"] and opt.param_groups[0]["lr"] == 0.3


def test_deepcopy_keeps_working_without_hooks():
    p = gk.tensor(1.0, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    opt.register_step_pre_hook(lambda o, a, k: None)
    dup = copy.deepcopy(opt)
    assert len(dup._optimizer_step_pre_hooks) == 0
    dup.register_step_post_hook(lambda o, a, k: None)


def test_named_parameters_state_dict_matches_torch():
    torch = pytest.importorskip("torch")
    out = []
    for lib in (torch, gk):
        model = lib.nn.Linear(3, 4)
        opt = lib.optim.SGD(model.named_parameters(), lr=0.01, momentum=0.9)
        out.append(opt.state_dict()["param_groups"])
    assert out[0] == out[1]
