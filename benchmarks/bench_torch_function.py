"""What the ``__torch_function__`` protocol costs eager code that does not use it.

    python benchmarks/bench_torch_function.py --before /path/to/old/checkout [--rounds 7]

Each round runs, in separate fresh processes and alternating the order, the same workloads
with gradkit imported from this checkout ("after") and from ``--before`` (a directory holding
the ``gradkit`` package of the commit to compare with). Per workload and side it prints the
median over rounds of the process CPU time of one pass (``time.process_time``), in microseconds
per operation. Workloads, all with ``requires_grad=True`` inputs of 4 float32 elements:

- ``a + b``          10000 operator calls (Tensor methods: no wrapper unless a mode is on)
- ``torch.add``      10000 calls of the public function (the dispatch wrapper's fast path)
- ``F.relu``         10000 calls of ``nn.functional.relu``
- ``torch.sum(x, dim=0)``  10000 calls with a keyword argument
- ``torch.cat([a, b])``    10000 calls with a list (the wrapper's slower path, one level down)
- ``chain+backward`` 1000 x (10 ops mixing the above, then ``backward()``)
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import sys, time
import gradkit as torch
import gradkit.nn.functional as F
a = torch.randn(4, requires_grad=True)
b = torch.randn(4, requires_grad=True)
N = 10000

def w_op():
    for _ in range(N):
        a + b

def w_add():
    add = torch.add
    for _ in range(N):
        add(a, b)

def w_relu():
    relu = F.relu
    for _ in range(N):
        relu(a)

def w_sum():
    s = torch.sum
    for _ in range(N):
        s(a, dim=0)

def w_cat():
    cat = torch.cat
    for _ in range(N):
        cat([a, b])

def w_chain():
    for _ in range(N // 10):
        y = torch.sin(a * b) + F.relu(a)
        y = torch.sum(torch.exp(y) * 2.0 - b, dim=0)
        a.grad = None
        y.backward()

out = []
for name, f, n in (("a + b", w_op, N), ("torch.add", w_add, N), ("F.relu", w_relu, N),
                   ("torch.sum(x, dim=0)", w_sum, N), ("torch.cat([a, b])", w_cat, N),
                   ("chain+backward", w_chain, N // 10)):
    f()                                   # warm
    best = []
    for _ in range(3):
        t0 = time.process_time(); f(); best.append(time.process_time() - t0)
    out.append(f"{name}\t{min(best) / n * 1e6:.4f}")
print("\n".join(out))
"""


def run(path: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=path)
    text = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                          check=True, cwd="/").stdout
    return {k: float(v) for k, v in (line.split("\t") for line in text.strip().splitlines())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    sides: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for r in range(args.rounds):
        order = [("before", args.before), ("after", str(ROOT))]
        for side, path in (order if r % 2 == 0 else order[::-1]):
            sides[side].append(run(path))
    names = list(sides["after"][0])
    print("| workload | before (us/op) | after (us/op) | change |\n|---|---|---|---|")
    for n in names:
        b = statistics.median(s[n] for s in sides["before"])
        a = statistics.median(s[n] for s in sides["after"])
        print(f"| {n} | {b:.3f} | {a:.3f} | {100 * (a - b) / b:+.1f}% |")


if __name__ == "__main__":
    main()
