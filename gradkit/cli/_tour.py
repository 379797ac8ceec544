"""``gradkit tour``: the seed documents' examples, computed live."""

from __future__ import annotations


def tour() -> str:
    """The seed documents' examples, computed by gradkit now."""
    import gradkit as gk

    lines = ["gradkit — gradients on one NumPy engine", ""]

    x = gk.tensor(1.0, requires_grad=True)
    y = x ** 2 + 2 * x + 3
    y.backward()
    lines += ["1. d/dx (x**2 + 2*x + 3) at x = 1",
              "   x = gk.tensor(1.0, requires_grad=True); y = x**2 + 2*x + 3; y.backward()",
              f"   y = {y!r}", f"   x.grad = {x.grad!r}", ""]

    x = gk.tensor(4.0, requires_grad=True)
    (2 * x ** 2 + 7).backward()
    first = repr(x.grad)
    (x ** 2).backward()
    lines += ["2. Gradients accumulate until zero_()",
              f"   after d(2x²+7)/dx at 4: x.grad = {first}",
              f"   after d(x²)/dx as well:  x.grad = {x.grad!r}"]
    x.grad.zero_()
    lines += [f"   after x.grad.zero_():    x.grad = {x.grad!r}", ""]

    x = gk.tensor([1, 2, 3, 4, 4, 0.0], requires_grad=True)
    gk.max(x).backward()
    lines += ["3. Ties in max share the gradient", f"   x = {x.detach()}",
              f"   d max(x)/dx = {x.grad}", ""]

    x = gk.tensor([1, 2, 3, 4, 5, 6, 7.0], requires_grad=True)
    gk.clip(x, 1.5, 5.5).sum().backward()
    lines += ["4. clip(x, 1.5, 5.5) passes the gradient only inside the bounds",
              f"   d sum(clip(x))/dx = {x.grad}", ""]

    x = gk.tensor([2.0, 3.0], requires_grad=True)
    y = x[0] ** 2 + x[1] ** 3
    (g,) = gk.autograd.grad(y, x, create_graph=True)
    (h,) = gk.autograd.grad(g.sum(), x)
    lines += ["5. Higher order: y = x0**2 + x1**3", f"   grad = {g.detach()}",
              f"   d(sum grad)/dx = {h}", ""]
    lines.append("Run the tests: pip install '.[test]' && python -m pytest")
    return "\n".join(lines)
