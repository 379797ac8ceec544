"""``gradkit.save`` / ``gradkit.load``: tensors and nested containers, without pickle.

The file is a ZIP archive (stored, not compressed) holding

* ``gradkit.json``: the format name and version, and the object tree in JSON,
  in which every tensor is a reference to an array entry, with its dtype, shape
  and SHA-256;
* ``gradkit.sha256``: the SHA-256 of ``gradkit.json``;
* ``arrays/<n>.npy``: the raw arrays, read back with ``np.load(allow_pickle=False)``.

Loading never executes code: only JSON and ``.npy`` data are parsed, and only
the types listed below are rebuilt. A truncated, tampered or foreign file
raises :class:`SerializationError` (a ``ValueError``), never a wrong tensor.
Files from elsewhere are untrusted: every member must be stored uncompressed (a
compressed member could inflate without bound), lie inside the file without
overlapping another, and match the manifest's dtype, shape and size before a byte
of it is read, so memory stays bounded by the file's size; dtypes are numeric only.
Files are written atomically: to a temporary file in the same directory
(``.<name>.<pid>.<random>.gradkit-tmp``), flushed and fsynced, then renamed over
the target with ``os.replace``. The new file gets the usual ``0o666 & ~umask`` mode
(or keeps the mode of the file it replaces), and a save sweeps the temporary files
that killed saves to the same path left behind.

Storable: ``Tensor`` (and ``nn.Parameter``), ``numpy.ndarray``, ``dict``
(``OrderedDict``, ``Counter``; keys of the scalar types or tuples of them),
``list``, ``tuple``, ``str``, ``int``, ``float``, ``bool``, ``None`` and
NumPy scalars (stored as Python numbers). A tensor stored twice is restored
as one object. A view (``numbers[1::2]``, not requiring grad) is stored as its place in
its base's elements, and the base's elements once, so views loaded together share memory
again as PyTorch's do (``loaded_evens *= 2`` shows in ``loaded_numbers``); such a file has
format version 2 (a reader of version 1 refuses it rather than load a view as its base).

Examples
--------
>>> import os, tempfile
>>> import gradkit as gk
>>> path = os.path.join(tempfile.mkdtemp(), "state.gk")
>>> save({"w": gk.tensor([1.0, 2.0]), "step": 3}, path)
>>> load(path)
{'w': tensor([1., 2.]), 'step': 3}
"""

from __future__ import annotations

import hashlib
import io as _io
import json
import os
import re
import struct
import zipfile
from collections import Counter, OrderedDict
from typing import Any, BinaryIO

import numpy as np

from gradkit._core import backend as _backend
from gradkit._core.tensor import Tensor, _make
from gradkit.io._atomic import PathOrFile, _save_with

__all__ = ["save", "load", "SerializationError", "save_safetensors", "load_safetensors"]

FORMAT = "gradkit.save"
VERSION = 1
VIEW_VERSION = 2  # a file with view entries: {"tensor": base_array, "view": [offset, shape, strides]}
_MANIFEST = "gradkit.json"
_CHECKSUM = "gradkit.sha256"
_MAX_DEPTH = 200
_MAX_MEMBERS = 1 << 20  # members of one file; a state dict has thousands at most
_MAX_NDIM = 64  # NumPy's own limit
_NUMERIC_KINDS = "biufc"
#: a bfloat16 array's dtype in the manifest; its member holds the raw bits as a little-endian
#: uint16 .npy (NumPy has no bfloat16; loading it needs ml_dtypes, as making one does)
_BF16_CODE = "bfloat16"
_ARRAY_NAME = re.compile(r"arrays/(0|[1-9][0-9]{0,8})\.npy")


class SerializationError(ValueError):
    """A file is not a valid gradkit save file (truncated, corrupted, modified or foreign)."""


# --------------------------------------------------------------------------- encoding
class _Encoder:
    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self.memo: dict[int, int] = {}
        self.keep: list[Any] = []  # keeps ids stable while encoding
        self.views = False

    def array(self, obj: Any, arr: np.ndarray) -> int:
        key = id(obj)
        if key not in self.memo:
            if arr.dtype.kind not in "biufc" and not _is_bf16(arr.dtype):
                raise TypeError(f"gradkit.save cannot store arrays of dtype {arr.dtype}")
            self.memo[key] = len(self.arrays)
            self.arrays.append(arr)
            self.keep.append(obj)
        return self.memo[key]

    def encode(self, obj: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise ValueError("gradkit.save: object nested too deeply (or recursive)")
        if obj is None or isinstance(obj, (bool, str)):
            return obj if not isinstance(obj, str) else {"str": obj}
        if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
            return {"int": str(int(obj))}
        if isinstance(obj, (float, np.floating)):
            return {"float": float(obj).hex()}
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, Tensor):
            from gradkit.nn.modules.module import Parameter

            kind = "parameter" if isinstance(obj, Parameter) else "tensor"
            if obj.device.type == "meta":
                # a meta tensor has no values: its dtype and shape are stored, as PyTorch does
                return {"meta": {"kind": kind, "dtype": _code(obj._data.dtype),
                                 "shape": [int(d) for d in obj.shape]},
                        "requires_grad": bool(obj.requires_grad)}
            view = _view_in_base(obj)
            if view is not None:
                base, where = view
                self.views = True
                self.keep.append(obj)
                return {"tensor": self.array(base, base._data), "view": where}
            # NOTE: a Dask-backed tensor is computed and a GPU tensor copied to the host: files
            # hold values, and load them on the CPU
            data = obj._data if type(obj._data) is np.ndarray else _backend.to_numpy(obj._data)
            return {kind: self.array(obj, data), "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"ndarray": self.array(obj, obj)}
        if isinstance(obj, (list, tuple)):
            kind = "list" if isinstance(obj, list) else "tuple"
            return {kind: [self.encode(v, depth + 1) for v in obj]}
        if isinstance(obj, dict):
            kind = (
                "counter" if isinstance(obj, Counter) else "odict" if isinstance(obj, OrderedDict) else "dict"
            )
            return {kind: [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in obj.items()]}
        raise TypeError(
            f"gradkit.save cannot store objects of type {type(obj).__module__}.{type(obj).__name__}; "
            "store tensors, arrays, numbers, strings, None and dicts/lists/tuples of them"
        )


def _view_in_base(t: Tensor) -> tuple[Tensor, list[Any]] | None:
    """``(base, [offset, shape, strides])`` (in elements of the base) for a view that can be
    stored as a place in its base's elements, else None (stored as a copy of its values).
    Only plain, grad-free tensors over a C-contiguous NumPy base, with no more elements
    than the base (no broadcast views) and non-negative strides."""
    from gradkit.nn.modules.module import Parameter

    base = getattr(t, "_base", None)
    if base is None or t.requires_grad or base.requires_grad or isinstance(t, Parameter) \
            or isinstance(base, Parameter):
        return None
    b, d = base._data, t._data
    if type(b) is not np.ndarray or type(d) is not np.ndarray or b.dtype != d.dtype \
            or not b.flags.c_contiguous or d.size > b.size:
        return None
    item = b.itemsize
    start = d.__array_interface__["data"][0] - b.__array_interface__["data"][0]
    if start < 0 or start % item or any(s < 0 or s % item for s in d.strides):
        return None
    offset, strides = start // item, [s // item for s in d.strides]
    if d.size and offset + sum((n - 1) * s for n, s in zip(d.shape, strides)) >= b.size:
        return None
    return base, [offset, list(d.shape), strides]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_bf16(dt: Any) -> bool:
    return dt.kind == "V" and dt.name == "bfloat16" and dt.itemsize == 2


def _code(dt: Any) -> str:
    """An array's dtype as the manifest writes it."""
    return _BF16_CODE if _is_bf16(dt) else dt.str


def _bf16_np(fail: Any) -> Any:
    """ml_dtypes' bfloat16 for a file that holds one, or the reader's error naming the extra."""
    from gradkit._core import dtype as _dtype
    try:
        return _dtype.load_bfloat16().np
    except TypeError as e:
        raise fail(f"the file holds bfloat16 arrays: {e}") from None


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = _io.BytesIO()
    if _is_bf16(arr.dtype):
        arr = np.ascontiguousarray(arr).view("<u2")
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _write_zip(f: BinaryIO, obj: Any) -> None:
    enc = _Encoder()
    tree = enc.encode(obj)
    blobs = [_npy_bytes(a) for a in enc.arrays]
    arrays = [
        {"dtype": _code(a.dtype), "shape": list(a.shape), "sha256": _sha(b)}
        for a, b in zip(enc.arrays, blobs)
    ]
    version = VIEW_VERSION if enc.views else VERSION
    manifest = json.dumps(
        {"format": FORMAT, "version": version, "tree": tree, "arrays": arrays}, separators=(",", ":")
    ).encode()
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr(_MANIFEST, manifest)
        z.writestr(_CHECKSUM, _sha(manifest))
        for i, blob in enumerate(blobs):
            z.writestr(f"arrays/{i}.npy", blob)


def save(obj: Any, f: PathOrFile, *, metadata: Any = None) -> None:
    """Save ``obj`` (tensors, state dicts, nested containers) to a path or a binary file object.

    A path ending in ``.safetensors`` is written in the safetensors format (``obj`` must
    be a flat ``{name: tensor}`` dict, such as a ``state_dict()``; ``metadata`` is an
    optional ``str -> str`` dict stored as ``__metadata__``); see :func:`save_safetensors`.
    Anything else is written in gradkit's zip format.

    A path is written atomically: either the old file or the complete new one
    exists afterwards, even if the process dies while writing.
    """
    if _is_safetensors_path(f):
        save_safetensors(obj, f, metadata=metadata)
        return
    if metadata is not None:
        raise ValueError("metadata= is stored by the safetensors format only (a path ending in .safetensors)")
    _save_with(lambda out: _write_zip(out, obj), f)


def _is_safetensors_path(f: Any) -> bool:
    return not hasattr(f, "write") and os.fspath(f).lower().endswith(".safetensors")


def save_safetensors(tensors: Any, f: PathOrFile, metadata: Any = None) -> None:
    """Save a flat ``{name: tensor}`` dict in the safetensors format (as ``safetensors.torch.save_file``).

    The file loads with ``safetensors.torch.load_file`` / ``safetensors.numpy.load_file``
    and with :func:`load`. ``metadata`` is an optional ``str -> str`` dict. Tensors must
    be numeric or bool; requires_grad is not stored (the format has no field for it). A
    path is written atomically, as :func:`save`.
    """
    from gradkit.io._safetensors import _arrays, write_safetensors

    _arrays(tensors)  # refuse a nested object before touching the file system
    _save_with(lambda out: write_safetensors(out, tensors, metadata), f)


# --------------------------------------------------------------------------- decoding
class _Decoder:
    def __init__(self, z: zipfile.ZipFile, specs: list[dict[str, Any]], name: str) -> None:
        self.z, self.specs, self.name = z, specs, name
        self.cache: dict[tuple[Any, ...], Any] = {}
        self.views = False

    def fail(self, why: str) -> SerializationError:
        return SerializationError(f"{self.name}: {why}")

    def array(self, index: Any) -> np.ndarray:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self.specs):
            raise self.fail(f"invalid array reference {index!r}")
        spec = self.specs[index]
        dtype, shape = spec["dtype"], spec["shape"]  # checked by _check_specs
        blob = self.z.read(f"arrays/{index}.npy")  # its size was checked against the file and the spec
        if _sha(blob) != spec.get("sha256"):
            raise self.fail(f"checksum mismatch for array {index}; the file is corrupted or was modified")
        head = _io.BytesIO(blob)
        try:
            version = np.lib.format.read_magic(head)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"unsupported .npy version {version}")
            fmt = np.lib.format
            read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            npy_shape, fortran, npy_dtype = read_header(head)
        except ValueError as e:
            raise self.fail(f"array {index} has a malformed .npy header: {e}") from None
        offset = head.tell()
        bits = _is_bf16(dtype)                   # stored as its uint16 bits
        if (
            npy_dtype != (np.dtype("<u2") if bits else dtype)
            or tuple(npy_shape) != shape
            or len(blob) - offset != dtype.itemsize * _count(shape)
        ):
            raise self.fail(f"array {index} does not match its description in the manifest")
        arr = np.frombuffer(blob, dtype=npy_dtype, count=_count(shape), offset=offset)
        arr = arr.reshape(shape, order="F" if fortran else "C").copy(order="K")
        return arr.view(dtype) if bits else arr

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise self.fail("object tree nested too deeply")
        if node is None or isinstance(node, bool):
            return node
        if not isinstance(node, dict) or len(node) not in (1, 2):
            raise self.fail(f"unexpected entry in the object tree: {str(node)[:60]}")
        kind = next(iter(node))
        value = node[kind]
        if kind == "str" and isinstance(value, str):
            return value
        if kind == "int" and isinstance(value, str):
            return int(value)
        if kind == "float" and isinstance(value, str):
            return float.fromhex(value)
        if kind == "tensor" and "view" in node:
            return self._view_node(value, node["view"])
        if kind in ("tensor", "parameter", "ndarray"):
            return self._array_node(kind, value, node.get("requires_grad", False))
        if kind == "meta" and isinstance(value, dict):
            return self._meta_node(value, node.get("requires_grad", False))
        if kind in ("list", "tuple") and isinstance(value, list):
            items = [self.decode(v, depth + 1) for v in value]
            return items if kind == "list" else tuple(items)
        if kind in ("dict", "odict", "counter") and isinstance(value, list):
            cls = {"dict": dict, "odict": OrderedDict, "counter": Counter}[kind]
            out = cls()
            for pair in value:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise self.fail("malformed dict entry")
                key = self.decode(pair[0], depth + 1)
                try:
                    out[key] = self.decode(pair[1], depth + 1)
                except TypeError:
                    raise self.fail("unhashable dict key") from None
            return out
        raise self.fail(f"unknown entry type {kind!r}")

    def _meta_node(self, spec: dict[str, Any], requires_grad: Any) -> Any:
        """A meta tensor (dtype and shape, no values), checked as an array's description is."""
        code, shape, kind = spec.get("dtype"), spec.get("shape"), spec.get("kind")
        try:
            dtype = None if not isinstance(code, str) else _bf16_np(self.fail) \
                if code == _BF16_CODE else np.dtype(code)
        except (TypeError, ValueError):
            dtype = None
        if (dtype is None or (dtype.kind not in _NUMERIC_KINDS and code != _BF16_CODE)
                or dtype.fields is not None or dtype.subdtype is not None):
            raise self.fail(f"meta tensor has an invalid dtype {str(code)[:40]!r}")
        if (not isinstance(shape, list) or len(shape) > _MAX_NDIM
                or not all(type(d) is int and 0 <= d < 1 << 62 for d in shape)):
            raise self.fail(f"meta tensor has an invalid shape {str(shape)[:60]}")
        if kind not in ("tensor", "parameter") or not isinstance(requires_grad, bool):
            raise self.fail("malformed meta tensor entry")
        if requires_grad and dtype.kind not in "fcV":
            raise self.fail(f"a meta tensor of dtype {dtype} cannot require gradients")
        from gradkit._core.meta import MetaArray

        out = _make(MetaArray(tuple(shape), dtype), False, None)
        if kind == "parameter":
            from gradkit.nn.modules.module import Parameter

            return Parameter(out, requires_grad=requires_grad)
        return out.requires_grad_(True) if requires_grad else out
    def _view_node(self, index: Any, where: Any) -> Any:
        if not self.views:
            raise self.fail("view entry in a file of format version 1")
        ok = isinstance(where, list) and len(where) == 3 and isinstance(where[1], list) \
            and isinstance(where[2], list) and len(where[1]) == len(where[2]) <= _MAX_NDIM \
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                    for v in [where[0], *where[1], *where[2]])
        if not ok:
            raise self.fail(f"invalid view entry {str(where)[:60]!r}")
        key = ("view", index, json.dumps(where))
        if key in self.cache:
            return self.cache[key]
        base = self._array_node("tensor", index, False)
        offset, shape, strides = where
        if _count(shape) > base.numel() or (_count(shape) and offset + sum(
                (n - 1) * s for n, s in zip(shape, strides)) >= base.numel()):
            raise self.fail(f"view entry {str(where)[:60]!r} reaches outside array {index}")
        from gradkit._api.views import as_strided

        out = as_strided(base, shape, strides, offset)
        self.cache[key] = out
        return out

    def _array_node(self, kind: str, index: Any, requires_grad: Any) -> Any:
        key = (kind, index)
        if key in self.cache:
            return self.cache[key]
        if not isinstance(requires_grad, bool):
            raise self.fail(f"invalid requires_grad {str(requires_grad)[:20]!r} for array {index}")
        arr = self.array(index)
        if kind != "ndarray" and requires_grad and arr.dtype.kind not in "fcV":
            raise self.fail(
                f"array {index} of dtype {arr.dtype} cannot require gradients (only floating "
                "point and complex tensors can)"
            )
        if kind == "ndarray":
            out: Any = arr
        elif kind == "parameter":
            from gradkit.nn.modules.module import Parameter

            out = Parameter(_make(arr, False, None), requires_grad=bool(requires_grad))
        else:
            out = _make(arr, False, None)
            if requires_grad:
                out.requires_grad_(True)
        self.cache[key] = out
        return out


def load(f: PathOrFile, map_location: Any = None, weights_only: bool = True, **kwargs: Any) -> Any:
    """Load an object written by :func:`save`.

    ``map_location`` and ``weights_only`` are accepted for PyTorch compatibility
    (gradkit is CPU-only and never unpickles). Files may come from anywhere: what
    is read is checked first (see the module's notes), and memory stays bounded by
    the file's size.

    Raises
    ------
    SerializationError
        The file is not a gradkit save file, or it is truncated, corrupted, modified
        or crafted (compressed or overlapping members, sizes that do not add up,
        non-numeric dtypes, nesting too deep).
    OSError
        The path cannot be opened (missing, a directory, no permission), as ``torch.load``.
    """
    if hasattr(f, "read"):
        return _load_file(f, "file object")  # type: ignore[arg-type]
    with open(f, "rb") as fh:
        return _load_file(fh, repr(os.fspath(f)))


def load_safetensors(f: PathOrFile, with_metadata: bool = False) -> Any:
    """Load a safetensors file as a ``{name: Tensor}`` dict (as ``safetensors.torch.load_file``).

    With ``with_metadata=True`` returns ``(tensors, metadata)``, metadata being the
    file's ``__metadata__`` dict or None. Dtypes and shapes are kept; BF16 (which
    gradkit lacks) is widened to float32 exactly, with a warning; U16/U32/U64 (which it
    also lacks) are widened exactly to int32/int64, and a U64 value over int64's range is
    refused, so a tensor's arithmetic never wraps at a bound its dtype does not have. The file is untrusted:
    see :mod:`gradkit.io._safetensors` for the checks; a bad file raises
    :class:`SerializationError`.
    """
    if hasattr(f, "read"):
        return _load_safetensors(f, "file object", with_metadata)  # type: ignore[arg-type]
    with open(f, "rb") as fh:
        return _load_safetensors(fh, repr(os.fspath(f)), with_metadata)


def _load_safetensors(fh: BinaryIO, name: str, with_metadata: bool = False) -> Any:
    from gradkit.io._safetensors import read_safetensors

    try:
        arrays, metadata = read_safetensors(fh, name)
    except (OSError, ValueError, struct.error, OverflowError, MemoryError) as exc:
        if isinstance(exc, SerializationError):
            raise
        raise SerializationError(f"{name} is not a valid safetensors file: {type(exc).__name__}: "
                                 f"{str(exc)[:200]}") from exc
    tensors = {k: _make(a, False, None) for k, a in arrays.items()}
    return (tensors, metadata) if with_metadata else tensors


def _load_file(fh: BinaryIO, name: str) -> Any:
    from gradkit.io._safetensors import is_safetensors

    start = fh.tell()
    head = fh.read(9)
    fh.seek(start)
    if is_safetensors(head):
        return _load_safetensors(fh, name)
    try:
        with zipfile.ZipFile(fh, "r") as z:
            return _load_zip(z, fh, name)
    except SerializationError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        KeyError,
        ValueError,
        OSError,
        UnicodeDecodeError,
        NotImplementedError,
        OverflowError,
        RecursionError,
        struct.error,
    ) as exc:
        raise SerializationError(
            f"{name} is not a valid gradkit file (truncated, corrupted or another format): "
            f"{type(exc).__name__}: {str(exc)[:200]}"
        ) from exc


def _load_zip(z: zipfile.ZipFile, fh: BinaryIO, name: str) -> Any:
    def fail(why: str) -> SerializationError:
        return SerializationError(f"{name}: {why}")

    infos = z.infolist()
    names = {i.filename for i in infos}
    if _MANIFEST not in names or _CHECKSUM not in names:
        raise SerializationError(
            f"{name} is not a gradkit save file (no {_MANIFEST}); it may be a PyTorch or other archive"
        )
    _check_members(z, infos, fh, fail)
    raw = z.read(_MANIFEST)
    if z.read(_CHECKSUM).decode("ascii", "replace").strip() != _sha(raw):
        raise fail("manifest checksum mismatch; the file is corrupted or was modified")
    try:
        manifest = json.loads(raw)
    except RecursionError:
        raise fail("the manifest is nested too deeply") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SerializationError(f"{name} is not a gradkit save file")
    if manifest.get("version") not in (VERSION, VIEW_VERSION) or isinstance(manifest.get("version"), bool):
        raise SerializationError(
            f"{name} has format version {manifest.get('version')}; this gradkit reads "
            f"versions {VERSION} and {VIEW_VERSION}. Upgrade gradkit to read it"
        )
    specs = manifest.get("arrays")
    if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
        raise fail("malformed manifest")
    sizes = {i.filename: i.file_size for i in infos}
    decoder = _Decoder(z, _check_specs(specs, sizes, fail), name)
    decoder.views = manifest.get("version") == VIEW_VERSION
    return decoder.decode(manifest.get("tree"))


def _check_members(z: zipfile.ZipFile, infos: list[zipfile.ZipInfo], fh: BinaryIO, fail: Any) -> None:
    """Each member: a name of the format, once, stored, unencrypted, inside the file, not overlapping."""
    if len(infos) > _MAX_MEMBERS:
        raise fail(f"{len(infos)} members (at most {_MAX_MEMBERS}); not a file gradkit.save writes")
    seen: set[str] = set()
    spans = []
    end_of_data = getattr(z, "start_dir", None)
    if not isinstance(end_of_data, int):  # pragma: no cover - CPython's zipfile records it
        end_of_data = fh.seek(0, os.SEEK_END)
    for info in infos:
        member = info.filename
        if member in seen:
            raise fail(f"member {member!r} appears twice")
        seen.add(member)
        if member not in (_MANIFEST, _CHECKSUM) and not _ARRAY_NAME.fullmatch(member):
            raise fail(f"unexpected member {member[:80]!r}; not a file gradkit.save writes")
        if info.compress_type != zipfile.ZIP_STORED:
            raise fail(
                f"member {member!r} is compressed (method {info.compress_type}); gradkit files are stored "
                "uncompressed, and compressed members are refused because they can inflate without bound"
            )
        if info.flag_bits & 0x1:
            raise fail(f"member {member!r} is encrypted")
        if info.compress_size != info.file_size:
            raise fail(f"member {member!r} declares {info.file_size} bytes but stores {info.compress_size}")
        if info.header_offset < 0:
            raise fail(f"member {member!r} starts before the file does; truncated or crafted")
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            raise fail(
                f"member {member!r} has no local header where the directory says; truncated or corrupted"
            )
        start = info.header_offset + 30 + sum(struct.unpack("<HH", local[26:30]))
        end = start + info.compress_size
        if end > end_of_data:
            raise fail(
                f"member {member!r} declares {info.file_size} bytes, more than the file holds; "
                "truncated or crafted"
            )
        spans.append((info.header_offset, end, member))
    spans.sort()
    for (_, end, a), (begin, _, b) in zip(spans, spans[1:]):
        if end > begin:
            raise fail(f"members {a!r} and {b!r} overlap; the file is crafted or corrupted")


def _count(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _check_specs(specs: list[dict[str, Any]], sizes: dict[str, int], fail: Any) -> list[dict[str, Any]]:
    """The manifest's arrays, with dtype and shape checked against their members' sizes."""
    members = {n for n in sizes if n.startswith("arrays/")}
    expected = {f"arrays/{i}.npy" for i in range(len(specs))}
    if members - expected:
        raise fail(f"members not in the manifest: {', '.join(sorted(members - expected)[:3])}")
    out = []
    for i, spec in enumerate(specs):
        member = f"arrays/{i}.npy"
        if member not in sizes:
            raise fail(f"array {i} is missing; the file is truncated or corrupted")
        code, shape = spec.get("dtype"), spec.get("shape")
        try:
            if not isinstance(code, str):
                raise TypeError
            dtype = _bf16_np(fail) if code == _BF16_CODE else np.dtype(code)
        except (TypeError, ValueError):
            raise fail(f"array {i} has an invalid dtype {str(code)[:40]!r}") from None
        if (dtype.kind not in _NUMERIC_KINDS and code != _BF16_CODE) or dtype.fields is not None \
                or dtype.subdtype is not None:
            raise fail(
                f"array {i} has dtype {str(code)[:40]!r}; gradkit files hold only bool, integer, "
                "float and complex arrays"
            )
        if (
            not isinstance(shape, list)
            or len(shape) > _MAX_NDIM
            or not all(type(d) is int and d >= 0 for d in shape)
        ):
            raise fail(f"array {i} has an invalid shape {str(shape)[:60]}")
        nbytes = _count(shape) * dtype.itemsize
        if nbytes > sizes[member]:
            raise fail(
                f"array {i} declares shape {tuple(shape)} of {dtype} ({nbytes} bytes) but its member "
                f"holds {sizes[member]} bytes"
            )
        out.append({"dtype": dtype, "shape": tuple(shape), "sha256": spec.get("sha256")})
    return out
