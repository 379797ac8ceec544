"""Make ``import torch`` (and ``torch.nn``, ``torch.func``, ...) load gradkit, and make
random draws in both libraries come from one NumPy stream so their outputs can be compared.

Used by ``run.py`` in a fresh interpreter: ``install_alias()`` for the gradkit run, and
``fix_random(lib)`` for both runs.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from typing import Any

import numpy as np


class _GradkitAsTorch(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``torch.X.Y`` -> the module ``gradkit.X.Y`` (an ImportError names what is missing)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: Any) -> Any:
        real = "gradkit" + spec.name[len("torch"):]
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as exc:
            raise ModuleNotFoundError(f"gradkit has no {real} (for {spec.name})",
                                      name=spec.name) from exc
        sys.modules[spec.name] = module
        return module

    def exec_module(self, module: Any) -> None:
        pass


def install_alias() -> None:
    sys.meta_path.insert(0, _GradkitAsTorch())


class _Stream:
    """One NumPy generator shared by both runs; ``manual_seed(s)`` restarts it at ``s``."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)

    def seed(self, s: int) -> None:
        self.rng = np.random.default_rng(int(s))


def _shape(args: tuple, size: Any) -> tuple:
    if size is not None:
        return tuple(size)
    if len(args) == 1 and isinstance(args[0], (tuple, list)) or (
            len(args) == 1 and type(args[0]).__name__ == "Size"):
        return tuple(args[0])
    return tuple(int(a) for a in args)


def fix_random(lib: Any) -> None:
    """Replace ``lib``'s random draws by draws from one NumPy stream (same in both libraries)."""
    stream = _Stream()
    real_seed = lib.manual_seed

    def manual_seed(s: int) -> Any:
        stream.seed(s)
        return real_seed(s)

    def _float(arr: np.ndarray, dtype: Any, requires_grad: bool, device: Any = None) -> Any:
        t = lib.tensor(arr, dtype=dtype if dtype is not None else lib.get_default_dtype())
        return t.requires_grad_(requires_grad) if requires_grad else t

    def rand(*args: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False,
             device: Any = None, generator: Any = None, **_: Any) -> Any:
        return _float(stream.rng.random(_shape(args, size)), dtype, requires_grad)

    def randn(*args: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False,
              device: Any = None, generator: Any = None, **_: Any) -> Any:
        return _float(stream.rng.standard_normal(_shape(args, size)), dtype, requires_grad)

    def rand_like(x: Any, dtype: Any = None, requires_grad: bool = False, **_: Any) -> Any:
        return _float(stream.rng.random(tuple(x.shape)), dtype or x.dtype, requires_grad)

    def randn_like(x: Any, dtype: Any = None, requires_grad: bool = False, **_: Any) -> Any:
        return _float(stream.rng.standard_normal(tuple(x.shape)), dtype or x.dtype, requires_grad)

    def randint(*args: Any, low: Any = None, high: Any = None, size: Any = None,
                dtype: Any = None, generator: Any = None, device: Any = None, **_: Any) -> Any:
        pos = list(args)        # randint(high, size), randint(low, high, size), keywords too
        if size is None:
            size = pos.pop()
        if len(pos) == 2:
            low, high = pos
        elif len(pos) == 1:
            low, high = (pos[0], high) if high is not None else (low, pos[0])
        low = 0 if low is None else low
        arr = stream.rng.integers(low, high, size=tuple(size))
        return lib.tensor(arr, dtype=dtype if dtype is not None else lib.int64)

    def randperm(n: int, dtype: Any = None, generator: Any = None, device: Any = None,
                 **_: Any) -> Any:
        return lib.tensor(stream.rng.permutation(n), dtype=dtype if dtype is not None else lib.int64)

    def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None,
               **kw: Any) -> Any:
        if size is not None:   # a leaf, as torch.normal(..., requires_grad=True) gives
            requires_grad = kw.pop("requires_grad", False)
            out = randn(size=size, **kw) * std + mean
            return out.requires_grad_(True) if requires_grad else out
        shape = tuple(getattr(mean, "shape", ())) or tuple(getattr(std, "shape", ()))
        return lib.tensor(stream.rng.standard_normal(shape), dtype=lib.get_default_dtype()) * std + mean

    def _fill(t: Any, arr: np.ndarray) -> Any:
        with lib.no_grad():
            t.copy_(lib.tensor(arr, dtype=t.dtype))
        return t

    def uniform_(self: Any, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Any:
        return _fill(self, stream.rng.uniform(a, b, tuple(self.shape)))

    def normal_(self: Any, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Any:
        return _fill(self, stream.rng.normal(mean, std, tuple(self.shape)))

    def multinomial(input: Any, num_samples: int, replacement: bool = False, *,
                    generator: Any = None, out: Any = None) -> Any:
        # inverse-CDF draws from the stream (one uniform per sample), same in both libraries
        probs = np.asarray(input.detach().tolist(), dtype=np.float64)
        rows = probs.reshape(-1, probs.shape[-1]).copy()
        picks = np.zeros((rows.shape[0], num_samples), dtype=np.int64)
        for r, row in enumerate(rows):
            for j in range(num_samples):
                cdf = np.cumsum(row) / row.sum()
                k = min(int(np.searchsorted(cdf, stream.rng.random(), side="right")), len(row) - 1)
                picks[r, j] = k
                if not replacement:
                    row[k] = 0.0
        return lib.tensor(picks.reshape(probs.shape[:-1] + (num_samples,)), dtype=lib.int64)

    def bernoulli(input: Any, p: Any = None, *, generator: Any = None, out: Any = None) -> Any:
        # one uniform per element from the stream, 1 where it falls below the probability
        probs = np.asarray(input.detach().tolist() if p is None else p, dtype=np.float64)
        u = stream.rng.random(tuple(input.shape))
        return lib.tensor(u < np.broadcast_to(probs, u.shape), dtype=input.dtype)

    functional = importlib.import_module(lib.__name__ + ".nn.functional")

    def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
        # the keep-mask comes from the stream, so both libraries drop the same elements
        if not training or p == 0:
            return input
        keep = lib.tensor(stream.rng.random(tuple(input.shape)) >= p, dtype=input.dtype)
        scale = keep / (1 - p) if p < 1 else keep
        return input.mul_(scale) if inplace else input * scale

    functional.dropout = dropout

    def _feature_dropout(spatial: int) -> Any:
        def feature_dropout(input: Any, p: float = 0.5, training: bool = True,
                            inplace: bool = False) -> Any:
            # one keep-draw per channel from the stream; PyTorch's mask shapes: (N, C, 1, ...)
            # batched, (C, 1, ...) unbatched; dropout2d keeps its first two dims whatever the rank
            if not training or p == 0:
                return input
            nd = input.dim()
            lead = 2 if spatial == 2 or nd == spatial + 2 else 1
            shape = tuple(input.shape[:lead]) + (1,) * (nd - lead)
            keep = lib.tensor(stream.rng.random(shape) >= p, dtype=input.dtype)
            scale = keep / (1 - p) if p < 1 else keep
            return input.mul_(scale) if inplace else input * scale
        return feature_dropout

    functional.dropout1d = _feature_dropout(1)
    functional.dropout2d = _feature_dropout(2)
    functional.dropout3d = _feature_dropout(3)
    real_sdpa = functional.scaled_dot_product_attention

    def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None,
                                     dropout_p: float = 0.0, is_causal: bool = False,
                                     scale: Any = None, enable_gqa: bool = False) -> Any:
        # with dropout, PyTorch's fused kernel draws its own mask; the reference formula with
        # the stream's dropout instead (MultiheadAttention and nn.Transformer come here)
        if dropout_p == 0.0:
            return real_sdpa(query, key, value, attn_mask=attn_mask, is_causal=is_causal,
                             scale=scale, enable_gqa=enable_gqa)
        lq, lk = query.shape[-2], key.shape[-2]
        s = 1.0 / float(np.sqrt(query.shape[-1])) if scale is None else scale
        scores = query @ key.transpose(-2, -1) * s
        if is_causal:
            attn_mask = lib.tensor(np.tril(np.ones((lq, lk), dtype=bool)))
        if attn_mask is not None:
            if attn_mask.dtype == lib.bool:
                scores = scores.masked_fill(attn_mask.logical_not(), float("-inf"))
            else:
                scores = scores + attn_mask
        return dropout(scores.softmax(-1), dropout_p, True) @ value

    functional.scaled_dot_product_attention = scaled_dot_product_attention
    for name, fn in [("manual_seed", manual_seed), ("rand", rand), ("randn", randn),
                     ("rand_like", rand_like), ("randn_like", randn_like), ("randint", randint),
                     ("randperm", randperm), ("normal", normal), ("multinomial", multinomial),
                     ("bernoulli", bernoulli)]:
        setattr(lib, name, fn)
    lib.Tensor.uniform_ = uniform_
    lib.Tensor.multinomial = multinomial
    lib.Tensor.bernoulli = bernoulli
    lib.Tensor.normal_ = normal_
    init = importlib.import_module(lib.__name__ + ".nn.init")
    if lib.__name__ != "torch":   # library code that calls torch.rand/rand_like in PyTorch's
        creation = importlib.import_module(lib.__name__ + "._core.creation")   # Python source
        creation.rand, creation.rand_like = rand, rand_like          # (nn.utils.prune) draws here
        creation.randint, creation.randperm = randint, randperm      # (data.RandomSampler) too
    if lib.__name__ == "torch":   # random_split calls the randperm its module imported
        importlib.import_module("torch.utils.data.dataset").randperm = randperm
    if lib.__name__ != "torch":   # Categorical.sample: PyTorch's calls torch.multinomial
        cat = importlib.import_module(lib.__name__ + ".distributions.categorical")
        cat._draw_categories = lambda probs, n: np.asarray(
            multinomial(probs, n, True).tolist(), dtype=np.int64).T
    if lib.__name__ != "torch":   # gradkit's init draws itself instead of calling uniform_
        init.uniform_ = lambda t, a=0.0, b=1.0, generator=None: uniform_(t, a, b)
        init.normal_ = lambda t, mean=0.0, std=1.0, generator=None: normal_(t, mean, std)
        real_gen = init._gen   # orthogonal_ draws its Gaussian matrix here; PyTorch's normal_()s it
        init._gen = lambda generator=None, like=None: (
            stream.rng if generator is None else real_gen(generator, like))

    # torch.distributions draws through exponential_ (Exponential, Pareto, Weibull), cauchy_
    # (Cauchy, HalfCauchy), torch._standard_gamma (Gamma, Chi2, StudentT, FisherSnedecor) and
    # torch._sample_dirichlet (Dirichlet, Beta); gradkit's through gk.rand and NumPy's
    # standard_gamma on its default generator: both from the stream, in the same formulas
    def exponential_(self: Any, lambd: float = 1.0, *, generator: Any = None) -> Any:
        return _fill(self, -np.log(stream.rng.random(tuple(self.shape))) / lambd)

    def cauchy_(self: Any, median: float = 0.0, sigma: float = 1.0, *,
                generator: Any = None) -> Any:
        u = stream.rng.random(tuple(self.shape))
        return _fill(self, median + sigma * np.tan(np.pi * (u - 0.5)))

    lib.Tensor.exponential_ = exponential_
    lib.Tensor.cauchy_ = cauchy_
    if lib.__name__ == "torch":
        def _gammas(alpha: Any) -> np.ndarray:
            return stream.rng.standard_gamma(np.asarray(alpha.detach().tolist(), dtype=np.float64))

        lib._standard_gamma = lambda alpha: lib.tensor(_gammas(alpha), dtype=alpha.dtype)

        def _sample_dirichlet(alpha: Any) -> Any:
            g = _gammas(alpha)
            return lib.tensor(g / g.sum(-1, keepdims=True), dtype=alpha.dtype)

        lib._sample_dirichlet = _sample_dirichlet
    else:
        sampling = importlib.import_module(lib.__name__ + ".distributions._sampling")
        real_sampling_gen = sampling._gen
        sampling._gen = lambda generator=None, like=None: (
            stream.rng if generator is None else real_sampling_gen(generator, like))

    real_poisson = lib.poisson

    def poisson(input: Any, generator: Any = None) -> Any:
        real_poisson(input)          # the library's own checks (an integer rate is refused)
        rates = np.asarray(input.detach().tolist(), dtype=np.float64)
        return lib.tensor(stream.rng.poisson(rates), dtype=input.dtype)

    lib.poisson = poisson
