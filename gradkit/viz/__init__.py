"""Visualisation: the forward computation graph (no Graphviz) and gradient plots (matplotlib).

Graphs: :func:`graph` reads a tensor's ``grad_fn`` chain into nodes (operation names,
leaves with shape/dtype, values where the graph still holds them, gradients on request,
NaN/inf marked); :func:`to_dot`, :func:`to_mermaid` and :func:`to_svg` give text, and
:func:`render` writes ``.svg``/``.dot``/``.mmd`` with no dependency, ``.png``/``.pdf``
with matplotlib. Plots (:func:`plot_gradient_field`, :func:`plot_optimization_path`,
:func:`plot_loss_curve`, :func:`plot_edges`) need matplotlib (``pip install gradkit[viz]``).

Examples
--------
>>> import gradkit as gk
>>> from gradkit import viz
>>> x = gk.tensor(2.0, requires_grad=True)
>>> y = gk.sin(x) * x
>>> print(viz.to_dot(y).splitlines()[0])
digraph gradkit {
"""

from __future__ import annotations

from ._graph import Graph, GraphNode, graph, summary, to_dot, to_mermaid
from ._plots import plot_edges, plot_gradient_field, plot_loss_curve, plot_optimization_path
from ._render import graphviz_available, layout, render, to_html, to_svg

__all__ = ["graph", "Graph", "GraphNode", "summary", "to_dot", "to_mermaid", "to_svg", "to_html", "layout",
           "graphviz_available",
           "render", "plot_gradient_field", "plot_optimization_path", "plot_loss_curve", "plot_edges"]
