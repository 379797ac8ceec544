"""MkDocs hook: Sphinx cross-reference roles in docstrings become links in the built site.

gradkit's docstrings use Sphinx roles (``:func:`sobel```, ``:class:`Tensor```,
``:func:`title <gradkit.image.directional_kernel>```). mkdocstrings renders them as text
(``:func:<code>sobel</code>``). After the build this hook rewrites each one into a link to
the object's heading (mkdocstrings gives every rendered object an ``id`` with its dotted
path), resolved as Sphinx would: the exact path, then a name on the same page, then under
``gradkit.``, then a unique match anywhere. A target that is not rendered anywhere keeps
its code formatting without the role prefix.
"""

from __future__ import annotations

import html
import os
import re
from typing import Any

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const|term):<code>(.*?)</code>")
IDS = re.compile(r'\bid="([A-Za-z_][\w.]*)"')
TITLED = re.compile(r"^(.*?)\s*<(.+)>$")


def _index(site: str) -> dict[str, dict[str, str]]:
    """page path (relative to the site) -> {anchor id: anchor id} of every object heading."""
    pages: dict[str, dict[str, str]] = {}
    for root, _, files in os.walk(site):
        for name in files:
            if name.endswith(".html"):
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as fh:
                    ids = {i: i for i in IDS.findall(fh.read()) if "." in i or i.startswith("gradkit")}
                pages[os.path.relpath(path, site)] = ids
    return pages


def resolve(target: str, page: str, pages: dict[str, dict[str, str]]) -> tuple[str, str] | None:
    """(page, anchor) of ``target`` seen from ``page``, or None."""
    target = target.lstrip("~.").rstrip("()")
    for p, ids in pages.items():
        if target in ids:
            return p, target
    local = sorted((i for i in pages.get(page, {}) if i.endswith("." + target)), key=len)
    if local:
        return page, local[0]
    for p, ids in pages.items():
        if "gradkit." + target in ids:
            return p, "gradkit." + target
    hits = [(p, i) for p, ids in pages.items() for i in ids if i.endswith("." + target)]
    return hits[0] if len({h[1] for h in hits}) == 1 else None


def rewrite(text: str, page: str, pages: dict[str, dict[str, str]]) -> str:
    """``text`` (a page's HTML) with every Sphinx role replaced by a link or plain code."""
    def one(m: re.Match[str]) -> str:
        inner = html.unescape(m.group(1))
        titled = TITLED.match(inner)
        title, target = (titled.group(1), titled.group(2)) if titled else (inner, inner)
        if not titled and target.startswith("~"):
            title = target.lstrip("~").rsplit(".", 1)[-1]
        title = title.lstrip("~")
        code = f"<code>{html.escape(title, quote=False)}</code>"
        hit = resolve(target, page, pages)
        if hit is None:
            return code
        dest, anchor = hit
        rel = os.path.relpath(dest, os.path.dirname(page) or ".").replace(os.sep, "/")
        href = ("" if dest == page else rel) + "#" + anchor
        return f'<a class="autorefs autorefs-internal" href="{href}">{code}</a>'

    return ROLE.sub(one, text)


def on_post_build(config: Any, **kwargs: Any) -> None:
    site = config["site_dir"]
    pages = _index(site)
    for page in pages:
        path = os.path.join(site, page)
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        new = rewrite(text, page, pages)
        if new != text:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(new)
