"""Run the ``>>>`` examples of PyTorch's docstrings with torch and with ``gradkit`` as ``torch``.

    python -m tools.docexamples                      # sweep, print a summary table by category
    python -m tools.docexamples --list FAIL          # ... and every failing example, one a line
    python -m tools.docexamples --only torch.nn.functional.relu torch.Tensor.add
    python -m tools.docexamples --json results.json  # every example's outcome, for later reading

Only docstrings of names gradkit offers are swept: for each pair of modules (``torch`` and
``gradkit``, ``torch.nn.functional`` and ``gradkit.nn.functional``, ``torch.Tensor`` and
``gradkit.Tensor``, ...), the names both have. Each docstring's examples form one block, run
doctest-style (each statement compiled in ``single`` mode, so an expression echoes its repr) in a
fresh namespace holding ``torch``, once in an interpreter with the real torch and once in one
where ``import torch`` loads gradkit (``tools.pytorch_programs.alias``). Random draws
(``randn``, ``rand``, ``randint``, ``randperm``, ``normal``, ``uniform_``, ``normal_``) come from
one NumPy stream restarted before each block, in both runs (``alias.fix_random``).

The printed text of the two runs is compared statement by statement, lines token by token
(numbers to 1e-4 relative, as ``tools.pytorch_programs.run``). The first difference of a block
is classified:

- ``missing``: gradkit raised AttributeError/ImportError naming something it does not have;
- ``gradkit raised``: gradkit raised another error where torch printed;
- ``error type`` / ``error message``: both raised (the docstring shows a traceback), differently;
- ``no error``: torch raised as the docstring shows, gradkit did not;
- ``dtype``: the text differs by a dtype (``dtype=torch.float64``, ``1.`` against ``1``);
- ``printing``: other text differs (``Size``, ``grad_fn=``, layout, a repr);
- ``value``: same text, numbers differ beyond the tolerance;
- ``round-off``: only numbers at float32 round-off level differ (a residual ``dist(A @ X, B)``
  of 4e-5 against 3e-5, an ``allclose`` on such a residual): counted as agreeing;
- ``undetermined``: what the example prints is not determined (uninitialised memory, the order
  of ties in torch's unstable sort, a draw outside the shared stream; ``UNDETERMINED``).

Blocks where torch itself raises an error the docstring does not show (CUDA, an undefined name
in a sketch, an external file) are counted as ``torch fails`` and left out; blocks that use what
gradkit leaves out of scope (sparse and quantized tensors, named tensors, nested tensors, CUDA,
distributed, JIT) are counted as ``out of scope`` and not run.
"""
from __future__ import annotations

import argparse
import doctest
import inspect
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import traceback
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.pytorch_programs.run import _same_line  # noqa: E402

# (torch module, gradkit module, whether to look into classes' methods)
MODULES = [
    ("torch", "gradkit", False),
    ("torch.Tensor", "gradkit.Tensor", False),
    ("torch.nn.functional", "gradkit.nn.functional", False),
    ("torch.nn", "gradkit.nn", True),
    ("torch.nn.init", "gradkit.nn.init", False),
    ("torch.nn.utils", "gradkit.nn.utils", False),
    ("torch.nn.utils.rnn", "gradkit.nn.utils.rnn", True),
    ("torch.nn.utils.prune", "gradkit.nn.utils.prune", True),
    ("torch.nn.utils.parametrize", "gradkit.nn.utils.parametrize", False),
    ("torch.nn.utils.parametrizations", "gradkit.nn.utils.parametrizations", False),
    ("torch.distributions", "gradkit.distributions", True),
    ("torch.profiler", "gradkit.profiler", True),
    ("torch.linalg", "gradkit.linalg", False),
    ("torch.special", "gradkit.special", False),
    ("torch.fft", "gradkit.fft", False),
    ("torch.func", "gradkit.func", False),
    ("torch.autograd", "gradkit.autograd", True),
    ("torch.autograd.functional", "gradkit.autograd.functional", False),
    ("torch.autograd.forward_ad", "gradkit.autograd.forward_ad", False),
    ("torch.autograd.graph", "gradkit.autograd.graph", False),
    ("torch.optim", "gradkit.optim", True),
    ("torch.optim.lr_scheduler", "gradkit.optim.lr_scheduler", True),
    ("torch.utils.data", "gradkit.utils.data", True),
    ("torch.testing", "gradkit.testing", False),
]

OUT_OF_SCOPE = re.compile(
    r"sparse|quantiz|qint|quint|\bnames\s*=|\.rename\(|refine_names|align_to|nested|\bcuda\b|"
    r"device\s*=\s*['\"]cuda|torch\.distributed|torch\.jit|torch\.compile|\bmps\b|"
    r"torch\.onnx|torch\.fx|torch\.export|torch\.package|_like\(.*memory_format|"
    r"channels_last|torch\.masked|MaskedTensor|to_mkldnn|torch\.utils\.checkpoint"
    r"|complex32|float8|bfloat16|torch\.library|DTensor|DeviceMesh")

BLOCK_SECONDS = 20


# --------------------------------------------------------------------------- extraction


def _resolve(dotted: str) -> Any:
    import importlib
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for p in parts[i:]:
            obj = getattr(obj, p)
        return obj
    raise ImportError(dotted)


def _public(obj: Any) -> set[str]:
    return {n for n in dir(obj) if not n.startswith("_")}


def _has(obj: Any, name: str) -> bool:
    """``obj.name`` exists (asking, so that names a package loads on first use count)."""
    try:
        return hasattr(obj, name)
    except Exception:
        return False


def _compiles(source: str) -> bool:
    try:
        compile(source, "<doc>", "single")
    except SyntaxError:
        return False
    return True


def _join_statements(pairs: list[list[str]]) -> list[list[str]]:
    """Join a statement split over several ``>>>`` lines (PyTorch's docstrings are checked with
    xdoctest, which accepts ``>>>`` on continuation lines) into one."""
    out: list[list[str]] = []
    i = 0
    while i < len(pairs):
        src, want = pairs[i]
        j = i
        while not _compiles(src) and j + 1 < len(pairs) and not pairs[j][1].strip():
            j += 1
            src += pairs[j][0]
            want = pairs[j][1]
        if _compiles(src):
            # the body of a block goes on while the following lines are indented
            while j > i and j + 1 < len(pairs) and not pairs[j][1].strip() and \
                    pairs[j + 1][0][:1] in (" ", "\t") and _compiles(src + pairs[j + 1][0]):
                j += 1
                src += pairs[j][0]
                want = pairs[j][1]
            out.append([src, want])
            i = j + 1
        else:
            out.append(pairs[i])
            i += 1
    return out


def missing_names() -> list[str]:
    """Names in the swept torch modules whose docstrings have examples and gradkit lacks."""
    import torch  # noqa: F401
    names = []
    for tmod, gmod, _ in MODULES:
        try:
            tobj, gobj = _resolve(tmod), _resolve(gmod)
        except (ImportError, AttributeError):
            continue
        for name in sorted(n for n in _public(tobj) if not _has(gobj, n)):
            obj = getattr(tobj, name, None)
            doc = getattr(obj, "__doc__", None)
            if not str(getattr(obj, "__module__", None) or "").startswith("torch") \
                    or name == "handle_torch_function":
                continue
            if isinstance(doc, str) and ">>>" in doc and not OUT_OF_SCOPE.search(doc + name):
                names.append(f"{tmod}.{name}")
    return names


def extract() -> list[dict[str, Any]]:
    """Every example block: ``{"name", "examples": [[source, want], ...], "scope"}``."""
    import torch  # noqa: F401
    parser = doctest.DocTestParser()
    blocks: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(label: str, obj: Any, module: str) -> None:
        doc = getattr(obj, "__doc__", None)
        if not isinstance(doc, str) or ">>>" not in doc:
            return
        try:
            examples = parser.get_examples(inspect.cleandoc(doc))
        except ValueError:
            return
        if not examples:
            return
        pairs = _join_statements([[e.source, e.want] for e in examples])
        key = "\n".join(src for src, _ in pairs)
        if key in seen:
            return
        seen.add(key)
        scope = "out of scope" if OUT_OF_SCOPE.search(key) else ""
        blocks.append({"name": label, "scope": scope, "module": module,
                       "examples": pairs})

    for tmod, gmod, methods in MODULES:
        try:
            tobj, gobj = _resolve(tmod), _resolve(gmod)
        except (ImportError, AttributeError):
            continue
        for name in sorted(n for n in _public(tobj) if _has(gobj, n)):
            try:
                item = getattr(tobj, name)
            except Exception:
                continue
            if inspect.ismodule(item):
                continue
            module = tmod if inspect.ismodule(tobj) else tmod.rsplit(".", 1)[0]
            add(f"{tmod}.{name}", item, module)
            if methods and inspect.isclass(item):
                gcls = getattr(gobj, name)
                for m in sorted(n for n in _public(item) if _has(gcls, n)):
                    if m in vars(item):
                        add(f"{tmod}.{name}.{m}", getattr(item, m, None), module)
    return blocks


# --------------------------------------------------------------------------- running


class _Timeout(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Timeout(f"block ran past {BLOCK_SECONDS} s")


def _reset(torch: Any) -> None:
    try:
        torch.set_default_dtype(torch.float32)
        torch.set_printoptions(profile="default")
        torch.set_grad_enabled(True)
    except Exception:
        pass


def _run_block(torch: Any, block: dict[str, Any]) -> list[dict[str, Any]]:
    """Each statement's printed text and the error it raised (``[type, message]``)."""
    import builtins
    import importlib
    import math

    import numpy
    # as doctest does, the module's names are there; and what PyTorch's doctest set-up adds
    module = importlib.import_module(block["module"])
    ns: dict[str, Any] = {} if block["module"] == "torch" else {
        n: getattr(module, n) for n in dir(module) if not n.startswith("_") and n not in vars(builtins)}
    ns.update({"torch": torch, "nn": importlib.import_module("torch.nn"),
               "F": importlib.import_module("torch.nn.functional"), "math": math,
               "numpy": numpy, "np": numpy, "__name__": "__main__", "__builtins__": builtins})
    torch.manual_seed(0)
    out: list[dict[str, Any]] = []
    for source, want in block["examples"]:
        buf = io.StringIO()
        err = None
        try:
            code = compile(source, "<doc>", "single")
            with redirect_stdout(buf):
                old = sys.displayhook
                sys.displayhook = sys.__displayhook__
                try:
                    exec(code, ns)
                finally:
                    sys.displayhook = old
        except _Timeout:
            raise
        except BaseException as exc:  # noqa: BLE001 - an example may raise anything
            if isinstance(exc, (KeyboardInterrupt,)):
                raise
            msg = str(exc).strip().splitlines()
            err = [type(exc).__name__, msg[0][:300] if msg else ""]
            tb = traceback.extract_tb(exc.__traceback__)
            err.append(f"{tb[-1].filename}:{tb[-1].lineno}" if tb else "")
        out.append({"out": buf.getvalue(), "err": err,
                    "want_tb": want.lstrip().startswith("Traceback")})
    return out


def worker(backend: str, infile: str, outfile: str) -> None:
    import warnings
    warnings.simplefilter("ignore")
    os.environ.setdefault("MPLBACKEND", "Agg")
    from tools.pytorch_programs import alias
    if backend == "gradkit":
        alias.install_alias()
    import torch
    alias.fix_random(torch)
    blocks = json.loads(Path(infile).read_text())
    done = set()
    if Path(outfile).exists():
        for line in Path(outfile).read_text().splitlines():
            done.add(json.loads(line)["name"])
    signal.signal(signal.SIGALRM, _on_alarm)
    with open(outfile, "a") as fh:
        for block in blocks:
            if block["name"] in done:
                continue
            # written before running, so a crash of the interpreter marks the block it was in
            fh.write(json.dumps({"name": block["name"], "started": True}) + "\n")
            fh.flush()
            signal.alarm(BLOCK_SECONDS)
            try:
                result: Any = _run_block(torch, block)
            except _Timeout as exc:
                result = str(exc)
            finally:
                signal.alarm(0)
                _reset(torch)
            fh.write(json.dumps({"name": block["name"], "result": result}) + "\n")
            fh.flush()


def run_backend(backend: str, blocks: list[dict[str, Any]], tmp: Path) -> dict[str, Any]:
    infile, outfile = tmp / "blocks.json", tmp / f"{backend}.jsonl"
    infile.write_text(json.dumps(blocks))
    if outfile.exists():
        outfile.unlink()
    results: dict[str, Any] = {}
    for _ in range(len(blocks) + 1):   # restart after a crash, past the block that crashed
        subprocess.run([sys.executable, "-m", "tools.docexamples", "--worker", backend,
                        str(infile), str(outfile)], cwd=ROOT, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        results = {}
        for line in outfile.read_text().splitlines():
            rec = json.loads(line)
            results[rec["name"]] = rec.get("result", "interpreter crashed")
        if len(results) >= len(blocks):
            break
    return results


# --------------------------------------------------------------------------- comparing

DTYPE = re.compile(r"dtype=torch\.\w+|torch\.(?:float|int|uint|bool|complex|double|long|half)\w*")
MISSING = re.compile(r"has no attribute|cannot import name|No module named|gradkit has no")
# the class of an object printed by its default repr: its module path necessarily differs
OBJECT = re.compile(r"<(?:[\w]+\.)*(\w+) object at 0x[0-9a-fA-F]+>|<class '(?:[\w]+\.)*(\w+)'>"
                    r"|<(?:built-in method|function) (\w+)(?: of [^>]*)? at 0x[0-9a-fA-F]+>"
                    r"|<(capsule) object \"\w+\" at 0x[0-9a-fA-F]+>")

# Examples whose printed values are not determined (not a difference between the libraries)
UNDETERMINED = {
    "torch.sort": "torch's default sort is not stable: the order of ties is unspecified",
    "torch.empty": "uninitialised memory", "torch.Tensor.new_empty": "uninitialised memory",
    "torch.nn.utils.skip_init": "uninitialised memory",
    "torch.bernoulli": "a random draw outside the shared stream",
    "torch.nn.init.trunc_normal_": "a random draw outside the shared stream",
    "torch.Tensor.new_empty_strided": "uninitialised memory",
    "torch.empty_strided": "uninitialised memory",
    "torch.poisson": "a random draw outside the shared stream",
    "torch.nn.functional.gumbel_softmax": "a random draw outside the shared stream",
    "torch.utils.data.WeightedRandomSampler": "a random draw outside the shared stream",
    "torch.profiler.record_function": "measured times",
}
# distributions whose ``sample()`` draws with ``exponential_``, ``cauchy_``, ``_standard_gamma``
# (outside the shared stream)
UNDETERMINED.update({f"torch.distributions.{n}": "a random draw outside the shared stream"
                     for n in ("Beta", "Cauchy", "Chi2", "Dirichlet", "Exponential", "Gamma",
                               "HalfCauchy", "InverseGamma", "Pareto", "StudentT", "Weibull",
                               "FisherSnedecor", "LKJCholesky", "Wishart")})


def _mask(text: str) -> str:
    return OBJECT.sub(lambda m: f"<{m.group(1) or m.group(2) or m.group(3) or m.group(4)}>", text)


def _floating(text: str) -> list[bool]:
    from tools.pytorch_programs.run import NUMBER
    return [bool(re.search(r"[.eEn]", x)) for x in NUMBER.findall(text)]


def _same_text(a: str, b: str) -> bool:
    """Lines agree as in ``tools.pytorch_programs.run``, and each number is printed as an
    integer in both or as a floating-point number in both (``1`` is not ``1.``)."""
    la, lb = _mask(a).splitlines(), _mask(b).splitlines()
    return len(la) == len(lb) and all(_same_line(x, y) and _floating(x) == _floating(y)
                                      for x, y in zip(la, lb))


def _roundoff(t: str, g: str) -> bool:
    """Only numbers at float32 round-off level differ (residuals such as ``dist(A @ X, B)``)."""
    from tools.pytorch_programs.run import NUMBER
    nt, ng = NUMBER.findall(t), NUMBER.findall(g)
    if len(nt) != len(ng) or NUMBER.sub("#", t) != NUMBER.sub("#", g):
        return False
    vals = [(float(x), float(y)) for x, y in zip(nt, ng)]
    scale = max((abs(x) for x, _ in vals if x == x and abs(x) != float("inf")), default=0.0)
    return all(x == y or (x != x and y != y) or abs(x - y) <= 1e-4 + 1e-3 * scale for x, y in vals)


INT_FLOAT = re.compile(r"(\d)\.(?!\d)")


def _text_category(t: str, g: str) -> str:
    from tools.pytorch_programs.run import NUMBER
    if DTYPE.findall(t) != DTYPE.findall(g):
        return "dtype"
    # ``1.`` against ``1``: the same numbers printed as floating and as integer
    if _same_text(INT_FLOAT.sub(r"\1", t), INT_FLOAT.sub(r"\1", g)):
        return "dtype"
    lt, lg = t.splitlines(), g.splitlines()
    if len(lt) == len(lg) and all(NUMBER.sub("#", x) == NUMBER.sub("#", y) for x, y in zip(lt, lg)):
        return "value"
    return "printing"


def classify(block: dict[str, Any], t: Any, g: Any) -> tuple[str, str]:
    """``(category, note)``; category ``pass`` when the two runs agree."""
    if block["scope"]:
        return "out of scope", ""
    if block["name"] in UNDETERMINED and isinstance(t, list) and isinstance(g, list):
        if any(not _same_text(x["out"], y["out"]) for x, y in zip(t, g)):
            return "undetermined", UNDETERMINED[block["name"]]
    if not isinstance(t, list):
        return "torch fails", str(t)
    for st in t:
        if st["err"] and not st["want_tb"]:
            return "torch fails", f"{st['err'][0]}: {st['err'][1][:120]}"
    if not isinstance(g, list):
        return "gradkit raised", str(g)
    src = block["examples"]
    for i, (st, sg) in enumerate(zip(t, g)):
        line = src[i][0].strip().splitlines()[0][:80]
        te, ge = st["err"], sg["err"]
        if ge and not te:
            kind = "missing" if ge[0] in ("AttributeError", "ImportError", "ModuleNotFoundError") \
                and MISSING.search(ge[1]) else "gradkit raised"
            if ge[0] == "NotImplementedError":
                kind = "not implemented"
            return kind, f"`{line}`: {ge[0]}: {ge[1][:150]}"
        if te and not ge:
            return "no error", f"`{line}`: torch raised {te[0]}: {te[1][:100]}"
        if te and ge:
            if te[0] != ge[0]:
                return "error type", f"`{line}`: torch {te[0]}: {te[1][:80]} / gradkit {ge[0]}: {ge[1][:80]}"
            if _mask(te[1]) != _mask(ge[1]):
                return "error message", f"`{line}`: torch `{te[1][:80]}` / gradkit `{ge[1][:80]}`"
        if not _same_text(st["out"], sg["out"]):
            cat = _text_category(st["out"], sg["out"])
            if cat == "value" and _roundoff(st["out"], sg["out"]) or (
                    "allclose" in src[i][0] and {st["out"].strip(), sg["out"].strip()} == {"True", "False"}):
                cat = "round-off"
            tl = " | ".join(st["out"].strip().splitlines()[:2])[:100]
            gl = " | ".join(sg["out"].strip().splitlines()[:2])[:100]
            return cat, f"`{line}`: torch `{tl}` / gradkit `{gl}`"
    return "pass", ""


ORDER = ["pass", "missing", "gradkit raised", "not implemented", "value", "printing", "dtype",
         "error type", "error message", "no error", "round-off", "undetermined", "torch fails",
         "out of scope"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--worker", nargs=3, metavar=("BACKEND", "IN", "OUT"))
    p.add_argument("--only", nargs="+", help="names of docstrings to run (prefixes allowed)")
    p.add_argument("--list", nargs="*", metavar="CATEGORY",
                   help="print each example of these categories (all failing ones if empty)")
    p.add_argument("--json", help="write every example's outcome here")
    p.add_argument("--missing", action="store_true",
                   help="list the names with examples in torch's docstrings that gradkit lacks")
    a = p.parse_args(argv)
    if a.worker:
        worker(*a.worker)
        return 0
    if a.missing:
        names = missing_names()
        print("\n".join(names))
        print(f"{len(names)} names with examples that gradkit does not offer")
        return 0
    blocks = extract()
    if a.only:
        blocks = [b for b in blocks if any(b["name"] == o or b["name"].startswith(o + ".")
                                           for o in a.only)]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        runnable = [b for b in blocks if not b["scope"]]
        tres = run_backend("torch", runnable, tmp)
        gres = run_backend("gradkit", runnable, tmp)
    rows = []
    for b in blocks:
        cat, note = classify(b, tres.get(b["name"]), gres.get(b["name"]))
        rows.append((b["name"], cat, note))
    counts = Counter(cat for _, cat, _ in rows)
    ran = sum(v for k, v in counts.items() if k not in ("torch fails", "out of scope"))
    agree = counts["pass"] + counts["round-off"] + counts["undetermined"]
    if a.list is not None:
        want = set(a.list) or set(ORDER) - {"pass", "torch fails", "out of scope", "round-off",
                                            "undetermined"}
        for name, cat, note in rows:
            if cat in want:
                print(f"{cat:16} {name}: {note}")
        print()
    print(f"{len(blocks)} docstrings with examples; {ran} compared "
          f"(torch runs them, gradkit covers them); {counts['pass']} pass, {agree} with "
          "round-off and undetermined values")
    print("| category | examples |\n|---|---|")
    for cat in ORDER + sorted(set(counts) - set(ORDER)):
        if counts[cat]:
            print(f"| {cat} | {counts[cat]} |")
    if a.json:
        Path(a.json).write_text(json.dumps([{"name": n, "category": c, "note": t}
                                            for n, c, t in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
