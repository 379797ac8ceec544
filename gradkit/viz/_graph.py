"""The forward computation graph of a tensor, read from its ``grad_fn`` chain; DOT and Mermaid text.

What is available for each node: the operation (``grad_fn`` name); for leaves their
value, shape, dtype, ``requires_grad`` and ``.grad``; for intermediate results the value
*when the graph still holds it*: a node that saves its inputs for backward keeps the
tensors that flow into it (and some nodes keep their output), so values are shown
before ``backward()`` (or after ``backward(retain_graph=True)``) and are missing after
a plain ``backward()`` frees the buffers. With ``grads=True`` the gradient of the output
with respect to every tensor found is computed with ``autograd.grad`` (``.grad``
fields are not touched).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradkit._core.tensor import Tensor
from gradkit.autograd import grad

__all__ = ["GraphNode", "Graph", "graph", "to_dot", "to_mermaid", "summary"]


@dataclass
class GraphNode:
    """One box of the drawing: an operation or a leaf tensor."""

    id: str
    label: str
    kind: str                       # 'op', 'leaf' or 'output'
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    requires_grad: bool = False
    value: np.ndarray | None = None
    grad: np.ndarray | None = None
    inputs: list[str] = field(default_factory=list)

    @property
    def nonfinite(self) -> bool:
        """True when the value or the gradient holds NaN or inf."""
        return any(a is not None and a.dtype.kind in "fcV" and not np.isfinite(a).all()
                   for a in (self.value, self.grad))

    def lines(self) -> list[str]:
        """Label, shape/dtype, value summary and gradient summary."""
        out = [self.label]
        if self.shape is not None:
            out.append(f"{tuple(self.shape)} {self.dtype or ''}".strip())
        if self.value is not None:
            out.append("value " + summary(self.value))
        if self.grad is not None:
            out.append("grad " + summary(self.grad))
        return out


@dataclass
class Graph:
    """Nodes in topological order (inputs first) and forward edges ``(src, dst)``."""

    nodes: list[GraphNode]
    edges: list[tuple[str, str]]

    def node(self, id: str) -> GraphNode:
        return next(n for n in self.nodes if n.id == id)

    # Jupyter shows the graph inline, as it shows torchviz's graphviz.Digraph
    def to_svg(self, engine: str = "auto") -> str:
        """SVG text (Graphviz's layout when installed, else the built-in one)."""
        from ._render import to_svg
        return to_svg(self, engine=engine)

    def to_html(self, engine: str = "auto") -> str:
        """A standalone HTML page with the SVG."""
        from ._render import to_html
        return to_html(self, engine=engine)

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def _repr_html_(self) -> str:
        svg = self.to_svg()
        return svg[svg.index("<svg"):] if "<svg" in svg else svg

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        svg = self.to_svg()
        bundle = {"image/svg+xml": svg, "text/plain": repr(self)}
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        return bundle

    def __repr__(self) -> str:
        out = [n for n in self.nodes if n.kind == "output"]
        head = f" output={out[0].label}" if out else ""
        return f"<gradkit.viz.Graph{head} nodes={len(self.nodes)} edges={len(self.edges)}>"


def summary(a: np.ndarray) -> str:
    """A short text for an array: the numbers when few, else min/mean/max; NaN/inf counted."""
    a = np.asarray(a)
    if a.size == 0:
        return "[]"
    if a.dtype.kind not in "fciub":
        return str(a.dtype)
    if a.size <= 4:
        body = ", ".join(f"{v:.4g}" for v in a.ravel().astype(float))
        return body if a.ndim == 0 else f"[{body}]"
    finite = a[np.isfinite(a)] if a.dtype.kind in "fcV" else a
    text = (f"min {finite.min():.3g} mean {finite.mean():.3g} max {finite.max():.3g}"
            if finite.size else "no finite values")
    bad = a.size - finite.size
    return text + (f" ({bad} NaN/inf)" if bad else "")


def _np(t: Any) -> np.ndarray | None:
    if isinstance(t, Tensor):
        return np.asarray(t.detach().numpy())
    return None if t is None else np.asarray(t)


def _name_map(names: Any) -> dict[int, str]:
    if not names:
        return {}
    if isinstance(names, dict):
        return {id(t): str(k) for k, t in names.items()} if all(
            isinstance(t, Tensor) for t in names.values()) else {k: str(v) for k, v in names.items()}
    return {id(t): f"x{i}" for i, t in enumerate(names)}


def graph(output: Tensor, names: Any = None, grads: bool = False) -> Graph:
    """Walk ``output.grad_fn`` (iteratively) into a :class:`Graph`.

    Parameters
    ----------
    output : Tensor
        The result to draw.
    names : dict, optional
        ``{'x': x, 'w': w}`` labels leaf tensors by name.
    grads : bool
        Compute and attach the gradient of ``output`` (summed, if not a scalar) with
        respect to every tensor in the graph, without touching ``.grad``.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"graph() needs a Tensor, got {type(output).__name__}")
    labels = _name_map(names)
    nodes: dict[int, GraphNode] = {}
    tensors: dict[int, Tensor] = {}       # node key -> the tensor that carries its value
    edges: list[tuple[str, str]] = []
    order: list[int] = []
    root = output.grad_fn
    if root is None:
        n = _leaf(output, labels, "output")
        return Graph([n], [])
    stack: list[tuple[Any, bool]] = [(root, False)]
    seen: set[int] = set()
    while stack:
        fn, done = stack.pop()
        key = id(fn)
        if done:
            order.append(key)
            continue
        if key in seen:
            continue
        seen.add(key)
        nodes[key] = GraphNode(f"n{len(nodes)}", fn.name(), "op")
        stack.append((fn, True))
        saved = getattr(fn, "args", None)
        for i, edge in enumerate(getattr(fn, "next", ()) or ()):
            if edge is None:
                continue
            if isinstance(edge, Tensor):
                src = id(edge)
                if src not in nodes:
                    nodes[src] = _leaf(edge, labels, "leaf", f"n{len(nodes)}")
                    tensors[src] = edge
                    order.append(src)
            else:
                prod = edge[0]
                src = id(prod)
                if saved is not None and i < len(saved) and isinstance(saved[i], Tensor):
                    tensors.setdefault(src, saved[i])
                if src not in seen:
                    stack.append((prod, False))
            nodes[key].inputs.append(str(src))
    tensors[id(root)] = output
    _fill(nodes, tensors, root, output)
    if grads:
        _attach_grads(output, nodes, tensors)
    ids = {k: nodes[k].id for k in nodes}
    for k in order:
        nodes[k].inputs = [ids[int(s)] for s in nodes[k].inputs]
        edges.extend((s, nodes[k].id) for s in nodes[k].inputs)
    return Graph([nodes[k] for k in order], edges)


def _leaf(t: Tensor, labels: dict[int, str], kind: str, nid: str = "n0") -> GraphNode:
    label = labels.get(id(t), "leaf" if t.requires_grad else "constant")
    return GraphNode(nid, label, kind, tuple(t.shape), str(t.dtype).replace("gradkit.", ""),
                     t.requires_grad, _np(t), _np(t.grad))


def _fill(nodes: dict[int, GraphNode], tensors: dict[int, Tensor], root: Any, output: Tensor) -> None:
    for key, n in nodes.items():
        if n.kind != "op":
            continue
        t = tensors.get(key)
        if t is not None:
            n.value, n.shape = _np(t), tuple(t.shape)
            n.dtype = str(t.dtype).replace("gradkit.", "")
    nodes[id(root)].kind = "output"


def _attach_grads(output: Tensor, nodes: dict[int, GraphNode], tensors: dict[int, Tensor]) -> None:
    keys = [k for k, t in tensors.items() if t.requires_grad]
    if not keys:
        return
    target = output if output.ndim == 0 else output.sum()
    gs = grad(target, [tensors[k] for k in keys], retain_graph=True, allow_unused=True)
    for k, g in zip(keys, gs):
        if g is not None:
            nodes[k].grad = _np(g)


def to_dot(output: Tensor | Graph, names: Any = None, grads: bool = False) -> str:
    """Graphviz DOT text of the forward graph (no Graphviz needed to produce it).

    Operations are boxes named by ``grad_fn`` (``MulBackward0``); leaves are ellipses with
    shape and dtype, those with ``requires_grad`` filled blue; NaN/inf nodes red.
    """
    g = output if isinstance(output, Graph) else graph(output, names, grads)
    out = ["digraph gradkit {", '  rankdir=TB;', '  node [fontname="Helvetica", fontsize=10];']
    for n in g.nodes:
        label = "\\n".join(_dot_escape(s) for s in n.lines())
        if n.kind == "leaf":
            style = 'shape=ellipse, style=filled, fillcolor="%s"' % (
                "lightblue" if n.requires_grad else "lightgrey")
        else:
            style = 'shape=box, style="rounded,filled", fillcolor="%s"' % (
                "palegreen" if n.kind == "output" else "lightyellow")
        if n.nonfinite:
            style += ', color="red", penwidth=2'
        out.append(f'  {n.id} [label="{label}", {style}];')
    out += [f"  {a} -> {b};" for a, b in g.edges]
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def to_mermaid(output: Tensor | Graph, names: Any = None, grads: bool = False) -> str:
    """Mermaid ``flowchart LR`` text (renders in GitHub Markdown)."""
    g = output if isinstance(output, Graph) else graph(output, names, grads)
    out = ["flowchart LR"]
    for n in g.nodes:
        text = "<br/>".join(s.replace('"', "'") for s in n.lines())
        out.append(f'  {n.id}(["{text}"])' if n.kind == "leaf" else f'  {n.id}["{text}"]')
    out += [f"  {a} --> {b}" for a, b in g.edges]
    out.append("  classDef grad fill:#add8e6;")
    out.append("  classDef bad stroke:#d00,stroke-width:3px;")
    for n in g.nodes:
        if n.kind == "leaf" and n.requires_grad:
            out.append(f"  class {n.id} grad;")
        if n.nonfinite:
            out.append(f"  class {n.id} bad;")
    return "\n".join(out) + "\n"
