"""Optimizers and schedulers: updates equal PyTorch's (recorded values, and live torch when installed)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit import optim
from gradkit.optim import lr_scheduler as sched

CASES = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum": ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    "sgd_nesterov_max": ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, maximize=True)),
    "adam": ("Adam", dict(lr=0.1)),
    "adam_l2_amsgrad": ("Adam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    "adamw": ("AdamW", dict(lr=0.1)),
    "adamw_amsgrad_max": ("AdamW", dict(lr=0.05, weight_decay=0.2, amsgrad=True, maximize=True)),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop_centered_mom": ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    "adagrad": ("Adagrad", dict(lr=0.1)),
    "adagrad_decay": ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
}
W0 = np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0]])
B0 = np.array([0.1, -0.2])
X = np.array([[1.0, 2.0, -1.0], [0.5, -0.5, 1.5], [2.0, 0.0, 1.0], [-1.0, 1.0, 0.5]])
Y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, -0.5]])


def loss(lib, w, b):
    r = lib.tensor(X, dtype=w.dtype) @ w + b - lib.tensor(Y, dtype=w.dtype)
    return (r * r).mean() + lib.sin(w).sum() * 0.1


# Parameters after 5 steps of torch.optim (float64), recorded with PyTorch 2.13.
RECORDED = {
    "sgd": (
        [
            [0.375740817918, -0.361738923771],
            [0.823301002792, 0.475006193171],
            [-0.229279330673, 1.545553872071],
        ],
        [0.008154477249, -0.25265266007],
    ),
    "sgd_momentum": (
        [
            [0.211230306525, 0.501011078668],
            [-0.065475924937, 0.739603781069],
            [0.462033552953, 0.894101641737],
        ],
        [-0.093723755736, -0.35763342238],
    ),
    "sgd_nesterov_max": (
        [
            [0.860039037646, -2.648516965907],
            [3.430193909406, -0.6150214223],
            [-2.204604018412, 2.927092644308],
        ],
        [0.521204234398, -0.41748015734],
    ),
    "adam": (
        [
            [0.225055635504, -0.506263155271],
            [1.012078134213, 0.698717543075],
            [-0.254834437449, 1.510700479921],
        ],
        [-0.219598379819, -0.392314598469],
    ),
    "adam_l2_amsgrad": (
        [
            [0.28188393527, -0.751548015619],
            [1.252236397823, 0.490518271183],
            [-0.501015632657, 1.751570056396],
        ],
        [-0.11942093441, -0.230745954071],
    ),
    "adamw": (
        [
            [0.224606261837, -0.502325851357],
            [1.005756029002, 0.695957250178],
            [-0.252187898278, 1.501896543011],
        ],
        [-0.217632544641, -0.39105530275],
    ),
    "adamw_amsgrad_max": (
        [
            [0.721005361295, -1.196858418512],
            [1.672347289043, -0.008359941328],
            [-0.958695481113, 2.147458001332],
        ],
        [0.340889997799, -0.421015410751],
    ),
    "rmsprop": (
        [
            [0.327722867975, -0.691738649761],
            [1.202180899742, 0.511992233933],
            [-0.441580260537, 1.701745591966],
        ],
        [-0.092089665787, -0.313294978754],
    ),
    "rmsprop_centered_mom": (
        [
            [0.152938734671, -0.123423666675],
            [0.658769888769, 0.819925152673],
            [0.137729391904, 1.131638498915],
        ],
        [-0.247100700144, -0.507322513971],
    ),
    "adagrad": (
        [
            [0.327932208717, -0.693030341303],
            [1.203420812033, 0.510899336459],
            [-0.442829219945, 1.702937630085],
        ],
        [-0.091712831608, -0.312323767949],
    ),
    "adagrad_decay": (
        [
            [0.366733875821, -0.741549976554],
            [1.242409181763, 0.437470386219],
            [-0.496188002395, 1.751933248321],
        ],
        [-0.019392348208, -0.210251483955],
    ),
}
# LBFGS(lr=1, max_iter=10, history_size=5), two steps: W, b, func_evals, n_iter.
RECORDED_LBFGS = {
    None: (
        [
            [-0.114901763177, 0.033989881867],
            [-1.30531751229, -1.844946170158],
            [-1.586697507035, -1.431147762187],
        ],
        [2.307982044851, 2.220435232602],
        20,
        20,
    ),
    "strong_wolfe": (
        [
            [-0.112110066375, 0.034492261977],
            [-1.310805628383, -1.848283573987],
            [-1.593419128015, -1.433734004572],
        ],
        [2.314905102624, 2.225246801444],
        23,
        20,
    ),
}


def _params(lib=gk):
    return lib.tensor(W0, requires_grad=True), lib.tensor(B0, requires_grad=True)


def _run(lib, cls, kw, steps=5):
    w, b = _params(lib)
    opt = getattr(lib.optim, cls)([w, b], **kw)
    for _ in range(steps):
        opt.zero_grad()
        loss(lib, w, b).backward()
        opt.step()
    return w, b, opt


@pytest.mark.parametrize("name", list(CASES))
def test_matches_recorded_pytorch(name):
    cls, kw = CASES[name]
    w, b, _ = _run(gk, cls, kw)
    rw, rb = RECORDED[name]
    np.testing.assert_allclose(w.detach().numpy(), rw, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(b.detach().numpy(), rb, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", list(CASES))
def test_matches_live_torch_float32(name):
    torch = pytest.importorskip("torch")
    cls, kw = CASES[name]
    wt = torch.tensor(W0, dtype=torch.float32, requires_grad=True)
    bt = torch.tensor(B0, dtype=torch.float32, requires_grad=True)
    w = gk.tensor(W0, dtype=gk.float32, requires_grad=True)
    b = gk.tensor(B0, dtype=gk.float32, requires_grad=True)
    ot = getattr(torch.optim, cls)([wt, bt], **kw)
    og = getattr(optim, cls)([w, b], **kw)
    for _ in range(8):
        ot.zero_grad()
        og.zero_grad()
        loss(torch, wt, bt).backward()
        loss(gk, w, b).backward()
        ot.step()
        og.step()
        # same gradients in, so compare one step at a time
        np.testing.assert_allclose(w.detach().numpy(), wt.detach().numpy(), rtol=2e-5, atol=2e-6)
        w.data = gk.tensor(wt.detach().numpy())
        b.data = gk.tensor(bt.detach().numpy())
    assert w.dtype == gk.float32
    st, sg = ot.state_dict()["state"], og.state_dict()["state"]
    for k in st:
        for key, v in st[k].items():
            np.testing.assert_allclose(np.asarray(sg[k][key]), v.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("ls", [None, "strong_wolfe"])
def test_lbfgs_matches_recorded(ls):
    w, b = _params()
    opt = optim.LBFGS([w, b], lr=1, max_iter=10, line_search_fn=ls, history_size=5)

    def closure():
        opt.zero_grad()
        value = loss(gk, w, b)
        value.backward()
        return value

    first = opt.step(closure)
    opt.step(closure)
    rw, rb, evals, iters = RECORDED_LBFGS[ls]
    np.testing.assert_allclose(w.detach().numpy(), rw, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(b.detach().numpy(), rb, rtol=1e-7, atol=1e-9)
    assert (opt.state[w]["func_evals"], opt.state[w]["n_iter"]) == (evals, iters)
    assert isinstance(first, gk.Tensor)


def test_lbfgs_rosenbrock_converges():
    x = gk.tensor([-1.5, 2.0], dtype=gk.float64, requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=100)

    def closure():
        opt.zero_grad()
        f = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        f.backward()
        return f

    opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 1.0], atol=1e-5)


def test_seed_loop_and_sgd_agree():
    w = gk.tensor(5.0, requires_grad=True)
    opt = optim.SGD([w], lr=0.4)
    values = []
    for _ in range(4):
        opt.zero_grad()
        (w**2).backward()
        opt.step()
        values.append(round(w.item(), 6))
    assert values == [1.0, 0.2, 0.04, 0.008]


@pytest.mark.parametrize(
    "cls, kw, message",
    [
        (optim.SGD, dict(lr=-0.1), "Invalid learning rate: -0.1"),
        (optim.Adam, dict(lr=-0.1), "Invalid learning rate: -0.1"),
        (optim.Adam, dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
        (optim.AdamW, dict(eps=-1.0), "Invalid epsilon value: -1.0"),
        (optim.SGD, dict(lr=0.1, momentum=-1), "Invalid momentum value: -1"),
        (optim.SGD, dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        (optim.RMSprop, dict(alpha=-1), "Invalid alpha value: -1"),
        (optim.Adagrad, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
        (optim.LBFGS, dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ],
)
def test_bad_hyperparameters(cls, kw, message):
    with pytest.raises(ValueError, match=f"^{message}$".replace("(", "\\(").replace(")", "\\)")):
        cls([gk.zeros(2, requires_grad=True)], **kw)


def test_param_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    x = gk.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(x, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([x * 2], lr=0.1)
    with pytest.raises(TypeError, match="sets will change"):
        optim.SGD({x}, lr=0.1)
    opt = optim.SGD([x], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [x]})
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        optim.Optimizer([{"params": [x]}], {"lr": optim.optimizer.required})


def test_param_groups_zero_grad_and_add_group():
    a, b = gk.ones(2, requires_grad=True), gk.ones(3, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 1.0}], lr=0.1, momentum=0.5)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]
    assert opt.param_groups[1]["momentum"] == 0.5
    (a.sum() + b.sum()).backward()
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 0.9])
    np.testing.assert_allclose(b.detach().numpy(), [0.0, 0.0, 0.0])
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and float(a.grad.abs().sum()) == 0.0
    opt.zero_grad()
    assert a.grad is None
    c = gk.ones(1, requires_grad=True)
    opt.add_param_group({"params": [c], "lr": 0.5})
    assert opt.param_groups[2]["momentum"] == 0.5 and len(opt.param_groups) == 3
    assert "Parameter Group 2" in repr(opt)


def test_step_runs_under_no_grad_and_closure_under_grad():
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    seen = []

    def closure():
        seen.append(gk.is_grad_enabled())
        opt.zero_grad()
        value = (w * w).sum()
        value.backward()
        return value

    with gk.no_grad():
        out = opt.step(closure)
    assert seen == [True] and float(out) == 5.0
    assert w.grad_fn is None and w.is_leaf


def test_state_dict_roundtrip_continues_identically():
    cls, kw = CASES["adam_l2_amsgrad"]
    w, b, opt = _run(gk, cls, kw, steps=3)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sd["param_groups"][0]["params"] == [0, 1] and set(sd["state"]) == {0, 1}
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    w2, b2 = (
        gk.tensor(w.detach().numpy(), requires_grad=True),
        gk.tensor(b.detach().numpy(), requires_grad=True),
    )
    opt2 = optim.Adam([w2, b2], lr=1.0)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    assert opt2.state[w2]["exp_avg"] is not sd["state"][0]["exp_avg"]  # deep-copied
    for o, (p, q) in ((opt, (w, b)), (opt2, (w2, b2))):
        for _ in range(2):
            o.zero_grad()
            loss(gk, p, q).backward()
            o.step()
    np.testing.assert_allclose(w2.detach().numpy(), RECORDED["adam_l2_amsgrad"][0], rtol=1e-9)
    np.testing.assert_allclose(w.detach().numpy(), w2.detach().numpy())


def test_load_state_dict_errors():
    a, b = gk.ones(2, requires_grad=True), gk.ones(3, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)


def test_state_dict_loads_into_torch():
    torch = pytest.importorskip("torch")
    cls, kw = CASES["sgd_momentum"]
    _, _, opt = _run(gk, cls, kw, steps=2)
    sd = opt.state_dict()
    wt, bt = torch.tensor(W0, requires_grad=True), torch.tensor(B0, requires_grad=True)
    ot = torch.optim.SGD([wt, bt], lr=1.0)
    tsd = {
        "state": {k: {n: torch.tensor(v.numpy()) for n, v in s.items()} for k, s in sd["state"].items()},
        "param_groups": sd["param_groups"],
    }
    ot.load_state_dict(tsd)
    assert ot.param_groups[0]["momentum"] == kw["momentum"]
    assert set(ot.param_groups[0]) == set(opt.param_groups[0])


def test_optimizer_bumps_version_counter():
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    w.grad = gk.ones(2)
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError):
        y.backward()


# --- schedulers ---------------------------------------------------------------
SCHEDULERS = {
    "step": ("StepLR", dict(step_size=3, gamma=0.5)),
    "multistep": ("MultiStepLR", dict(milestones=[2, 5, 5, 8], gamma=0.3)),
    "exponential": ("ExponentialLR", dict(gamma=0.9)),
    "cosine": ("CosineAnnealingLR", dict(T_max=4, eta_min=0.01)),
    "onecycle": ("OneCycleLR", dict(max_lr=1.0, total_steps=12)),
    "onecycle_linear_3": (
        "OneCycleLR",
        dict(max_lr=[1.0, 2.0], total_steps=12, anneal_strategy="linear", three_phase=True),
    ),
}
# lr of group 0 after each of 11 steps (then momentum of group 0), recorded with PyTorch 2.13.
RECORDED_LR = {
    "step": (
        [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125],
        [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9],
    ),
    "multistep": (
        [0.1, 0.1, 0.03, 0.03, 0.03, 0.0027, 0.0027, 0.0027, 0.00081, 0.00081, 0.00081, 0.00081],
        [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9],
    ),
    "exponential": (
        [
            0.1,
            0.09,
            0.081,
            0.0729,
            0.06561,
            0.059049,
            0.0531441,
            0.04782969,
            0.043046721,
            0.0387420489,
            0.03486784401,
            0.031381059609,
        ],
        [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9],
    ),
    "cosine": (
        [
            0.1,
            0.086819805153,
            0.055,
            0.023180194847,
            0.01,
            0.023180194847,
            0.055,
            0.086819805153,
            0.1,
            0.086819805153,
            0.055,
            0.023180194847,
        ],
        [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9],
    ),
    "onecycle": (
        [
            0.04,
            0.34978965422,
            0.879285159122,
            0.994415435451,
            0.933012969841,
            0.81174565395,
            0.647378997695,
            0.462637102667,
            0.283060998209,
            0.133477530189,
            0.034566987425,
            4e-06,
        ],
        [
            0.95,
            0.917730244352,
            0.862574462591,
            0.850558458689,
            0.856698729811,
            0.868825509907,
            0.885262241279,
            0.903736504679,
            0.921694186956,
            0.936652593591,
            0.946543687432,
            0.95,
        ],
    ),
    "onecycle_linear_3": (
        [
            0.04,
            0.409230769231,
            0.778461538462,
            0.852307692308,
            0.483076923077,
            0.113846153846,
            0.034483310345,
            0.027587448276,
            0.020691586207,
            0.013795724138,
            0.006899862069,
            4e-06,
        ],
        [
            0.95,
            0.911538461538,
            0.873076923077,
            0.865384615385,
            0.903846153846,
            0.942307692308,
            0.95,
            0.95,
            0.95,
            0.95,
            0.95,
            0.95,
        ],
    ),
}


def _sched_run(lib, name, steps=11):
    cls, kw = SCHEDULERS[name]
    a, b = lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)
    opt = lib.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1, momentum=0.9)
    sch = getattr(lib.optim.lr_scheduler, cls)(opt, **kw)
    lrs, moms = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["momentum"]]
    for _ in range(steps):
        opt.step()
        sch.step()
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
    return lrs, moms, opt, sch


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_matches_recorded(name):
    lrs, moms, opt, sch = _sched_run(gk, name)
    np.testing.assert_allclose(lrs, RECORDED_LR[name][0], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(moms, RECORDED_LR[name][1], rtol=1e-10)
    assert sch.get_last_lr() == [g["lr"] for g in opt.param_groups]


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_matches_live_torch(name):
    torch = pytest.importorskip("torch")
    steps = 12 if name.startswith("onecycle") else 30
    ours, ref = _sched_run(gk, name, steps), _sched_run(torch, name, steps)
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-10)
    sd = ours[3].state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == steps


def test_onecycle_too_many_steps_and_errors():
    lrs, _, opt, sch = _sched_run(gk, "onecycle", 12)
    with pytest.raises(ValueError, match="Tried to step 13 times"):
        sch.step()
    with pytest.raises(ValueError, match="either total_steps OR"):
        sched.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        sched.StepLR(object(), 2)


def test_lambda_lr_and_closed_form_epoch():
    w = gk.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=2.0)
    sch = sched.LambdaLR(opt, lambda e: 1.0 / (e + 1))
    for _ in range(3):
        opt.step()
        sch.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5)
    opt2 = optim.SGD([w], lr=1.0)
    s2 = sched.CosineAnnealingLR(opt2, T_max=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s2.step(5)
    assert opt2.param_groups[0]["lr"] == pytest.approx(0.5 * (1 + math.cos(math.pi / 2)))


def test_reduce_on_plateau_matches_torch_logic():
    w = gk.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    sch = sched.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1, min_lr=0.2)
    metrics = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    lrs = []
    for m in metrics:
        sch.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2]
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        sched.ReduceLROnPlateau(opt, factor=1.0)
    torch = pytest.importorskip("torch")
    t = torch.zeros(1, requires_grad=True)
    ot = torch.optim.SGD([t], lr=1.0)
    st = torch.optim.lr_scheduler.ReduceLROnPlateau(ot, patience=2, factor=0.5, cooldown=1, min_lr=0.2)
    ref = []
    for m in metrics:
        st.step(m)
        ref.append(ot.param_groups[0]["lr"])
    assert lrs == ref


def test_scheduler_state_dict_resume():
    _, _, opt, sch = _sched_run(gk, "cosine", 3)
    sd = sch.state_dict()
    w = gk.zeros(1, requires_grad=True)
    opt2 = optim.SGD([{"params": [w]}, {"params": [gk.zeros(1, requires_grad=True)]}], lr=0.1, momentum=0.9)
    opt2.load_state_dict(opt.state_dict())
    sch2 = sched.CosineAnnealingLR(opt2, T_max=4, eta_min=0.01)
    sch2.load_state_dict(sd)
    for s in (sch, sch2):
        s.step()
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_lbfgs_reads_the_closure_loss_without_the_scalar_warning() -> None:
    """The optimizer reads the loss on purpose: no "requires_grad=True to a scalar" warning
    (PyTorch's LBFGS gives none either)."""
    import warnings

    xy = gk.tensor([-1.0, 2.0], requires_grad=True)
    opt = gk.optim.LBFGS([xy], lr=1, max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2
        loss.backward()
        return loss

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step(closure)
    np.testing.assert_allclose(xy.detach().numpy(), [1.0, 1.0], atol=1e-4)


def test_repr_of_two_groups_as_pytorch_prints_it():
    # recorded from torch 2.13.0+cpu: print(SGD([p], lr=0.1) + add_param_group({..., 'lr': 0.5}))
    opt = optim.SGD([gk.zeros(1, requires_grad=True)], lr=0.1)
    opt.add_param_group({"params": [gk.zeros(1, requires_grad=True)], "lr": 0.5})
    group = ["    dampening: 0", "    differentiable: False", "    foreach: None", "    fused: None",
             "    lr: {}", "    maximize: False", "    momentum: 0", "    nesterov: False",
             "    weight_decay: 0"]
    expected = ["SGD (", "Parameter Group 0", *group, "", "Parameter Group 1", *group, ")"]
    assert repr(opt) == "\n".join(expected).format(0.1, 0.5)


def test_scheduler_state_dict_keys_as_pytorch():
    # recorded from torch 2.13.0+cpu: list(StepLR(opt, step_size=2).state_dict())
    opt = optim.SGD([gk.zeros(1, requires_grad=True)], lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    assert list(sched.state_dict()) == ["step_size", "gamma", "base_lrs", "last_epoch", "_step_count",
                                        "_is_initial", "_get_lr_called_within_step", "_last_lr"]
    assert sched.state_dict()["_get_lr_called_within_step"] is False
    seen = []
    get_lr = sched.get_lr
    sched.get_lr = lambda: seen.append(sched._get_lr_called_within_step) or get_lr()
    sched.step()
    assert seen == [True] and sched._get_lr_called_within_step is False


def test_old_base_class_name_lrscheduler_underscore():
    # code written for PyTorch < 2.0 derives from _LRScheduler, which PyTorch 2.13 keeps as a
    # subclass of LRScheduler; rates recorded from torch 2.13 for this warm-up (uvadlc tutorial 6)
    class Warmup(sched._LRScheduler):
        def __init__(self, opt, warmup):
            self.warmup = warmup
            super().__init__(opt)

        def get_lr(self):
            return [b * min(1.0, (self.last_epoch + 1) / self.warmup) for b in self.base_lrs]

    p = gk.nn.Parameter(gk.zeros(2))
    opt = optim.SGD([p], lr=0.1)
    s = Warmup(opt, 4)
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    np.testing.assert_allclose(lrs, [0.025, 0.05, 0.075, 0.1, 0.1], rtol=1e-12)
    assert s.get_last_lr() == [0.1] and isinstance(s, sched.LRScheduler)
