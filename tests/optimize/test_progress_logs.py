"""Progress reporting of gradkit.optimize: tqdm on terminals, rate-limited plain lines elsewhere."""

import io
import sys

import numpy as np
import pytest

import gradkit.optimize as gopt
from gradkit.optimize import _progress


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


class Tty(io.StringIO):
    def isatty(self):
        return True


class Clock:
    def __init__(self, step):
        self.t, self.step = 0.0, step

    def __call__(self):
        self.t += self.step
        return self.t


@pytest.fixture
def no_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)       # import tqdm raises ImportError


def test_non_tty_long_run_writes_few_plain_lines(no_tqdm):
    buf = io.StringIO()
    res = gopt.gradient_descent(rosen, [-1.2, 1.0], lr=1e-3, maxiter=3000, progress=buf)
    text = buf.getvalue()
    assert res.nit > 1000
    assert "\r" not in text
    lines = text.splitlines()
    # a start line, at most one per 10 s, and the end line: not one per iteration
    assert 2 <= len(lines) <= 5, lines
    assert lines[0].startswith("gradient_descent[fixed]: iter     1  f = ")
    assert lines[-1].startswith("gradient_descent[fixed]: done after 3000 iterations")


def test_non_tty_lines_are_rate_limited_by_the_clock():
    buf = io.StringIO()
    p = _progress.Progress(buf, "run", total=100, clock=Clock(1.0))   # 1 s per iteration
    for i in range(100):
        p.update(float(i), 1.0)
    p.close()
    lines = buf.getvalue().splitlines()
    assert "\r" not in buf.getvalue()
    # iterations 1, 11, ..., 91: the first, then one line per 10 s
    assert [int(x.split()[2]) for x in lines] == list(range(1, 100, 10))
    assert "it/s" in lines[1] and "ETA" in lines[1]


def test_tty_line_is_rewritten_at_most_every_interval_with_rate_and_eta(no_tqdm):
    buf = Tty()
    p = _progress.make_progress(buf, "run", total=50)
    assert isinstance(p, _progress.Progress)
    p.clock = Clock(0.05)                        # 20 updates a second
    p.start = 0.0
    for i in range(50):
        p.update(float(i), 0.5)
    p.close()
    text = buf.getvalue()
    frames = text.count("\r")
    assert 10 <= frames <= 16                    # ~every 0.2 s over 2.5 s, plus the last
    assert text.endswith("\n") and text.count("\n") == 1
    assert "ETA 00:00" in text and "/s" in text
    assert "iter    50" in text                  # the final state is shown when closing


def test_minimize_on_a_tty_without_tqdm_rewrites_one_line(no_tqdm):
    buf = Tty()
    gopt.minimize(rosen, np.array([-1.2, 1.0]), method="L-BFGS-B", progress=buf)
    text = buf.getvalue()
    assert text.startswith("\r") and text.count("\n") == 2


def test_tty_uses_tqdm_when_installed():
    pytest.importorskip("tqdm")
    buf = Tty()
    p = _progress.make_progress(buf, "gd", total=5)
    assert isinstance(p, _progress.TqdmProgress)
    res = gopt.gradient_descent(lambda x: (x - 2.0) ** 2, 0.0, lr=0.1, maxiter=5, progress=buf)
    p.close()
    text = buf.getvalue()
    assert "gradient_descent[fixed]" in text and "5/5" in text and "it/s" in text
    assert "done after 5 iterations" in text and res.nit == 5


def test_non_tty_never_uses_tqdm():
    # tqdm writes \r frames to files; a redirected stderr gets the plain lines
    assert isinstance(_progress.make_progress(io.StringIO(), "x"), _progress.Progress)


def test_least_squares_and_curve_fit_report_progress():
    pytest.importorskip("scipy")
    buf = io.StringIO()
    res = gopt.least_squares(lambda x: np.stack([10 * (x[1] - x[0] ** 2), 1 - x[0]]), [-1.2, 1.0],
                             progress=buf)
    first = buf.getvalue().splitlines()[0]
    assert first.startswith("least_squares[trf]: iter     1  f = ")
    # the first evaluation is at x0: cost 0.5 * (4.4**2 + 2.2**2)
    assert float(first.split("f = ")[1].split()[0]) == pytest.approx(0.5 * (4.4 ** 2 + 2.2 ** 2))
    assert np.allclose(res.x, [1.0, 1.0])
    buf = io.StringIO()
    t = np.linspace(0, 4, 50)
    popt, _ = gopt.curve_fit(lambda t, a, k: a * np.exp(-k * t), t, 3 * np.exp(-0.7 * t), progress=buf)
    assert np.allclose(popt, [3.0, 0.7])
    assert buf.getvalue().startswith("curve_fit: iter     1") and "\r" not in buf.getvalue()


def test_progress_true_goes_to_stderr(capsys):
    gopt.gradient_descent(lambda x: x ** 2, 1.3, lr=0.1, maxiter=3, progress=True)
    assert "gradient_descent[fixed]: iter     1" in capsys.readouterr().err
