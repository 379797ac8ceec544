"""gradkit: gradients in Python, every way people compute them, on one NumPy engine.

The namespace follows PyTorch: ``gradkit.tensor``, ``gradkit.no_grad``,
``gradkit.autograd.grad``, ``gradkit.float64``, ... so that
``import gradkit as torch`` runs PyTorch autograd code.

Examples
--------
>>> import gradkit as gk
>>> x = gk.tensor(1.0, requires_grad=True)
>>> y = x ** 2 + 2 * x + 3
>>> y.backward()
>>> x.grad
tensor(4.)
"""

from __future__ import annotations

import typing as _typing

from gradkit._core import dtype as _dtype
from gradkit._core.dtype import (bool, cdouble, cfloat, complex64, complex128, double, dtype,
                                 finfo, float, float16, float32, float64, get_default_dtype, half,
                                 iinfo, int, int8, int16, int32, int64, long, promote_types,
                                 result_type, set_default_dtype, short, uint8, uint16, uint32,
                                 uint64)
from gradkit._core.tensor import Size, Tensor
from gradkit._core.formats import (channels_last, channels_last_3d, contiguous_format, layout,
                                   memory_format, preserve_format, strided)
from . import autograd
from .autograd import (enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled)
from gradkit._core.grad_mode import is_inference_mode_enabled
from . import ops
from ._api import *  # noqa: F401,F403
from ._api import (abs, all, any, max, min, pow, round, sum)  # noqa: F401
from gradkit._api.special import *  # noqa: F401,F403
from gradkit._api import methods as _methods  # noqa: F401  (attaches Tensor methods)
from gradkit._api import random_sampling as _random_sampling  # noqa: F401  (uniform_, normal_, ...)
from gradkit._api import method_variants as _method_variants  # noqa: F401  (index_fill, new_*, T, ...)
from gradkit._api.mutating import *  # noqa: F401,F403
from gradkit._api.views import *  # noqa: F401,F403
from gradkit._api.differences import *  # noqa: F401,F403
from gradkit._api.distances import *  # noqa: F401,F403
from gradkit._api.histograms import *  # noqa: F401,F403
from gradkit._api.construction import *  # noqa: F401,F403
from gradkit._api.blas import *  # noqa: F401,F403
from gradkit._api.parallelism import *  # noqa: F401,F403
from gradkit._api.complex import *  # noqa: F401,F403  (also attaches .real, .imag, .conj(), ...)
from gradkit._api.inplace_functions import *  # noqa: F401,F403  (torch.sin_(t), torch.zero_(t), ...)
from gradkit._api.flags import *  # noqa: F401,F403  (use_deterministic_algorithms, typename, ...)
from gradkit._api import flags as _flags
from gradkit._api.floating import *  # noqa: F401,F403  (frexp, ldexp, i0, hann_window, ...)
from gradkit._api.fake_quantize import *  # noqa: F401,F403  (fake_quantize_per_tensor_affine, ...)
from gradkit._api import fake_quantize as _fake_quantize
from gradkit._api.sampling import *  # noqa: F401,F403  (multinomial, poisson, binomial)
from gradkit._api.copies import *  # noqa: F401,F403  (select_scatter, view_copy, ...)
from gradkit._api.buffers import *  # noqa: F401,F403  (empty_strided, frombuffer, from_dlpack)
from gradkit._api import floating as _floating, sampling as _sampling
from gradkit._api import buffers as _buffers, copies as _copies
from gradkit._api.spectral import istft, stft  # noqa: F401
from gradkit._api import surface_methods as _surface_methods  # noqa: F401  (x.i0(), x.is_cpu, ...)
from gradkit._api import inplace_functions as _inplace_functions
from gradkit._api import numpy_dispatch as _numpy  # noqa: F401  (NumPy dispatch: __array_ufunc__, __array_function__)
from gradkit._api import numpy_methods as _numpy_methods  # noqa: F401  (NumPy's keywords on Tensor methods)
from . import linalg
from gradkit._api.aliases import (cholesky_solve, det, inverse, log_softmax, logdet, matrix_exp,  # noqa: F401
                                  matrix_power, pinverse, slogdet, softmax, svd, triangular_solve)
from gradkit._core.creation import (Generator, arange, as_tensor, asarray, bernoulli, empty,
                                    empty_like, eye, from_numpy, full, full_like, get_rng_state,
                                    initial_seed, linspace, logspace, manual_seed, normal, ones,
                                    ones_like, rand, rand_like, randint, randint_like, randn,
                                    randn_like, randperm, scalar_tensor, seed, set_rng_state,
                                    tensor, zeros, zeros_like)
from gradkit._core.creation import default_generator
from gradkit._core.printing import get_printoptions, printoptions, set_printoptions
# torch.e, torch.pi, torch.inf, torch.nan (Python floats) and torch.newaxis (None)
from math import e, inf, nan, pi  # noqa: E402
newaxis = None

__version__ = "0.1.0"

if _typing.TYPE_CHECKING:
    # What __getattr__ below loads on first use, spelled out for type checkers (mypy, pyright)
    # so that `gk.nn.Linear` or `gk.optim.SGD` is a real name to them, not `object`.
    # tests/test_typing.py keeps this in step with _LAZY_MODULES and _LAZY_NAMES.
    # _api's __all__ is computed at import time, which checkers cannot read: name its families
    from ._api.base import *  # noqa: F401,F403
    from ._api.indexing import *  # noqa: F401,F403
    from ._api.pointwise import *  # noqa: F401,F403
    from ._api.products import *  # noqa: F401,F403
    from ._api.reduction import *  # noqa: F401,F403
    from ._api.shape import *  # noqa: F401,F403
    from . import (accelerator, amp, backends, cli, compile, compiler, cpu, cuda, cv2, data,
                   distributed, distributions, fft, func, functional, image, io, jit, nn,
                   numeric, numpy, optim, optimize, overrides, profiler, random, scipy,
                   serialization, signal, special, symbolic, tape, testing, tf, utils, version,
                   viz, xpu)
    from . import __future__  # noqa: F401  (torch.__future__; not a future statement)
    from .amp import autocast, is_autocast_enabled
    from .amp.autocast_mode import (autocast_decrement_nesting, autocast_increment_nesting,
                                    clear_autocast_cache, get_autocast_cpu_dtype,
                                    get_autocast_dtype, get_autocast_gpu_dtype,
                                    is_autocast_cache_enabled, is_autocast_cpu_enabled,
                                    set_autocast_cache_enabled, set_autocast_cpu_dtype,
                                    set_autocast_cpu_enabled, set_autocast_dtype,
                                    set_autocast_enabled, set_autocast_gpu_dtype)
    from .func._vmap import torch_vmap as vmap
    from ._api.lazy import compute, from_dask, persist
    from .io import load, save
    from .nn.functional import (adaptive_avg_pool1d, avg_pool1d, bilinear, channel_shuffle, conv1d,
                                conv2d, conv3d, conv_transpose1d, conv_transpose2d,
                                conv_transpose3d, cosine_similarity, hardshrink, pairwise_distance,
                                pdist, pixel_shuffle, pixel_unshuffle, prelu)
    from .nn.functional._aten import (adaptive_max_pool1d, alpha_dropout, alpha_dropout_,
                                      batch_norm, binary_cross_entropy_with_logits, celu, celu_,
                                      constant_pad_nd, cosine_embedding_loss, detach, dropout,
                                      dropout_, embedding, feature_alpha_dropout,
                                      feature_alpha_dropout_, feature_dropout, group_norm,
                                      hinge_embedding_loss, instance_norm, kl_div, layer_norm,
                                      margin_ranking_loss, max_pool1d, max_pool2d, max_pool3d,
                                      poisson_nll_loss, rms_norm, rrelu, rrelu_, selu, selu_,
                                      threshold, threshold_, triplet_margin_loss)
    from .linalg._legacy import (cholesky, cholesky_inverse, eig, frobenius_norm, geqrf, lstsq,
                                 lu, lu_solve, lu_unpack, matrix_rank, nuclear_norm, orgqr, ormqr,
                                 qr, solve, symeig)
    from .linalg._lowrank import pca_lowrank, svd_lowrank
    from .random import thread_safe_generator
    from .tape import GradientTape, Variable


def __getattr__(name: str) -> object:
    # NOTE: subpackages load on first use, so `import gradkit` stays fast.
    import importlib
    if name in _LAZY_MODULES:
        value: object = importlib.import_module(f"gradkit.{name}")
    elif name == "vmap":                           # torch.vmap: PyTorch's keywords and errors
        value = importlib.import_module("gradkit.func._vmap").torch_vmap
    elif name == "range":
        # torch.range (deprecated): not in __all__ and never cached in the module's globals, so
        # `from gradkit import *` and code in this module keep Python's range
        return importlib.import_module("gradkit._api.construction").torch_range
    elif name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f"gradkit.{_LAZY_NAMES[name]}"), name)
    elif name == "bfloat16":
        # NOTE: ml_dtypes is imported now (an optional extra); the dtype module keeps the one
        # object, and it is not cached here, so gradkit's public names do not depend on whether
        # it was asked for (tools/gen_tensor_stub.py reads them)
        from gradkit._core import dtype as _bf
        return _bf.__getattr__("bfloat16")
    else:
        raise AttributeError(f"module 'gradkit' has no attribute {name!r}")
    globals()[name] = value
    return value


_LAZY_MODULES = ("image", "func", "utils", "tape", "tf", "numeric", "nn", "symbolic", "viz", "cli",
                 "optimize", "optim", "data", "io", "cuda", "fft", "scipy", "numpy", "testing", "cv2",
                 "compile", "accelerator", "functional", "distributions", "backends", "random",
                 "special", "profiler", "xpu", "signal", "amp", "serialization", "cpu",
                 "__future__", "compiler", "jit", "version", "distributed", "overrides")
_LAZY_NAMES = {"GradientTape": "tape", "Variable": "tape", "save": "io", "load": "io",
               "compute": "_api.lazy", "persist": "_api.lazy", "from_dask": "_api.lazy",
               "autocast": "amp", "is_autocast_enabled": "amp",
               # torch.get_autocast_dtype, torch.set_autocast_enabled, ...: autocast's state
               **dict.fromkeys(("get_autocast_dtype", "set_autocast_dtype", "set_autocast_enabled",
                                "is_autocast_cache_enabled", "set_autocast_cache_enabled",
                                "clear_autocast_cache", "autocast_increment_nesting",
                                "autocast_decrement_nesting", "is_autocast_cpu_enabled",
                                "set_autocast_cpu_enabled", "get_autocast_cpu_dtype",
                                "set_autocast_cpu_dtype", "get_autocast_gpu_dtype",
                                "set_autocast_gpu_dtype"), "amp.autocast_mode"),
               # torch.cosine_similarity, ...: nn.functional's, also at the top level in PyTorch
               "cosine_similarity": "nn.functional", "pixel_shuffle": "nn.functional",
               "pixel_unshuffle": "nn.functional", "conv_transpose1d": "nn.functional",
               "conv_transpose2d": "nn.functional", "avg_pool1d": "nn.functional"}
# torch.conv2d, torch.pdist, ...: the same signature as nn.functional's
_LAZY_NAMES.update(dict.fromkeys(("conv1d", "conv2d", "conv3d", "conv_transpose3d", "pdist",
                                  "pairwise_distance", "bilinear", "prelu", "hardshrink",
                                  "adaptive_avg_pool1d", "channel_shuffle"), "nn.functional"))
# torch.dropout, torch.layer_norm, torch.kl_div, ...: PyTorch's own top-level signatures
_LAZY_NAMES.update(dict.fromkeys(("dropout", "dropout_", "alpha_dropout", "alpha_dropout_",
                                  "feature_dropout", "feature_alpha_dropout",
                                  "feature_alpha_dropout_", "layer_norm", "batch_norm",
                                  "instance_norm", "group_norm", "rms_norm", "kl_div",
                                  "poisson_nll_loss", "margin_ranking_loss",
                                  "hinge_embedding_loss", "triplet_margin_loss",
                                  "cosine_embedding_loss", "binary_cross_entropy_with_logits",
                                  "embedding", "adaptive_max_pool1d", "max_pool1d", "max_pool2d",
                                  "max_pool3d", "constant_pad_nd", "celu", "celu_", "selu",
                                  "selu_", "rrelu", "rrelu_", "threshold", "threshold_", "detach"),
                                 "nn.functional._aten"))
# torch.qr, torch.lu, torch.cholesky, ... (before torch.linalg) and the removed torch.eig, ...
_LAZY_NAMES.update(dict.fromkeys(("qr", "lu", "lu_solve", "lu_unpack", "cholesky",
                                  "cholesky_inverse", "eig", "symeig", "lstsq", "solve",
                                  "matrix_rank", "frobenius_norm", "nuclear_norm", "geqrf",
                                  "ormqr", "orgqr"),
                                 "linalg._legacy"))
# torch.svd_lowrank, torch.pca_lowrank: randomized low-rank SVD
_LAZY_NAMES.update(dict.fromkeys(("svd_lowrank", "pca_lowrank"), "linalg._lowrank"))
# torch.thread_safe_generator: torch.random's, also at the top level
_LAZY_NAMES["thread_safe_generator"] = "random"

from gradkit._api.legacy import (BoolTensor, ByteTensor, CharTensor, DoubleTensor,  # noqa: E402,F401
                                  FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor)
from gradkit._api import legacy as _legacy  # noqa: E402
from gradkit._api.method_variants import TypedStorage, UntypedStorage  # noqa: E402,F401
# torch.autograd.Variable
autograd.Variable = _legacy.Variable  # type: ignore[attr-defined]
from gradkit._core.backend import device, get_default_device, set_default_device  # noqa: E402
from gradkit._core.concrete import ConcretizationError  # noqa: E402,F401  (in __all__ below)

__all__ = [
    "Tensor", "Size", "dtype", "tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones",
    "full", "empty", "arange", "linspace", "logspace", "eye", "zeros_like", "ones_like",
    "full_like", "empty_like", "rand", "randn", "randint", "randperm", "rand_like", "randn_like",
    "randint_like", "normal", "bernoulli", "manual_seed", "seed", "initial_seed", "Generator",
    "get_rng_state", "set_rng_state", "scalar_tensor", "no_grad", "enable_grad",
    "set_grad_enabled", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled",
    "autograd", "ops", "float16", "float32", "float64", "half", "float", "double", "int8", "int16",
    "int32", "int64", "uint8", "uint16", "uint32", "uint64", "short", "int", "long", "bool",
    "complex64", "complex128", "cfloat",
    "cdouble", "get_default_dtype", "set_default_dtype", "promote_types", "result_type", "finfo",
    "iinfo", "set_printoptions", "get_printoptions", "printoptions", "linalg", "det", "inverse",
    "logdet", "slogdet", "pinverse", "matrix_power", "svd", "softmax", "log_softmax", "image", "func",
    "utils", "GradientTape", "Variable", "nn", "numeric", "symbolic", "viz", "optim", "data", "io",
    "save", "load", "optimize", "device", "cuda", "fft", "compute", "persist", "from_dask",
    "index_fill", "index_copy", "masked_scatter", "put", "select", "narrow_copy", "diff",
    "gradient", "cdist", "histc", "bincount", "histogram", "histogramdd", "cartesian_prod",
    "combinations", "meshgrid",
    "block_diag", "cross", "tril_indices", "triu_indices", "vander", "trapezoid", "trapz",
    "cumulative_trapezoid", "renorm", "addmm", "addmv", "addr", "addbmm", "baddbmm",
    "chain_matmul", "dstack", "column_stack", "row_stack", "atleast_3d", "scatter_reduce",
    "index_reduce", "index_put", "as_strided", "msort", "ravel", "is_same_size", "is_signed",
    "compile", "vmap", "accelerator", "distributions", "get_default_device", "set_default_device",
    "set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads",
]
__all__ += ["ConcretizationError", "e", "pi", "inf", "nan", "newaxis", "diagflat", "adjoint"]
__all__ += _inplace_functions.__all__
__all__ += ["layout", "strided", "memory_format", "contiguous_format", "channels_last",
            "channels_last_3d", "preserve_format", "backends", "random"]
__all__ += _fake_quantize.__all__
__all__ += _flags.__all__ + _floating.__all__ + _sampling.__all__ + _copies.__all__ + _buffers.__all__
__all__ += ["stft", "istft", "default_generator"]

# PyTorch's __torch_function__ protocol: the public functions dispatch to arguments that define
# it and to the active TorchFunctionMode (a type test per argument when neither is there).
# Functions PyTorch never dispatches (factories, seeds, global settings) stay as they are.
from gradkit._core import torch_function as _torch_function  # noqa: E402
from . import _C  # noqa: E402,F401  (torch._C.DisableTorchFunctionSubclass, ...)
_NOT_DISPATCHED = frozenset((
    "arange", "are_deterministic_algorithms_enabled", "as_strided", "as_tensor", "asarray",
    "bartlett_window", "blackman_window", "broadcast_shapes", "can_cast", "empty",
    "empty_permuted", "empty_strided", "eye", "fill", "from_numpy", "frombuffer", "full",
    "get_default_device", "get_default_dtype", "get_deterministic_debug_mode",
    "get_float32_matmul_precision", "get_num_interop_threads", "get_num_threads",
    "get_rng_state", "hamming_window", "hann_window", "initial_seed",
    "is_anomaly_check_nan_enabled", "is_anomaly_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "is_grad_enabled",
    "is_inference_mode_enabled", "is_storage", "is_tensor", "is_warn_always_enabled",
    "kaiser_window", "linspace", "logspace", "manual_seed", "normal", "ones", "promote_types",
    "rand", "rand_like", "randint", "randint_like", "randn", "randn_like", "randperm",
    "result_type", "scalar_tensor", "seed", "set_anomaly_enabled", "set_default_device",
    "set_default_tensor_type", "set_deterministic_debug_mode", "set_float32_matmul_precision",
    "set_flush_denormal", "set_num_interop_threads", "set_num_threads", "set_printoptions",
    "set_rng_state", "set_warn_always", "tensor", "tril_indices", "triu_indices", "typename",
    "use_deterministic_algorithms", "vander", "zeros", "get_printoptions", "printoptions",
    "set_default_dtype", "compile", "save", "load", "compute", "persist", "from_dask",
    "from_dlpack", "to_dlpack", "finfo", "iinfo"))
# the factories and type queries of those: only an active TorchFunctionMode sees them
_torch_function.wrap_namespace(globals(), (
    "arange", "as_tensor", "asarray", "empty", "eye", "full", "linspace", "logspace", "ones",
    "zeros", "rand", "randn", "randint", "randperm", "tensor", "scalar_tensor", "normal",
    "rand_like", "randn_like", "randint_like", "tril_indices", "triu_indices", "hann_window",
    "hamming_window", "bartlett_window", "blackman_window", "kaiser_window", "vander",
    "as_strided", "fill", "empty_strided", "result_type", "promote_types", "can_cast",
    "typename", "empty_permuted"), "gradkit", modes_only=True)
_torch_function.name_tensor_methods()
_torch_function.wrap_namespace(globals(), [n for n in list(globals()) if n not in _NOT_DISPATCHED
                                           and (getattr(globals()[n], "__module__", None) or "")
                                           .startswith("gradkit")], "gradkit")

if _typing.TYPE_CHECKING:
    # NOTE: pyright takes a package's public names from __all__ alone, so it would call `gk.sin`
    # private. These are the other names `gk.` offers (functions, lazily loaded modules); type
    # checkers see them in __all__, `from gradkit import *` at run time stays as above.
    # BEGIN names written by tools/gen_tensor_stub.py
    __all__ += ["BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor",
                "HalfTensor", "IntTensor", "LongTensor", "ShortTensor", "TypedStorage",
                "UntypedStorage", "__future__", "abs", "absolute", "acos", "acosh",
                "adaptive_avg_pool1d", "adaptive_max_pool1d", "add", "addcdiv", "addcmul", "all",
                "allclose", "alpha_dropout", "alpha_dropout_", "amax", "amin", "aminmax", "amp",
                "angle", "any", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2",
                "arctanh", "argmax", "argmin", "argsort", "argwhere", "asin", "asinh", "atan",
                "atan2", "atanh", "atleast_1d", "atleast_2d", "autocast",
                "autocast_decrement_nesting", "autocast_increment_nesting", "avg_pool1d",
                "batch_norm", "bilinear", "binary_cross_entropy_with_logits", "bitwise_and",
                "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift",
                "bitwise_xor", "bmm", "broadcast_shapes", "broadcast_tensors", "broadcast_to",
                "bucketize", "cat", "ceil", "celu", "celu_", "channel_shuffle", "cholesky",
                "cholesky_inverse", "cholesky_solve", "chunk", "clamp", "clamp_max", "clamp_min",
                "clear_autocast_cache", "cli", "clip", "clone", "compiler", "complex", "concat",
                "concatenate", "conj", "conj_physical", "constant_pad_nd", "conv1d", "conv2d",
                "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "copysign",
                "corrcoef", "cos", "cosh", "cosine_embedding_loss", "cosine_similarity",
                "count_nonzero", "cov", "cpu", "cummax", "cummin", "cumprod", "cumsum", "cv2",
                "deg2rad", "detach", "diag", "diag_embed", "diagonal", "digamma", "dist",
                "distributed", "div", "divide", "dot", "dropout", "dropout_", "dsplit", "eig",
                "einsum", "embedding", "eq", "equal", "erf", "erfc", "erfinv", "exp", "exp2",
                "expand", "expand_as", "expm1", "feature_alpha_dropout", "feature_alpha_dropout_",
                "feature_dropout", "fix", "flatten", "flip", "fliplr", "flipud", "float_power",
                "floor", "floor_divide", "fmax", "fmin", "fmod", "frac", "frobenius_norm",
                "functional", "gather", "gcd", "ge", "geqrf", "ger", "get_autocast_cpu_dtype",
                "get_autocast_dtype", "get_autocast_gpu_dtype", "greater", "greater_equal",
                "group_norm", "gt", "hardshrink", "hash_tensor", "heaviside",
                "hinge_embedding_loss", "hsplit", "hstack", "hypot", "imag", "index_add",
                "index_select", "inner", "instance_norm", "is_autocast_cache_enabled",
                "is_autocast_cpu_enabled", "is_autocast_enabled", "is_complex", "is_conj",
                "is_floating_point", "is_inference", "is_neg", "is_nonzero", "is_tensor",
                "isclose", "isfinite", "isin", "isinf", "isnan", "isneginf", "isposinf", "isreal",
                "jit", "kl_div", "kron", "kthvalue", "layer_norm", "lcm", "le", "lerp", "less",
                "less_equal", "lgamma", "log", "log10", "log1p", "log2", "logaddexp", "logaddexp2",
                "logcumsumexp", "logical_and", "logical_not", "logical_or", "logical_xor", "logit",
                "logsumexp", "lstsq", "lt", "lu", "lu_solve", "lu_unpack", "margin_ranking_loss",
                "masked_fill", "masked_select", "matmul", "matrix_exp", "matrix_rank", "max",
                "max_pool1d", "max_pool2d", "max_pool3d", "maximum", "mean", "median", "min",
                "minimum", "mm", "mode", "moveaxis", "movedim", "mul", "multiply", "mv",
                "nan_to_num", "nanmean", "nanmedian", "nanquantile", "nansum", "narrow", "ne",
                "neg", "negative", "nonzero", "nonzero_static", "norm", "not_equal",
                "nuclear_norm", "numel", "numpy", "orgqr", "ormqr", "outer", "overrides",
                "pairwise_distance", "pca_lowrank", "pdist", "permute", "pixel_shuffle",
                "pixel_unshuffle", "poisson_nll_loss", "polar", "polygamma", "positive", "pow",
                "prelu", "prod", "profiler", "qr", "quantile", "rad2deg", "real", "reciprocal",
                "relu", "remainder", "repeat", "repeat_interleave", "reshape", "resolve_conj",
                "resolve_neg", "rms_norm", "roll", "rot90", "round", "rrelu", "rrelu_", "rsqrt",
                "rsub", "scatter", "scatter_add", "scipy", "searchsorted", "selu", "selu_",
                "serialization", "set_autocast_cache_enabled", "set_autocast_cpu_dtype",
                "set_autocast_cpu_enabled", "set_autocast_dtype", "set_autocast_enabled",
                "set_autocast_gpu_dtype", "sgn", "sigmoid", "sign", "signal", "signbit", "sin",
                "sinc", "sinh", "solve", "sort", "special", "special_xlogy", "split",
                "split_with_sizes", "sqrt", "square", "squeeze", "stack", "std", "std_mean", "sub",
                "subtract", "sum", "svd_lowrank", "swapaxes", "swapdims", "symeig", "t", "take",
                "take_along_dim", "tan", "tanh", "tape", "tensor_split", "tensordot", "testing",
                "tf", "thread_safe_generator", "threshold", "threshold_", "tile", "topk", "trace",
                "transpose", "triangular_solve", "tril", "triplet_margin_loss", "triu",
                "true_divide", "trunc", "unbind", "unflatten", "unfold", "unique",
                "unique_consecutive", "unravel_index", "unsqueeze", "var", "var_mean", "vdot",
                "version", "view", "view_as_complex", "view_as_real", "vsplit", "vstack", "where",
                "xlogy", "xpu"]
    # END names written by tools/gen_tensor_stub.py
del _dtype, _typing
