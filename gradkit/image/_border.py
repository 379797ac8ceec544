"""Border modes and argument checks shared by the image filters.

OpenCV and ``scipy.ndimage`` name the same extrapolations differently:

==============  ===================  ==================  =====================
gradkit         OpenCV               scipy.ndimage       ``np.pad`` mode
==============  ===================  ==================  =====================
'reflect101'    BORDER_REFLECT_101   'mirror'            'reflect'
'reflect'       BORDER_REFLECT       'reflect'           'symmetric'
'replicate'     BORDER_REPLICATE     'nearest'           'edge'
'constant'      BORDER_CONSTANT      'constant'          'constant'
'wrap'          BORDER_WRAP          'grid-wrap'         'wrap'
==============  ===================  ==================  =====================

``gfedcb|abcdefgh|gfedcba`` is 'reflect101' (OpenCV's default, ``BORDER_DEFAULT``);
``fedcba|abcdefgh|hgfedcb`` is 'reflect'.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["BORDERS", "border_index", "check_border", "NP_PAD_MODE"]

BORDERS = ("reflect101", "reflect", "replicate", "constant", "wrap")
_ALIASES = {"reflect_101": "reflect101", "default": "reflect101", "mirror": "reflect101",
            "symmetric": "reflect", "edge": "replicate", "nearest": "replicate",
            "isolated": "reflect101"}
# OpenCV's integer codes: BORDER_CONSTANT=0, REPLICATE=1, REFLECT=2, WRAP=3, REFLECT_101=4.
_CV_CODES = {0: "constant", 1: "replicate", 2: "reflect", 3: "wrap", 4: "reflect101"}
_CV_ISOLATED = 16
NP_PAD_MODE = {"reflect101": "reflect", "reflect": "symmetric", "replicate": "edge",
               "constant": "constant", "wrap": "wrap"}


def check_border(border: Any) -> str:
    """Canonical border name from a gradkit name, an alias or an OpenCV ``BORDER_*`` code."""
    if isinstance(border, (int, np.integer)) and not isinstance(border, bool):
        # NOTE: BORDER_ISOLATED (16) only matters for an ROI of a larger Mat; an array is whole
        code = int(border) & ~_CV_ISOLATED if int(border) >= 0 else int(border)
        if code in _CV_CODES:
            return _CV_CODES[code]
        if code == 5:
            raise ValueError("border mode BORDER_TRANSPARENT (5) is not supported by image filters (OpenCV "
                             "refuses it too); use one of " + ", ".join(map(repr, BORDERS)))
    elif isinstance(border, str):
        name = border.lower()
        name = _ALIASES.get(name, name)
        if name in BORDERS:
            return name
    raise ValueError(f"unknown border mode {border!r}; use one of {', '.join(map(repr, BORDERS))} "
                     "(or an OpenCV BORDER_* code)")


def border_index(p: np.ndarray, n: int, border: str) -> np.ndarray:
    """Map coordinates ``p`` (any integers) into ``[0, n)`` as OpenCV's ``borderInterpolate``.

    Returns -1 where ``border == 'constant'`` and ``p`` lies outside.
    """
    p = np.array(p, dtype=np.int64)
    inside = (p >= 0) & (p < n)
    if border == "constant":
        return np.where(inside, p, -1)
    if border == "replicate":
        return np.clip(p, 0, n - 1)
    if border == "wrap":
        return np.mod(p, n)
    if n == 1:
        return np.zeros_like(p)
    delta = 1 if border == "reflect101" else 0
    # NOTE: the fold-back loop of OpenCV's borderInterpolate, so kernels wider than the
    # image reflect again and again exactly as OpenCV does.
    while not inside.all():
        q = p[~inside]
        p[~inside] = np.where(q < 0, -q - 1 + delta, n - 1 - (q - n) - delta)
        inside = (p >= 0) & (p < n)
    return p
