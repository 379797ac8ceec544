"""Filter kernels: OpenCV's derivative kernels, Scharr, Prewitt, Laplacian, directional."""

from __future__ import annotations

import numpy as np

__all__ = ["deriv_kernels", "laplacian_kernel", "directional_kernel", "prewitt_kernels"]


def _sobel_1d(order: int, ksize: int) -> np.ndarray:
    """One factor of OpenCV's ``getSobelKernels``: a binomial smoother differenced ``order`` times."""
    if ksize == 1:
        return np.ones(1)
    if ksize <= order:
        raise ValueError(f"the derivative order ({order}) must be smaller than the kernel size "
                         f"({ksize}); use a larger ksize")
    k = np.array([1.0])
    for _ in range(ksize - order - 1):          # binomial coefficients of degree ksize-order-1
        k = np.convolve(k, [1.0, 1.0])
    for _ in range(order):                      # each difference: (k[i-1] - k[i]) as OpenCV
        k = np.convolve(k, [-1.0, 1.0])
    return k


def deriv_kernels(dx: int, dy: int, ksize: int = 3, normalize: bool = False
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The 1-D kernels ``(kx, ky)`` of ``cv2.getDerivKernels(dx, dy, ksize, normalize)``.

    ``kx`` runs along x (columns) and ``ky`` along y (rows); the 2-D Sobel kernel is
    ``np.outer(ky, kx)``. ``ksize=-1`` gives the 3x3 Scharr kernels. With ``ksize=1``
    a direction with a derivative gets the 3-tap kernel and one without gets ``[1]``.

    Examples
    --------
    >>> kx, ky = deriv_kernels(1, 0, 3)
    >>> kx, ky
    (array([-1.,  0.,  1.]), array([1., 2., 1.]))
    """
    for name, order in (("dx", dx), ("dy", dy)):
        if int(order) != order or order < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {order!r}")
    if dx + dy <= 0:
        raise ValueError("dx + dy must be positive: at least one direction needs a derivative")
    if ksize == -1:
        if dx + dy != 1:
            raise ValueError("Scharr (ksize=-1) needs dx + dy == 1 (one first derivative)")
        smooth, deriv = np.array([3.0, 10.0, 3.0]), np.array([-1.0, 0.0, 1.0])
        kx, ky = (deriv, smooth) if dx else (smooth, deriv)
        if normalize:
            kx, ky = (kx / 2, ky / 16) if dx else (kx / 16, ky / 2)
        return kx, ky
    if ksize not in (1, 3, 5, 7) and not (ksize % 2 == 1 and 1 < ksize <= 31):
        raise ValueError(f"ksize must be -1 (Scharr) or odd between 1 and 31, got {ksize!r}")
    out = []
    for order in (dx, dy):
        size = 3 if (ksize == 1 and order > 0) else ksize
        k = _sobel_1d(order, size)
        if normalize and size > 1:
            k = k / 2.0 ** (size - order - 1)
        out.append(k)
    return out[0], out[1]


def prewitt_kernels(dx: int, dy: int) -> tuple[np.ndarray, np.ndarray]:
    """Separable Prewitt kernels ``(kx, ky)``: ``[-1, 0, 1]`` and the box ``[1, 1, 1]``."""
    if (dx, dy) not in ((1, 0), (0, 1)):
        raise ValueError("prewitt supports (dx, dy) = (1, 0) or (0, 1)")
    d, s = np.array([-1.0, 0.0, 1.0]), np.ones(3)
    return (d, s) if dx else (s, d)


def laplacian_kernel(ksize: int = 1) -> np.ndarray:
    """The 3x3 kernel ``cv2.Laplacian`` uses for ``ksize`` 1 or 3 (larger sizes are separable sums)."""
    if ksize == 1:
        return np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])
    if ksize == 3:
        return np.array([[2.0, 0, 2], [0, -8, 0], [2, 0, 2]])
    kd, ks = deriv_kernels(2, 0, ksize)
    return np.outer(ks, kd) + np.outer(kd, ks)


def directional_kernel(angle: float, ksize: int = 3, *, compass: bool = False) -> np.ndarray:
    """A 2-D kernel for the derivative along the direction ``angle`` (degrees).

    Angles are measured in image coordinates, from the +x axis (right) towards +y
    (down): 0 is ``d/dx`` (Sobel ``dx=1``), 90 is ``d/dy`` (Sobel ``dy=1``). On the
    screen, increasing angles turn clockwise, so the seeds' "rotate the downward
    direction 45 degrees counter-clockwise" is ``angle=45`` (towards bottom-right).

    Parameters
    ----------
    angle : float
        Direction in degrees.
    ksize : int
        Sobel aperture (1, 3, 5, 7; -1 for Scharr).
    compass : bool
        ``False`` (default): the steerable kernel ``cos(a) Kx + sin(a) Ky``, the exact
        directional derivative of the Sobel-smoothed image for any angle.
        ``True``: the 3x3 Sobel kernel with its ring of weights rotated by
        ``angle`` (a multiple of 45), as in compass-operator tutorials; for 45 it is
        ``[[-2, -1, 0], [-1, 0, 1], [0, 1, 2]]``.

    Examples
    --------
    >>> directional_kernel(45, compass=True)
    array([[-2., -1.,  0.],
           [-1.,  0.,  1.],
           [ 0.,  1.,  2.]])
    >>> np.round(directional_kernel(90), 12) + 0.0
    array([[-1., -2., -1.],
           [ 0.,  0.,  0.],
           [ 1.,  2.,  1.]])
    """
    if compass:
        steps = angle / 45.0
        if ksize != 3 or steps != int(steps):
            raise ValueError("compass=True needs ksize=3 and an angle that is a multiple of 45 degrees")
        # the 8 ring cells clockwise on screen from the right neighbour; Sobel x weights on them
        ring = [(1, 2), (2, 2), (2, 1), (2, 0), (1, 0), (0, 0), (0, 1), (0, 2)]
        weights = [2.0, 1.0, 0.0, -1.0, -2.0, -1.0, 0.0, 1.0]
        k = np.zeros((3, 3))
        shift = int(steps) % 8
        for i, cell in enumerate(ring):
            k[cell] = weights[(i - shift) % 8]
        return k
    kx1, ky1 = deriv_kernels(1, 0, ksize)
    kx2, ky2 = deriv_kernels(0, 1, ksize)
    gx = np.outer(ky1, kx1)
    gy = np.outer(ky2, kx2)
    if gx.shape != gy.shape:                      # ksize=1: 1x3 and 3x1
        gx = np.pad(gx, ((1, 1), (0, 0)))
        gy = np.pad(gy, ((0, 0), (1, 1)))
    a = np.deg2rad(angle)
    return np.cos(a) * gx + np.sin(a) * gy
