"""A layered (Sugiyama-style) layout of the forward graph, top to bottom, with no dependency.

Steps, as in Graphviz's ``dot``: (1) each node's layer is its longest distance from the
inputs, and an input then moves down to just above its first use; (2) an edge that spans
several layers is split by a dummy point in every layer it crosses, so it is routed
*between* the boxes of those layers; (3) the order inside each layer is improved by
barycentre sweeps down and up, keeping the order with the fewest crossings; (4) x positions
pull every box towards its neighbours' mean while keeping boxes apart; (5) boxes are sized
to their text. Edges are polylines: down from the middle of the source's bottom to the
bottom of its layer band, across the gap between bands, through the dummy points, and into
the middle of the target's top. No segment enters a box other than its endpoints, since
inside a band an edge only runs vertically through its own slot.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ._graph import Graph, GraphNode

__all__ = ["Layout", "sugiyama", "text_width", "FONT_SIZE", "LINE", "PAD"]

FONT_SIZE = 11
LINE = 15              # line height
PAD = 8                # inner margin of a box
GAP_X = 24             # between neighbours in a layer
GAP_Y = 36             # between layers
MARGIN = 12
DUMMY_W = 8            # the slot a routed edge takes in a layer it crosses
MAX_CHARS = 48         # longer lines are clipped with an ellipsis

# Advance widths in ems, rounded up over Helvetica, Arial and DejaVu Sans (the widest
# common sans), so boxes hold their text whichever of them the viewer uses.
_NARROW = set("il.,:;|!'`jIf()[]{}t ")
_WIDE = set("mwMW@%")


def _em(ch: str) -> float:
    if ch in _NARROW:
        return 0.42
    if ch in _WIDE:
        return 1.02
    if ch.isupper() or ch in "&#+=<>~_^":
        return 0.86
    return 0.68


def text_width(s: str, bold: bool = False, size: float = FONT_SIZE) -> float:
    """A generous estimate of the drawn width of ``s`` in pixels."""
    return sum(_em(c) for c in s) * size * (1.1 if bold else 1.0)


def clip(s: str, n: int = MAX_CHARS) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


@dataclass
class Layout:
    """Boxes ``{id: (x, y, w, h)}``, edge polylines ``{(src, dst): [(x, y), ...]}``, size."""

    boxes: dict[str, tuple[float, float, float, float]]
    routes: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=dict)
    width: float = 0.0
    height: float = 0.0


def box_size(n: GraphNode) -> tuple[float, float]:
    lines = [clip(s) for s in n.lines()]
    w = max(text_width(s, bold=i == 0) for i, s in enumerate(lines)) + 2 * PAD
    if n.kind == "leaf":
        w += 12                                     # rounded ends of a leaf
    return max(w, 60.0), 2 * PAD + LINE * len(lines)


def _crossings(order: list[list[str]], down: dict[str, list[str]]) -> int:
    """Edge crossings between consecutive layers (inversions counted with bisect)."""
    total = 0
    for k in range(len(order) - 1):
        pos = {v: i for i, v in enumerate(order[k + 1])}
        seen: list[int] = []
        for v in order[k]:                       # sources left to right
            ends = sorted(pos[t] for t in down.get(v, ()) if t in pos)
            for e in ends:                       # earlier sources' edges ending right of e
                total += len(seen) - bisect.bisect_right(seen, e)
            for e in ends:
                bisect.insort(seen, e)
    return total


def sugiyama(g: Graph) -> Layout:
    if not g.nodes:
        return Layout({}, {}, 2 * MARGIN, 2 * MARGIN)
    layer: dict[str, int] = {}
    for n in g.nodes:                               # nodes are in topological order
        layer[n.id] = 1 + max((layer[i] for i in n.inputs), default=-1)
    users: dict[str, list[str]] = {}
    for a, b in g.edges:
        users.setdefault(a, []).append(b)
    for n in g.nodes:                               # inputs sit just above their first use
        if not n.inputs and n.id in users:
            layer[n.id] = min(layer[u] for u in users[n.id]) - 1
    sizes = {n.id: box_size(n) for n in g.nodes}
    # (2) dummy points for long edges; chains[(a, b)] = [a, d1, d2, ..., b]
    down: dict[str, list[str]] = {}
    up: dict[str, list[str]] = {}
    chains: dict[tuple[str, str], list[str]] = {}
    layers: list[list[str]] = [[] for _ in range(max(layer.values()) + 1)]
    for n in g.nodes:
        layers[layer[n.id]].append(n.id)
    for a, b in g.edges:
        chain = [a]
        for k in range(layer[a] + 1, layer[b]):
            d = f"_d{len(sizes)}"
            sizes[d] = (DUMMY_W, 0.0)
            layer[d] = k
            layers[k].append(d)
            chain.append(d)
        chain.append(b)
        chains[(a, b)] = chain
        for s, t in zip(chain, chain[1:]):
            down.setdefault(s, []).append(t)
            up.setdefault(t, []).append(s)
    # (3) crossing reduction
    best = [row[:] for row in layers]
    best_c = _crossings(best, down)
    order = [row[:] for row in layers]
    for sweep in range(8):
        rng = range(1, len(order)) if sweep % 2 == 0 else range(len(order) - 2, -1, -1)
        nbrs = up if sweep % 2 == 0 else down
        for k in rng:
            ref = order[k - 1] if sweep % 2 == 0 else order[k + 1]
            pos = {v: i for i, v in enumerate(ref)}
            cur = {v: i for i, v in enumerate(order[k])}

            def bary(v: str, pos: dict[str, int] = pos, cur: dict[str, int] = cur,
                     nbrs: dict[str, list[str]] = nbrs) -> float:
                ps = [pos[u] for u in nbrs.get(v, ()) if u in pos]
                return sum(ps) / len(ps) if ps else float(cur[v])
            order[k].sort(key=bary)
        c = _crossings(order, down)
        if c < best_c:
            best, best_c = [row[:] for row in order], c
        if best_c == 0:
            break
    order = best
    # (4) x coordinates: centres, pulled towards neighbours, kept apart
    cx: dict[str, float] = {}
    for row in order:
        x = 0.0
        for v in row:
            w = sizes[v][0]
            cx[v] = x + w / 2
            x += w + GAP_X

    def place(row: list[str], want: dict[str, float]) -> None:
        # keep the order, stay at least GAP_X apart, be as close to `want` as a two-pass
        # push (left to right, then right to left, averaged) allows
        left: list[float] = []
        for i, v in enumerate(row):
            x = want[v]
            if i:
                p = row[i - 1]
                x = max(x, left[-1] + (sizes[p][0] + sizes[v][0]) / 2 + GAP_X)
            left.append(x)
        right: list[float] = [0.0] * len(row)
        for i in range(len(row) - 1, -1, -1):
            v = row[i]
            x = want[v]
            if i < len(row) - 1:
                q = row[i + 1]
                x = min(x, right[i + 1] - (sizes[q][0] + sizes[v][0]) / 2 - GAP_X)
            right[i] = x
        mid = [(a + b) / 2 for a, b in zip(left, right)]
        for i in range(1, len(row)):               # averaging can break the spacing: repair
            need = mid[i - 1] + (sizes[row[i - 1]][0] + sizes[row[i]][0]) / 2 + GAP_X
            mid[i] = max(mid[i], need)
        for v, x in zip(row, mid):
            cx[v] = x

    for sweep in range(6):
        rows = order[1:] if sweep % 2 == 0 else order[-2::-1]
        nbrs = up if sweep % 2 == 0 else down
        for row in rows:
            want = {}
            for v in row:
                ps = [cx[u] for u in nbrs.get(v, ())]
                want[v] = sum(ps) / len(ps) if ps else cx[v]
            place(row, want)
    lo = min(cx[v] - sizes[v][0] / 2 for v in cx)
    for v in cx:
        cx[v] += MARGIN - lo
    # (5) y: every layer is a band as tall as its tallest box; boxes sit at its top
    tops: list[float] = []
    bottoms: list[float] = []
    y = float(MARGIN)
    for row in order:
        h = max((sizes[v][1] for v in row), default=0.0)
        tops.append(y)
        bottoms.append(y + h)
        y += h + GAP_Y
    height = y - GAP_Y + MARGIN
    width = max(cx[v] + sizes[v][0] / 2 for v in cx) + MARGIN
    boxes = {n.id: (cx[n.id] - sizes[n.id][0] / 2, tops[layer[n.id]], sizes[n.id][0], sizes[n.id][1])
             for n in g.nodes}
    routes: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for (a, b), chain in chains.items():
        xa, ya, wa, ha = boxes[a]
        pts = [(cx[a], ya + ha)]
        if ya + ha < bottoms[layer[a]]:
            pts.append((cx[a], bottoms[layer[a]]))
        for d in chain[1:-1]:
            pts.append((cx[d], tops[layer[d]]))
            pts.append((cx[d], bottoms[layer[d]]))
        pts.append((cx[b], tops[layer[b]]))
        routes[(a, b)] = pts
    return Layout(boxes, routes, width, height)
