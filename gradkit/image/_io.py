"""Reading and writing image files through Pillow (an optional dependency)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from gradkit._core.tensor import Tensor

__all__ = ["read", "write"]


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError("gradkit.image.read/write need Pillow: pip install pillow "
                          "(or pip install gradkit[image])") from e
    return Image


def read(path: str | os.PathLike[str], gray: bool = False, exif_orientation: bool = True) -> np.ndarray:
    """Read an image file into a uint8 array: ``(H, W)``, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA.

    Channels are in RGB order (Pillow's), not OpenCV's BGR (``gradkit.cv2.imread`` gives
    BGR as ``cv2.imread``). ``gray=True`` converts to one channel with Pillow's ITU-R 601
    luma. 16-bit files come back as uint16. The EXIF orientation tag is applied
    (``PIL.ImageOps.exif_transpose``), so phone photos come out upright, as in OpenCV and
    image viewers; ``exif_orientation=False`` gives the stored pixels.
    """
    Image = _pil()
    with Image.open(path) as im:
        if exif_orientation:
            from PIL import ImageOps

            im = ImageOps.exif_transpose(im)
        if gray:
            im = im.convert("L")
        elif im.mode in ("P", "CMYK", "YCbCr", "LAB", "HSV", "1", "LA", "PA"):
            im = im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else "RGB")
        a = np.asarray(im)
    return a.astype(np.uint16) if a.dtype.kind in "iu" and a.dtype.itemsize > 1 else a.copy()


def write(path: str | os.PathLike[str], array: Any) -> None:
    """Write ``array`` (``(H, W)``, ``(H, W, 3)`` RGB or ``(H, W, 4)``) to an image file.

    The format follows the file extension. uint8 is written as is; bool becomes 0/255;
    other types are rounded and clipped to [0, 255] (uint16 to [0, 65535] for 2-D
    arrays, where the format allows it). Tensors are detached first.
    """
    Image = _pil()
    a = array.detach().numpy() if isinstance(array, Tensor) else np.asarray(array)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)):
        raise ValueError(f"write expects (H, W), (H, W, 3) or (H, W, 4), got shape {a.shape}")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    elif a.dtype == np.uint16 and a.ndim == 2:
        a = a.astype(np.int32)                  # Pillow writes 16-bit grey from mode "I"
    elif a.dtype != np.uint8:
        a = np.clip(np.rint(np.asarray(a, dtype=np.float64)), 0, 255).astype(np.uint8)
    Image.fromarray(a).save(path)
