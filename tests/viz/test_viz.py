"""gradkit.viz: graph extraction, DOT/Mermaid/SVG text, PNG rendering and plots."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import gradkit as gk
from gradkit import viz

PNG = b"\x89PNG\r\n\x1a\n"


def _example() -> tuple[gk.Tensor, gk.Tensor, gk.Tensor]:
    x = gk.tensor(1.0, dtype=gk.float64, requires_grad=True)
    y = gk.tensor(0.5, dtype=gk.float64, requires_grad=True)
    return gk.sin(x) * gk.exp(y), x, y


def test_graph_nodes_values_and_grads() -> None:
    out, x, y = _example()
    g = viz.graph(out, names={"x": x, "y": y}, grads=True)
    labels = sorted(n.label for n in g.nodes)
    assert labels == ["ExpBackward0", "MulBackward0", "SinBackward0", "x", "y"]
    assert len(g.edges) == 4
    by = {n.label: n for n in g.nodes}
    assert by["MulBackward0"].kind == "output"
    assert float(by["SinBackward0"].value) == pytest.approx(np.sin(1.0))
    assert float(by["x"].grad) == pytest.approx(np.cos(1.0) * np.exp(0.5))
    assert float(by["SinBackward0"].grad) == pytest.approx(np.exp(0.5))
    assert x.grad is None                                    # .grad left alone
    ids = [n.id for n in g.nodes]                            # topological: inputs first
    assert all(ids.index(a) < ids.index(b) for a, b in g.edges)


def test_nan_nodes_are_marked() -> None:
    x = gk.tensor([1.0, -1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        out = gk.log(x).sum()
        g = viz.graph(out, names={"x": x})
        svg = viz.to_svg(g, engine="builtin")
    assert any(n.nonfinite for n in g.nodes)
    assert "#d00000" in svg
    assert 'color="red"' in viz.to_dot(g)


def test_dot_is_well_formed() -> None:
    out, x, y = _example()
    dot = viz.to_dot(out, names={"x": x, "y": y})
    assert dot.startswith("digraph gradkit {") and dot.rstrip().endswith("}")
    assert dot.count("{") == dot.count("}")
    nodes = set(re.findall(r"^\s+(n\d+) \[", dot, re.M))
    edges = re.findall(r"^\s+(n\d+) -> (n\d+);", dot, re.M)
    assert len(nodes) == 5 and len(edges) == 4
    assert all(a in nodes and b in nodes for a, b in edges)
    assert "lightblue" in dot and "MulBackward0" in dot


def test_mermaid() -> None:
    out, x, y = _example()
    text = viz.to_mermaid(out, names={"x": x, "y": y})
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    assert sum("-->" in s for s in lines) == 4
    assert "class " in text


def test_svg_parses_and_render_writes_files(tmp_path) -> None:
    out, x, y = _example()
    svg_path = viz.render(out, tmp_path / "g.svg", names={"x": x, "y": y}, engine="builtin")
    root = ET.parse(svg_path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert len(root.findall(".//s:g", ns)) == 5
    assert len(root.findall("s:path", ns)) == 4
    text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "grad" in text and "SinBackward0" in text
    for ext in ("dot", "mmd"):
        assert (tmp_path / f"g.{ext}").name in viz.render(out, tmp_path / f"g.{ext}")
    with pytest.raises(ValueError, match="unknown graph format"):
        viz.render(out, tmp_path / "g.xyz")


def test_bigger_graph_layout_has_no_overlaps() -> None:
    w = gk.randn(3, 4, requires_grad=True)
    b = gk.zeros(4, requires_grad=True)
    v = gk.randn(2, 3)
    loss = (gk.tanh(v @ w + b) ** 2).mean()
    g = viz.graph(loss, names={"w": w, "b": b, "v": v}, grads=True)
    boxes, _, _ = viz.layout(g)
    rects = list(boxes.values())
    for i, (x1, y1, w1, h1) in enumerate(rects):
        for x2, y2, w2, h2 in rects[i + 1:]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1
    ET.fromstring(viz.to_svg(g))
    assert viz.graph(w).nodes[0].kind == "output"            # a bare leaf


def test_png_outputs(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    out, x, y = _example()
    viz.render(out, tmp_path / "g.png")
    fig = viz.plot_gradient_field("x**2 + 3*y**2", (-1, 1), (-1, 1), n=8, path=tmp_path / "f.png")
    assert fig.axes
    viz.plot_optimization_path("(1-x)**2 + 10*(y-x**2)**2", [[-1, 1], [0, 0.5], [1, 1]],
                               path=tmp_path / "p2.png")
    viz.plot_optimization_path(lambda t: (t - 2) ** 2, [0.0, 1.0, 1.8, 2.0], path=tmp_path / "p1.png")
    viz.plot_loss_curve({"train": [1.0, 0.1, 0.01, 0.001], "val": [1.0, 0.2, 0.05, 0.02]},
                        path=tmp_path / "l.png")
    img = np.zeros((20, 30))
    img[5:15, 10:20] = 1.0
    viz.plot_edges(img, "sobel", path=tmp_path / "e.png")
    viz.plot_edges((img * 255).astype(np.uint8), "canny", path=tmp_path / "c.png")
    for name in ("g", "f", "p2", "p1", "l", "e", "c"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == PNG
