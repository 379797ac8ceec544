"""Image gradients and edges with OpenCV's conventions, differentiable on gradkit Tensors.

NumPy arrays (``(H, W)`` or ``(H, W, C)``, as OpenCV) take a fast path: separable
kernels run as two 1-D passes over cache-sized strips of rows on a thread pool. The
result is float64 unless ``ddepth`` asks for another type (``-1``: the input's, with
OpenCV's rounding and saturation). Tensors (``(..., H, W)``, as PyTorch) are filtered
with differentiable gradkit operations, so a loss on an edge map backpropagates.

Borders: 'reflect101' (default, OpenCV's BORDER_DEFAULT = scipy 'mirror'), 'reflect'
(scipy's default 'reflect'), 'replicate', 'constant' (``border_value``), 'wrap'.

Examples
--------
>>> import numpy as np
>>> from gradkit import image
>>> img = np.zeros((5, 5)); img[:, 3:] = 1.0
>>> image.sobel(img, dx=1, dy=0)[2]
array([0., 0., 4., 4., 0.])
"""

from __future__ import annotations

from ._analysis import (FOCUS_METHODS, focus_measure, gradient_magnitude, gradient_orientation,
                        harris_response, structure_tensor)
from ._border import BORDERS
from ._canny import canny
from ._filters import (directional_derivative, filter2d, laplacian, prewitt, scharr, sep_filter2d,
                       sobel)
from ._io import read, write
from ._kernels import deriv_kernels, directional_kernel, laplacian_kernel

__all__ = ["sobel", "scharr", "prewitt", "laplacian", "filter2d", "sep_filter2d",
           "directional_kernel", "directional_derivative", "deriv_kernels", "laplacian_kernel",
           "gradient_magnitude", "gradient_orientation", "structure_tensor", "harris_response",
           "canny", "focus_measure", "FOCUS_METHODS", "BORDERS", "read", "write"]
