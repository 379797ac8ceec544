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
Files are written atomically: to a temporary file in the same directory,
flushed and fsynced, then renamed over the target with ``os.replace``.

Storable: ``Tensor`` (and ``nn.Parameter``), ``numpy.ndarray``, ``dict``
(``OrderedDict``, ``Counter``; keys of the scalar types or tuples of them),
``list``, ``tuple``, ``str``, ``int``, ``float``, ``bool``, ``None`` and
NumPy scalars (stored as Python numbers). A tensor stored twice is restored
as one object.

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
import tempfile
import zipfile
from collections import Counter, OrderedDict
from typing import Any, BinaryIO, Union

import numpy as np

from . import _backend
from ._tensor import Tensor, _make

__all__ = ["save", "load", "SerializationError"]

FORMAT = "gradkit.save"
VERSION = 1
_MANIFEST = "gradkit.json"
_CHECKSUM = "gradkit.sha256"
_MAX_DEPTH = 200
PathOrFile = Union[str, "os.PathLike[str]", BinaryIO]


class SerializationError(ValueError):
    """A file is not a valid gradkit save file (truncated, corrupted, modified or foreign)."""


# --------------------------------------------------------------------------- encoding
class _Encoder:
    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self.memo: dict[int, int] = {}
        self.keep: list[Any] = []  # keeps ids stable while encoding

    def array(self, obj: Any, arr: np.ndarray) -> int:
        key = id(obj)
        if key not in self.memo:
            if arr.dtype.kind not in "biufc":
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
            from .nn.modules.module import Parameter

            kind = "parameter" if isinstance(obj, Parameter) else "tensor"
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


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = _io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _write_zip(f: BinaryIO, obj: Any) -> None:
    enc = _Encoder()
    tree = enc.encode(obj)
    blobs = [_npy_bytes(a) for a in enc.arrays]
    arrays = [
        {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": _sha(b)} for a, b in zip(enc.arrays, blobs)
    ]
    manifest = json.dumps(
        {"format": FORMAT, "version": VERSION, "tree": tree, "arrays": arrays}, separators=(",", ":")
    ).encode()
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr(_MANIFEST, manifest)
        z.writestr(_CHECKSUM, _sha(manifest))
        for i, blob in enumerate(blobs):
            z.writestr(f"arrays/{i}.npy", blob)


def save(obj: Any, f: PathOrFile) -> None:
    """Save ``obj`` (tensors, state dicts, nested containers) to a path or a binary file object.

    A path is written atomically: either the old file or the complete new one
    exists afterwards, even if the process dies while writing.
    """
    if hasattr(f, "write"):
        _write_zip(f, obj)  # type: ignore[arg-type]
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            _write_zip(out, obj)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: str) -> None:
    # NOTE: makes the rename itself durable; not possible on every platform, so best effort.
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# --------------------------------------------------------------------------- decoding
class _Decoder:
    def __init__(self, z: zipfile.ZipFile, specs: list[dict[str, Any]], name: str) -> None:
        self.z, self.specs, self.name = z, specs, name
        self.cache: dict[tuple[str, int], Any] = {}

    def fail(self, why: str) -> SerializationError:
        return SerializationError(f"{self.name}: {why}")

    def array(self, index: Any) -> np.ndarray:
        if not isinstance(index, int) or not 0 <= index < len(self.specs):
            raise self.fail(f"invalid array reference {index!r}")
        spec = self.specs[index]
        try:
            blob = self.z.read(f"arrays/{index}.npy")
        except KeyError:
            raise self.fail(f"array {index} is missing; the file is truncated or corrupted") from None
        if _sha(blob) != spec.get("sha256"):
            raise self.fail(f"checksum mismatch for array {index}; the file is corrupted or was modified")
        arr = np.load(_io.BytesIO(blob), allow_pickle=False)
        if arr.dtype.str != spec.get("dtype") or list(arr.shape) != spec.get("shape"):
            raise self.fail(f"array {index} does not match its description in the manifest")
        return arr

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
        if kind in ("tensor", "parameter", "ndarray"):
            return self._array_node(kind, value, node.get("requires_grad", False))
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

    def _array_node(self, kind: str, index: Any, requires_grad: Any) -> Any:
        key = (kind, index)
        if key in self.cache:
            return self.cache[key]
        arr = self.array(index)
        if kind == "ndarray":
            out: Any = arr
        elif kind == "parameter":
            from .nn.modules.module import Parameter

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
    (gradkit is CPU-only and never unpickles).

    Raises
    ------
    SerializationError
        The file is not a gradkit save file, or it is truncated, corrupted or modified.
    """
    name = repr(os.fspath(f)) if not hasattr(f, "read") else "file object"
    try:
        with zipfile.ZipFile(f, "r") as z:  # type: ignore[arg-type]
            return _load_zip(z, name)
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
    ) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise SerializationError(
            f"{name} is not a valid gradkit file (truncated, corrupted or another format): "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _load_zip(z: zipfile.ZipFile, name: str) -> Any:
    names = set(z.namelist())
    if _MANIFEST not in names or _CHECKSUM not in names:
        raise SerializationError(
            f"{name} is not a gradkit save file (no {_MANIFEST}); it may be a PyTorch or other archive"
        )
    raw = z.read(_MANIFEST)
    if z.read(_CHECKSUM).decode("ascii", "replace").strip() != _sha(raw):
        raise SerializationError(f"{name}: manifest checksum mismatch; the file is corrupted or was modified")
    manifest = json.loads(raw)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SerializationError(f"{name} is not a gradkit save file")
    if manifest.get("version") != VERSION:
        raise SerializationError(
            f"{name} has format version {manifest.get('version')}; this gradkit reads "
            f"version {VERSION}. Upgrade gradkit to read it"
        )
    specs = manifest.get("arrays")
    if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
        raise SerializationError(f"{name}: malformed manifest")
    return _Decoder(z, specs, name).decode(manifest.get("tree"))
