"""Sobel x and Laplacian (ksize 3) on a 4096x4096 float64 image: gradkit vs OpenCV and scipy.ndimage.

Targets (DESIGN.md): within 2x of OpenCV, faster than scipy.ndimage. Medians of
``--repeat`` runs with the garbage collector frozen; an anchor that is not installed is
skipped. Run: ``python benchmarks/bench_image.py [--size 4096] [--repeat 7]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from typing import Any, Callable

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # run against the working tree, not an installed copy
    sys.path.insert(0, ROOT)

from gradkit import image  # noqa: E402


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    fn()                                            # warm up (thread pool, caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    img = np.random.default_rng(0).random((args.size, args.size))
    try:
        import cv2
    except ImportError:
        cv2 = None
        print("opencv-python not installed: OpenCV anchor skipped")
    try:
        from scipy import ndimage
    except ImportError:
        ndimage = None
        print("scipy not installed: scipy.ndimage anchor skipped")

    cases: dict[str, dict[str, Callable[[], Any]]] = {
        "sobel x ksize 3": {"gradkit": lambda: image.sobel(img, 1, 0, 3)},
        "laplacian ksize 3": {"gradkit": lambda: image.laplacian(img, 3)},
    }
    if cv2 is not None:
        cases["sobel x ksize 3"]["opencv"] = lambda: cv2.Sobel(img, cv2.CV_64F, 1, 0, ksize=3)
        cases["laplacian ksize 3"]["opencv"] = lambda: cv2.Laplacian(img, cv2.CV_64F, ksize=3)
        print(f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads")
    if ndimage is not None:
        # scipy's default mode 'reflect' is OpenCV BORDER_REFLECT; axis=-1 is the x derivative
        cases["sobel x ksize 3"]["scipy"] = lambda: ndimage.sobel(img, axis=-1)
        cases["laplacian ksize 3"]["scipy"] = lambda: ndimage.correlate(
            img, np.array([[2.0, 0, 2], [0, -8, 0], [2, 0, 2]]), mode="mirror")

    print(f"{args.size}x{args.size} float64, median of {args.repeat}")
    gc.collect()
    gc.freeze()
    for name, impls in cases.items():
        times = {lib: median_time(fn, args.repeat) for lib, fn in impls.items()}
        line = ", ".join(f"{lib} {t * 1e3:8.1f} ms" for lib, t in times.items())
        ratios = ", ".join(f"gradkit/{lib} = {times['gradkit'] / t:.2f}x"
                           for lib, t in times.items() if lib != "gradkit")
        print(f"{name:18s} {line}   [{ratios}]")
    gc.unfreeze()


if __name__ == "__main__":
    main()
