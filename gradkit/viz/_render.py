"""Drawing the forward graph: SVG text (Graphviz's layout when installed, else our own), HTML, PNG.

``engine='auto'`` lays the graph out with Graphviz's ``dot`` when the ``graphviz`` Python
package and the ``dot`` program are both installed (``pip install graphviz`` and e.g.
``apt-get install graphviz``), and with the built-in layered layout of
:mod:`gradkit.viz._layout` otherwise; both read top to bottom, inputs first.
"""

from __future__ import annotations

import os
from typing import Any
from xml.sax.saxutils import escape

from ._graph import Graph, GraphNode, graph, to_dot
from ._layout import FONT_SIZE, LINE, PAD, clip, sugiyama

__all__ = ["layout", "to_svg", "to_html", "render", "graphviz_available"]

_FILL = {"leaf": "#cfe3f7", "const": "#e6e6e6", "op": "#fff8d6", "output": "#d8f5d0"}
_ENGINES = ("auto", "builtin", "graphviz")


def layout(g: Graph) -> tuple[dict[str, tuple[float, float, float, float]], float, float]:
    """``{id: (x, y, w, h)}`` boxes of the built-in layout and the total width and height."""
    lay = sugiyama(g)
    return lay.boxes, lay.width, lay.height


def graphviz_available() -> bool:
    """True when the ``graphviz`` package imports and its ``dot`` program runs."""
    try:
        import graphviz
    except ImportError:
        return False
    try:
        graphviz.version()
    except Exception:       # graphviz.ExecutableNotFound, a broken install
        return False
    return True


def _fill(n: GraphNode) -> str:
    if n.kind == "leaf":
        return _FILL["leaf"] if n.requires_grad else _FILL["const"]
    return _FILL[n.kind]


def to_svg(output: Any, names: Any = None, grads: bool = False, engine: str = "auto") -> str:
    """SVG text of the forward graph: values, shapes, gradients; NaN/inf nodes outlined red.

    ``engine``: ``'auto'`` (Graphviz when installed, else built-in), ``'graphviz'`` (an
    ImportError naming what to install when it is missing) or ``'builtin'``.
    """
    if engine not in _ENGINES:
        raise ValueError(f"engine must be one of {_ENGINES}, got {engine!r}")
    g = output if isinstance(output, Graph) else graph(output, names, grads)
    if engine == "graphviz" or (engine == "auto" and graphviz_available()):
        return _graphviz_svg(g, required=engine == "graphviz")
    return _builtin_svg(g)


def _graphviz_svg(g: Graph, required: bool) -> str:
    try:
        import graphviz
    except ImportError as e:
        raise ImportError("engine='graphviz' needs the graphviz package and program: "
                          "pip install graphviz (and apt-get install graphviz, "
                          "brew install graphviz or conda install graphviz)") from e
    try:
        return graphviz.Source(to_dot(g)).pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound as e:
        if required:
            raise ImportError("engine='graphviz' needs Graphviz's dot program: apt-get install "
                              "graphviz, brew install graphviz or conda install graphviz") from e
        return _builtin_svg(g)


def _builtin_svg(g: Graph) -> str:
    lay = sugiyama(g)
    boxes, w, h = lay.boxes, lay.width, lay.height
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
           f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="Helvetica, Arial, sans-serif" '
           f'font-size="{FONT_SIZE}">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
           f'<rect width="{w:.0f}" height="{h:.0f}" fill="white"/>']
    for (a, b), pts in lay.routes.items():
        d = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(pts))
        out.append(f'<path class="edge" data-source="{a}" data-target="{b}" d="{d}" fill="none" '
                   'stroke="#555" stroke-width="1.2" stroke-linejoin="round" marker-end="url(#arrow)"/>')
    for n in g.nodes:
        x, y, bw, bh = boxes[n.id]
        stroke, sw = ("#d00000", 3) if n.nonfinite else ("#333", 2 if n.kind == "output" else 1)
        rx = bh / 2 if n.kind == "leaf" else 6
        out.append(f'<g class="node {n.kind}" id="{n.id}"><title>{escape(n.label)}</title>')
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{bh:.1f}" '
                   f'rx="{min(rx, 14):.1f}" fill="{_fill(n)}" stroke="{stroke}" stroke-width="{sw}"/>')
        for i, line in enumerate(n.lines()):
            weight = ' font-weight="bold"' if i == 0 else ""
            color = "#d00000" if n.nonfinite and ("nan" in line or "inf" in line) else "#111"
            out.append(f'<text x="{x + bw / 2:.1f}" y="{y + PAD + LINE * (i + 0.8):.1f}" '
                       f'text-anchor="middle" fill="{color}"{weight}>{escape(clip(line))}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def to_html(output: Any, names: Any = None, grads: bool = False, engine: str = "auto") -> str:
    """A standalone HTML page showing the graph's SVG (open it in any browser)."""
    svg = to_svg(output, names, grads, engine)
    if svg.startswith("<?xml"):
        svg = svg[svg.index("?>") + 2:]
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>gradkit graph</title></head>\n"
            f"<body>\n<div class=\"gradkit-graph\">{svg.strip()}</div>\n</body></html>\n")


def _png(g: Graph, path: str) -> None:
    from ._plots import _figure
    lay = sugiyama(g)
    boxes, w, h = lay.boxes, lay.width, lay.height
    fig = _figure(figsize=(w / 96, h / 96), dpi=96)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.axis("off")
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    for pts in lay.routes.values():
        xs, ys = zip(*pts)
        ax.plot(xs[:-1], ys[:-1], color="#555", lw=1)
        ax.add_patch(FancyArrowPatch(pts[-2], pts[-1], arrowstyle="-|>", mutation_scale=10,
                                     color="#555", shrinkA=0, shrinkB=0))
    for n in g.nodes:
        x, y, bw, bh = boxes[n.id]
        ax.add_patch(FancyBboxPatch((x, y), bw, bh, boxstyle="round,pad=0,rounding_size=6",
                                    facecolor=_fill(n), edgecolor="#d00000" if n.nonfinite else "#333",
                                    linewidth=3 if n.nonfinite else 1))
        for i, line in enumerate(n.lines()):
            ax.text(x + bw / 2, y + PAD + LINE * (i + 0.5), clip(line), ha="center", va="center",
                    fontsize=8, fontweight="bold" if i == 0 else "normal")
    fig.savefig(path, dpi=96)


def render(output: Any, path: str | os.PathLike[str], names: Any = None, grads: bool = True,
           engine: str = "auto") -> str:
    """Draw the forward graph of ``output`` to ``path``; the format follows the extension.

    ``.svg`` (Graphviz's layout when installed, else the built-in one), ``.html`` (the SVG in
    a page), ``.png``/``.pdf`` (matplotlib), ``.dot`` (Graphviz text), ``.mmd``/``.md``
    (Mermaid). ``grads=True`` shows d output / d node for every tensor (computed
    with ``autograd.grad``; ``.grad`` is left alone). ``engine`` picks the SVG/HTML layout as
    in :func:`to_svg`. Returns the path.
    """
    from ._graph import to_mermaid
    p = os.fspath(path)
    ext = os.path.splitext(p)[1].lower()
    g = output if isinstance(output, Graph) else graph(output, names, grads)
    if ext in (".png", ".pdf", ".jpg", ".jpeg"):
        _png(g, p)
        return p
    writers = {".svg": to_svg, ".html": to_html, ".htm": to_html, ".dot": to_dot,
               ".gv": to_dot, ".mmd": to_mermaid, ".md": to_mermaid}
    if ext not in writers:
        raise ValueError(f"unknown graph format {ext or '(none)'!r}: "
                         "use .svg, .html, .png, .pdf, .dot or .mmd")
    text = writers[ext](g, engine=engine) if ext in (".svg", ".html", ".htm") else writers[ext](g)
    with open(p, "w", encoding="utf-8") as fh:
        fh.write(text)
    return p
