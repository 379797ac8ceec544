"""gradkit.viz graphs in notebooks: inline SVG/HTML, a layout with no edge through a box and
no text outside its box (built-in layout, checked with matplotlib's own font metrics)."""

from __future__ import annotations

import re
import shutil
import sys
import xml.etree.ElementTree as ET

import pytest

import gradkit as gk
from gradkit import viz

SVG = "{http://www.w3.org/2000/svg}"


def _mlp_loss():
    gk.manual_seed(0)
    m = gk.nn.Sequential(gk.nn.Linear(4, 16), gk.nn.ReLU(), gk.nn.Linear(16, 16), gk.nn.ReLU(),
                         gk.nn.Linear(16, 3))
    x = gk.randn(8, 4)
    y = gk.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    return gk.nn.functional.cross_entropy(m(x), y), m


@pytest.fixture
def no_graphviz(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)


def _points(d):
    nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    assert re.fullmatch(r"M[\d.\-,]+( L[\d.\-,]+)+", d), d
    return list(zip(nums[::2], nums[1::2]))


def _crosses(p, q, rect, eps=0.5):
    """Does segment p-q enter the interior of rect (x, y, w, h) shrunk by eps? (Liang-Barsky)"""
    x, y, w, h = rect
    x0, y0, x1, y1 = x + eps, y + eps, x + w - eps, y + h - eps
    dx, dy = q[0] - p[0], q[1] - p[1]
    t0, t1 = 0.0, 1.0
    for pk, qk in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if pk == 0:
            if qk < 0:
                return False
        else:
            t = qk / pk
            if pk < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return t0 < t1


def _text_width(s, bold):
    mpl = pytest.importorskip("matplotlib")
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath
    del mpl
    prop = FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal", size=11)
    ext = TextPath((0, 0), s, prop=prop).get_extents()
    return ext.x1 - min(ext.x0, 0)


def test_mlp_cross_entropy_svg_is_readable(no_graphviz):
    loss, m = _mlp_loss()
    g = viz.graph(loss, names=dict(m.named_parameters()), grads=True)
    svg = g._repr_svg_()
    root = ET.fromstring(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    # not one 3,488-pixel row; the widest rank holds the three weights of the MLP's
    # AddmmBackward0 nodes (about 330 pixels each) side by side
    assert width <= 1400, width
    assert height <= 2000, height
    rects = {}
    for node in root.iter(SVG + "g"):
        r = node.find(SVG + "rect")
        box = tuple(float(r.get(k)) for k in ("x", "y", "width", "height"))
        rects[node.get("id")] = box
        x, y, w, h = box
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
        for t in node.findall(SVG + "text"):
            tw = _text_width(t.text, t.get("font-weight") == "bold")
            cx, base = float(t.get("x")), float(t.get("y"))
            assert cx - tw / 2 >= x and cx + tw / 2 <= x + w, (t.text, tw, box)
            assert base - 11 >= y and base + 3 <= y + h, (t.text, box)
    # per layer: AddmmBackward0, TBackward0, weight and bias (PyTorch's graph of nn.Linear);
    # ReLU twice, LogSoftmax and NllLoss
    assert len(rects) == len(g.nodes) == 16
    # no two boxes overlap
    ids = list(rects)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            xa, ya, wa, ha = rects[a]
            xb, yb, wb, hb = rects[b]
            assert xa + wa <= xb or xb + wb <= xa or ya + ha <= yb or yb + hb <= ya, (a, b)
    edges = [p for p in root.findall(SVG + "path") if p.get("class") == "edge"]
    assert len(edges) == len(g.edges)
    for p in edges:
        src, dst = p.get("data-source"), p.get("data-target")
        pts = _points(p.get("d"))
        for a, b in zip(pts, pts[1:]):
            for nid, box in rects.items():
                if nid not in (src, dst):
                    assert not _crosses(a, b, box), (src, dst, nid, a, b)
        # the arrow starts on the source box and ends on the target box
        sx, sy, sw, sh = rects[src]
        tx, ty, tw, _ = rects[dst]
        assert sx <= pts[0][0] <= sx + sw and pts[0][1] == pytest.approx(sy + sh, abs=0.1)
        assert tx <= pts[-1][0] <= tx + tw and pts[-1][1] == pytest.approx(ty, abs=0.1)


def test_segment_check_catches_a_crossing():
    assert _crosses((0, 5), (20, 5), (5, 0, 5, 10))
    assert not _crosses((0, 20), (20, 20), (5, 0, 5, 10))


def test_notebook_reprs_and_html(no_graphviz, tmp_path):
    loss, m = _mlp_loss()
    g = viz.graph(loss)
    bundle = g._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/plain"}
    ET.fromstring(bundle["image/svg+xml"])
    assert g._repr_mimebundle_(include={"image/svg+xml"}).keys() == {"image/svg+xml"}
    assert g._repr_html_().startswith("<svg")
    assert repr(g).startswith("<gradkit.viz.Graph output=NllLossBackward0")
    assert repr(loss).startswith("tensor(") and "grad_fn=<NllLossBackward0>" in repr(loss)
    assert not hasattr(loss, "_repr_svg_")              # a Tensor's repr stays PyTorch's
    page = viz.render(loss, tmp_path / "g.html")
    text = open(page, encoding="utf-8").read()
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    with pytest.raises(ImportError, match="pip install graphviz"):
        viz.to_svg(g, engine="graphviz")
    assert not viz.graphviz_available()


def test_graphviz_layout_when_installed():
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    loss, m = _mlp_loss()
    g = viz.graph(loss, names=dict(m.named_parameters()))
    assert viz.graphviz_available()
    svg = g._repr_svg_()
    root = ET.fromstring(svg)
    titles = [t.text for t in root.iter(SVG + "title")]
    assert "n0" in titles and "n1&#45;&gt;n0" in titles or "n1->n0" in titles
    assert float(root.get("width").rstrip("pt")) < 1200
    assert svg == viz.to_svg(g, engine="graphviz")
    assert svg != viz.to_svg(g, engine="builtin")


def test_crossing_count_matches_brute_force():
    import random

    from gradkit.viz._layout import _crossings
    rnd = random.Random(0)
    for _ in range(50):
        order = [[f"a{i}" for i in range(rnd.randint(1, 6))], [f"b{i}" for i in range(rnd.randint(1, 6))]]
        down = {u: rnd.sample(order[1], rnd.randint(0, len(order[1]))) for u in order[0]}
        pairs = [(order[0].index(u), order[1].index(t)) for u in order[0] for t in down[u]]
        brute = sum((a[0] - b[0]) * (a[1] - b[1]) < 0 for i, a in enumerate(pairs) for b in pairs[i + 1:])
        assert _crossings(order, down) == brute
