"""A layered DAG layout of our own (no Graphviz), drawn as SVG text or, with matplotlib, PNG.

Layout: each node's layer is its longest distance from the inputs, so data flows left
to right; inside a layer, nodes are ordered by the mean position of their inputs
(a barycentre sweep), which keeps most edges short and uncrossed for the small graphs
drawn here.
"""

from __future__ import annotations

import os
from typing import Any
from xml.sax.saxutils import escape

from ._graph import Graph, GraphNode, graph

__all__ = ["layout", "to_svg", "render"]

_W, _LINE, _PAD, _GAPX, _GAPY = 190, 15, 8, 60, 24
_FILL = {"leaf": "#cfe3f7", "const": "#e6e6e6", "op": "#fff8d6", "output": "#d8f5d0"}


def _height(n: GraphNode) -> int:
    return 2 * _PAD + _LINE * len(n.lines())


def layout(g: Graph) -> tuple[dict[str, tuple[float, float, float, float]], float, float]:
    """``{id: (x, y, w, h)}`` boxes and the total width and height."""
    layer: dict[str, int] = {}
    for n in g.nodes:                       # nodes are in topological order
        layer[n.id] = 1 + max((layer[i] for i in n.inputs), default=-1)
    layers: dict[int, list[GraphNode]] = {}
    for n in g.nodes:
        layers.setdefault(layer[n.id], []).append(n)
    pos: dict[str, float] = {}
    for k in sorted(layers):
        row = layers[k]
        if k:
            row.sort(key=lambda n: sum(pos[i] for i in n.inputs) / max(len(n.inputs), 1))
        for j, n in enumerate(row):
            pos[n.id] = j
    boxes: dict[str, tuple[float, float, float, float]] = {}
    heights = {k: sum(_height(n) for n in row) + _GAPY * (len(row) - 1) for k, row in layers.items()}
    total_h = max(heights.values()) + 2 * _GAPY
    for k, row in layers.items():
        y = (total_h - heights[k]) / 2
        for n in row:
            boxes[n.id] = (_GAPY + k * (_W + _GAPX), y, _W, _height(n))
            y += _height(n) + _GAPY
    total_w = 2 * _GAPY + len(layers) * _W + (len(layers) - 1) * _GAPX
    return boxes, total_w, total_h


def _fill(n: GraphNode) -> str:
    if n.kind == "leaf":
        return _FILL["leaf"] if n.requires_grad else _FILL["const"]
    return _FILL[n.kind]


def to_svg(output: Any, names: Any = None, grads: bool = False) -> str:
    """SVG text of the forward graph: values, shapes, gradients; NaN/inf nodes outlined red."""
    g = output if isinstance(output, Graph) else graph(output, names, grads)
    boxes, w, h = layout(g)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
           f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="11">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
           f'<rect width="{w:.0f}" height="{h:.0f}" fill="white"/>']
    for a, b in g.edges:
        xa, ya, wa, ha = boxes[a]
        xb, yb, _, hb = boxes[b]
        x1, y1, x2, y2 = xa + wa, ya + ha / 2, xb, yb + hb / 2
        mx = (x1 + x2) / 2
        out.append(f'<path d="M{x1:.1f},{y1:.1f} C{mx:.1f},{y1:.1f} {mx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" '
                   'fill="none" stroke="#555" stroke-width="1.2" marker-end="url(#arrow)"/>')
    for n in g.nodes:
        x, y, bw, bh = boxes[n.id]
        stroke, sw = ("#d00000", 3) if n.nonfinite else ("#333", 2 if n.kind == "output" else 1)
        rx = bh / 2 if n.kind == "leaf" else 6
        out.append(f'<g class="node {n.kind}" id="{n.id}"><title>{escape(n.label)}</title>')
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw}" height="{bh}" rx="{min(rx, 14):.1f}" '
                   f'fill="{_fill(n)}" stroke="{stroke}" stroke-width="{sw}"/>')
        for i, line in enumerate(n.lines()):
            weight = ' font-weight="bold"' if i == 0 else ""
            color = "#d00000" if n.nonfinite and ("nan" in line or "inf" in line) else "#111"
            out.append(f'<text x="{x + bw / 2:.1f}" y="{y + _PAD + _LINE * (i + 0.8):.1f}" '
                       f'text-anchor="middle" fill="{color}"{weight}>{escape(_clip(line))}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _clip(s: str, n: int = 32) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _png(g: Graph, path: str) -> None:
    from ._plots import _figure
    boxes, w, h = layout(g)
    fig = _figure(figsize=(w / 96, h / 96), dpi=96)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.axis("off")
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    for a, b in g.edges:
        xa, ya, wa, ha = boxes[a]
        xb, yb, _, hb = boxes[b]
        ax.add_patch(FancyArrowPatch((xa + wa, ya + ha / 2), (xb, yb + hb / 2), arrowstyle="-|>",
                                     mutation_scale=10, color="#555", connectionstyle="arc3,rad=0"))
    for n in g.nodes:
        x, y, bw, bh = boxes[n.id]
        ax.add_patch(FancyBboxPatch((x, y), bw, bh, boxstyle="round,pad=0,rounding_size=6",
                                    facecolor=_fill(n), edgecolor="#d00000" if n.nonfinite else "#333",
                                    linewidth=3 if n.nonfinite else 1))
        for i, line in enumerate(n.lines()):
            ax.text(x + bw / 2, y + _PAD + _LINE * (i + 0.5), _clip(line), ha="center", va="center",
                    fontsize=8, fontweight="bold" if i == 0 else "normal")
    fig.savefig(path, dpi=96)


def render(output: Any, path: str | os.PathLike[str], names: Any = None, grads: bool = True) -> str:
    """Draw the forward graph of ``output`` to ``path``; the format follows the extension.

    ``.svg`` (no dependency), ``.png``/``.pdf`` (matplotlib), ``.dot`` (Graphviz text),
    ``.mmd``/``.md`` (Mermaid). ``grads=True`` shows d output / d node for every tensor
    (computed with ``autograd.grad``; ``.grad`` is left alone). Returns the path.
    """
    from ._graph import to_dot, to_mermaid
    p = os.fspath(path)
    ext = os.path.splitext(p)[1].lower()
    g = output if isinstance(output, Graph) else graph(output, names, grads)
    if ext in (".png", ".pdf", ".jpg", ".jpeg"):
        _png(g, p)
        return p
    writers = {".svg": to_svg, ".dot": to_dot, ".gv": to_dot, ".mmd": to_mermaid, ".md": to_mermaid}
    if ext not in writers:
        raise ValueError(f"unknown graph format {ext or '(none)'!r}: use .svg, .png, .pdf, .dot or .mmd")
    with open(p, "w", encoding="utf-8") as fh:
        fh.write(writers[ext](g))
    return p
