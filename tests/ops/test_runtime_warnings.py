"""NumPy's RuntimeWarnings from gradkit's forwards do not leak (PyTorch is silent there).

gradkit installs a warnings filter when imported; pytest imports test modules inside its
own ``catch_warnings``, which drops filters added meanwhile, so the checks run in a fresh
interpreter, as a user's script would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SILENT_CASES = r"""
import json, warnings
import numpy as np
import gradkit as gk
with warnings.catch_warnings(record=True) as rec:
    assert gk.log(gk.tensor([0.0])).item() == -np.inf
    assert np.isnan(gk.sqrt(gk.tensor([-1.0])).item())
    assert (gk.tensor([1.0]) / gk.tensor([0.0])).item() == np.inf
    assert gk.tensor([0.0]).reciprocal().item() == np.inf
    assert gk.exp(gk.tensor([1000.0], dtype=gk.float64)).item() == np.inf
    assert np.isnan(gk.asin(gk.tensor([2.0])).item())
    x = gk.tensor([0.0, -1.0], requires_grad=True)
    (gk.log(x) + gk.sqrt(x)).sum().backward()          # and in the backward rules
    np.log(gk.tensor([0.0]))                            # NumPy's function on a Tensor
silent = [str(w.message) for w in rec]
with warnings.catch_warnings(record=True) as rec:
    np.log(np.array([0.0]))                             # the user's own NumPy code
users = [str(w.message) for w in rec]
with warnings.catch_warnings(record=True) as rec:       # the check can fail: drop the filter
    warnings.filters[:] = [f for f in warnings.filters if not (f[0] == "ignore" and f[2] is RuntimeWarning)]
    import gradkit.ops._registry as reg
    reg._filtered = warnings.filters                    # and keep gradkit from putting it back
    gk.log(gk.tensor([0.0]))
unfiltered = [str(w.message) for w in rec]
print(json.dumps([silent, users, unfiltered]))
"""

EVERY_ROW = r"""
import json, os, sys, warnings
import numpy as np
import gradkit as gk
from gradkit.ops import REGISTRY
sys.path.insert(0, os.path.join("tests", "support"))
from op_specs import OP_SPECS
GRADKIT = os.path.dirname(gk.__file__)
SPECIAL = np.array([0.0, -1.0, np.inf, np.nan, -np.inf, 1e300, -0.5, 2.0, 1.0, 710.0])
SKIP = ("linalg", "special", "scipy", "fft")   # svd on nan/inf does not return; see the report

def fill(a, shift):
    if a.dtype.kind != "f":
        return a
    return np.resize(np.roll(SPECIAL, shift), a.size).reshape(a.shape).astype(a.dtype)

leaks, rows = {}, set()
rng = np.random.default_rng(0)
for spec in OP_SPECS:
    if any(m in (getattr(REGISTRY[spec.name].fwd, "__module__", "") or "") for m in SKIP):
        continue
    rows.add(spec.name)
    for shift in range(0, len(SPECIAL), 2):
        arrays = [fill(a, shift + 3 * i) for i, a in enumerate(spec.sample(rng))]
        with warnings.catch_warnings(record=True) as rec:
            try:
                spec.fn(*[gk.tensor(a) for a in arrays], *spec.args)
            except Exception:
                pass
        for w in rec:
            if issubclass(w.category, RuntimeWarning) and w.filename.startswith(GRADKIT):
                leaks.setdefault(str(spec), []).append(f"{w.filename}:{w.lineno}: {w.message}")
print(json.dumps([len(rows), leaks]))
"""


def _run(code: str):
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": ROOT}, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_pytorch_silent_cases_record_nothing_and_users_warnings_stay():
    silent, users, unfiltered = _run(SILENT_CASES)
    assert silent == []
    assert any("divide by zero" in m for m in users)
    assert any("divide by zero" in m for m in unfiltered)


def test_no_row_leaks_a_warning_from_gradkits_files():
    n_rows, leaks = _run(EVERY_ROW)
    assert n_rows > 150
    assert leaks == {}
