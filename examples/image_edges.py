"""Sobel, Laplacian and Canny edges of a synthetic picture, saved side by side as a PNG.

Run: ``python examples/image_edges.py [out.png]`` (needs Pillow: ``pip install pillow``). The
default output is ``examples/output/image_edges.png`` (not tracked by git); the picture in the
docs is made with ``python examples/image_edges.py docs/images/edges.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))                   # run against the working tree

from gradkit import image  # noqa: E402


def synthetic(h: int = 160, w: int = 200) -> np.ndarray:
    """A disc, a rotated square, a ramp and a little noise, as uint8."""
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    img = 40 + 60 * xx / w                                          # gentle ramp
    img = np.where(np.hypot(yy - 60, xx - 60) < 35, 200, img)       # disc
    u, v = (xx - 140 + yy - 100) / np.sqrt(2), (xx - 140 - yy + 100) / np.sqrt(2)
    img = np.where((np.abs(u) < 28) & (np.abs(v) < 28), 150, img)   # square turned 45 degrees
    img = np.where((yy > 125) & (yy < 140) & (xx > 20) & (xx < 110), 10, img)  # bar
    img = image.filter2d(img, np.ones((3, 3)) / 9)                  # soften the jaggies
    img += np.random.default_rng(0).normal(0, 3, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def to_u8(a: np.ndarray) -> np.ndarray:
    a = np.abs(a)
    return np.clip(255 * a / max(a.max(), 1e-12), 0, 255).astype(np.uint8)


def main(out: str) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    img = synthetic()
    panels = {
        "input": img,
        "Sobel |grad|": to_u8(image.gradient_magnitude(img)),
        "Laplacian (ksize 3)": to_u8(image.laplacian(img, ksize=3)),
        "Canny 50/150": image.canny(img, 50, 150),
    }
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None  # type: ignore[assignment]
    if plt is not None:
        fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3))
        for ax, (title, p) in zip(axes, panels.items()):
            ax.imshow(p, cmap="gray", vmin=0, vmax=255)
            ax.set_title(title)
            ax.axis("off")
        fig.tight_layout()
        fig.savefig(out, dpi=80)
    else:
        from PIL import Image, ImageDraw
        h, w = img.shape
        sheet = Image.new("L", (len(panels) * (w + 8), h + 20), 255)
        draw = ImageDraw.Draw(sheet)
        for i, (title, p) in enumerate(panels.items()):
            sheet.paste(Image.fromarray(p), (i * (w + 8), 20))
            draw.text((i * (w + 8) + 4, 4), title, fill=0)
        sheet.save(out, optimize=True)
    print(f"wrote {out}; Canny found {int((panels['Canny 50/150'] > 0).sum())} edge pixels")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "examples" / "output" / "image_edges.png"))
