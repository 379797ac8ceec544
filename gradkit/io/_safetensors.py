"""The safetensors format, read and written by gradkit itself (no dependency).

A file is ``<u64 little-endian header length N><N bytes of JSON header><data>``. The
header maps each tensor name to ``{"dtype": "F32", "shape": [...], "data_offsets": [b, e]}``
(offsets relative to the start of the data) and may hold ``"__metadata__"``, a
``str -> str`` map. Data are raw little-endian, C order. This is the format of the
``safetensors`` package (https://github.com/huggingface/safetensors), which PyTorch,
JAX and NumPy users share; files written here load with ``safetensors.torch.load_file``
and files from there load here, with their dtypes, shapes and metadata.

Reading treats the file as untrusted, with the checks the reference implementation
makes: the header is at most 100 MB and lies in the file, is a JSON object without
duplicate keys, names known dtypes only, its shapes are non-negative integers whose
element count times the item size equals the tensor's byte range, and the byte ranges
tile the data exactly (contiguous from 0 to the end of the file, no gaps, no overlap).
Anything else raises :class:`gradkit.io.SerializationError`. Nothing is executed.
"""

from __future__ import annotations

import json
import os
import struct
import warnings
from typing import Any, BinaryIO, Mapping

import numpy as np

from gradkit._core.dtype import note_unsigned

__all__ = ["write_safetensors", "read_safetensors", "is_safetensors", "DTYPES"]

MAX_HEADER = 100_000_000  # the reference implementation's limit
_MAX_NDIM = 64

# safetensors dtype name -> NumPy dtype (little-endian). BF16 has no NumPy dtype: read below.
DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"), "C64": np.dtype("<c8"), "C128": np.dtype("<c16"),
}
_ITEMSIZE = {name: dt.itemsize for name, dt in DTYPES.items()} | {"BF16": 2}
_NAMES = {(dt.kind, dt.itemsize): name for name, dt in DTYPES.items()}


def _name(dt: np.dtype) -> str | None:
    """The safetensors name of a NumPy dtype (BF16 for ml_dtypes' bfloat16), or None."""
    if dt.kind == "V":
        return "BF16" if dt.name == "bfloat16" and dt.itemsize == 2 else None
    return _NAMES.get((dt.kind, dt.itemsize))


def _bf16() -> Any:
    """ml_dtypes' bfloat16 through gradkit's dtype, or None when ml_dtypes is not installed."""
    from gradkit._core import dtype as _dtype
    try:
        return _dtype.load_bfloat16().np
    except TypeError:
        return None


def _fail(why: str) -> Exception:
    from gradkit.io import SerializationError

    return SerializationError(why)


def is_safetensors(head: bytes) -> bool:
    """Whether the first bytes of a file look like safetensors (a header length, then ``{``)."""
    return len(head) >= 9 and head[8:9] == b"{" and not head.startswith(b"PK")


def _arrays(tensors: Any) -> dict[str, np.ndarray]:
    from gradkit._core.tensor import Tensor

    if not isinstance(tensors, Mapping):
        raise TypeError(
            f"a .safetensors file holds a flat dict of tensors (a state_dict), not {type(tensors).__name__}; "
            "save other objects (optimizer state, nested containers) to another extension "
            "(gradkit's zip format)"
        )
    out: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"safetensors keys must be str, got {name!r}")
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved in safetensors; pass metadata=... instead")
        if isinstance(value, Tensor):
            from gradkit._core import backend as _backend

            arr = value._data if type(value._data) is np.ndarray else _backend.to_numpy(value._data)
        elif isinstance(value, np.ndarray):
            arr = value
        else:
            raise TypeError(
                f"a .safetensors file holds only tensors, but {name!r} is a {type(value).__name__}; "
                "save nested objects or optimizer state to another extension (gradkit's zip format)"
            )
        if _name(arr.dtype) is None:
            raise TypeError(f"safetensors has no dtype for {name!r} ({arr.dtype})")
        out[name] = arr
    return out


def write_safetensors(f: BinaryIO, tensors: Any, metadata: Mapping[str, str] | None = None) -> None:
    """Write a flat ``{name: tensor}`` dict in the safetensors format to a binary file."""
    arrays = _arrays(tensors)
    header: dict[str, Any] = {}
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("safetensors metadata must be a dict of str to str")
        header["__metadata__"] = dict(metadata)
    offset = 0
    # NOTE: the reference writer orders tensors by alignment (largest itemsize first), then name
    order = sorted(arrays, key=lambda k: (-arrays[k].dtype.itemsize, k))
    for name in order:
        a = arrays[name]
        header[name] = {"dtype": _name(a.dtype), "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # pad to 8 bytes with spaces, as the reference writer does
    f.write(struct.pack("<Q", len(raw)))
    f.write(raw)
    for name in order:
        a = arrays[name]
        if a.dtype.kind == "V":                 # bfloat16: its bits, little-endian
            a = np.ascontiguousarray(a).view(np.uint16)
        f.write(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes())


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _fail("safetensors header has duplicate keys")
    return dict(pairs)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def read_header(fh: BinaryIO, name: str) -> tuple[int, dict[str, Any], dict[str, str] | None, int]:
    """Parse and check the header: (data start, {tensor: entry}, metadata, data length)."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    if size < 8:
        raise _fail(f"{name} is not a safetensors file: {size} bytes")
    (n,) = struct.unpack("<Q", fh.read(8))
    if n > MAX_HEADER:
        raise _fail(f"{name}: safetensors header of {n} bytes is over the {MAX_HEADER}-byte limit")
    if 8 + n > size:
        raise _fail(f"{name}: safetensors header of {n} bytes runs past the end of the file ({size} bytes)")
    try:
        header = json.loads(fh.read(n).decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        if type(exc).__name__ == "SerializationError":
            raise
        raise _fail(f"{name}: safetensors header is not valid JSON: {str(exc)[:200]}") from exc
    if not isinstance(header, dict):
        raise _fail(f"{name}: safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(v, str) for v in metadata.values())):
        raise _fail(f"{name}: safetensors __metadata__ must map str to str")
    data_len = size - 8 - n
    spans = []
    for key, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise _fail(f"{name}: tensor {key!r} needs exactly dtype, shape and data_offsets")
        dt, shape, offs = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dt not in _ITEMSIZE:
            raise _fail(f"{name}: tensor {key!r} has unsupported dtype {dt!r}")
        if not (isinstance(shape, list) and len(shape) <= _MAX_NDIM
                and all(_is_int(d) and d >= 0 for d in shape)):
            raise _fail(f"{name}: tensor {key!r} has an invalid shape {shape!r}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(_is_int(o) for o in offs)
                and 0 <= offs[0] <= offs[1]):
            raise _fail(f"{name}: tensor {key!r} has invalid data_offsets {offs!r}")
        count = 1
        for d in shape:
            count *= d
        if count * _ITEMSIZE[dt] != offs[1] - offs[0]:
            raise _fail(f"{name}: tensor {key!r} of shape {shape} and dtype {dt} needs "
                        f"{count * _ITEMSIZE[dt]} bytes, its data_offsets span {offs[1] - offs[0]}")
        spans.append((offs[0], offs[1], key))
    end = 0
    for b, e, key in sorted(spans):
        if b != end:
            raise _fail(f"{name}: tensor {key!r} data starts at {b}, expected {end} "
                        "(safetensors data must be contiguous, without gaps or overlap)")
        end = e
    if end != data_len:
        raise _fail(f"{name}: safetensors data is {data_len} bytes but the header accounts for {end}")
    return 8 + n, header, metadata, data_len


def read_safetensors(fh: BinaryIO, name: str) -> tuple[dict[str, np.ndarray], dict[str, str] | None]:
    """Read (arrays in header order, metadata) from a safetensors file; see the module notes."""
    start, header, metadata, _ = read_header(fh, name)
    out: dict[str, np.ndarray] = {}
    bf16 = []
    bf = _bf16() if any(e["dtype"] == "BF16" for e in header.values()) else None
    for key, entry in header.items():
        b, e = entry["data_offsets"]
        fh.seek(start + b)
        raw = fh.read(e - b)
        if len(raw) != e - b:
            raise _fail(f"{name}: tensor {key!r} is truncated")
        if entry["dtype"] == "BF16" and bf is not None:
            arr = np.frombuffer(raw, dtype="<u2").astype(np.uint16).view(bf)    # a copy
        elif entry["dtype"] == "BF16":
            # bfloat16 is the top half of a float32: widening is exact
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
            bf16.append(key)
        else:
            arr = np.frombuffer(raw, dtype=DTYPES[entry["dtype"]])
            arr = arr.astype(arr.dtype.newbyteorder("="))  # native order, and a writable copy
            arr = note_unsigned(arr)                        # U16/U32/U64 kept, as PyTorch
        out[key] = arr.reshape(entry["shape"])
    if bf16:
        warnings.warn(f"{name}: gradkit has no bfloat16 without ml_dtypes; {len(bf16)} BF16 "
                      f"tensor(s) ({', '.join(map(repr, bf16[:3]))}"
                      f"{', ...' if len(bf16) > 3 else ''}) were widened to float32 (exactly); "
                      "pip install ml_dtypes (or gradkit[bfloat16]) to keep them bfloat16",
                      UserWarning, stacklevel=4)
    return out, metadata
