"""The API pages render Sphinx roles (``:func:`x```) as links, not as raw text."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _hook():
    spec = importlib.util.spec_from_file_location("sphinx_roles", ROOT / "docs_hooks" / "sphinx_roles.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_rewrite_resolves_like_sphinx():
    hook = _hook()
    pages = {"api/a/index.html": {"gradkit.image.sobel": "", "gradkit.image.scharr": ""},
             "api/b/index.html": {"gradkit.tensor": "", "gradkit.Tensor.backward": ""}}
    page = "api/a/index.html"
    out = hook.rewrite("see :func:<code>scharr</code>", page, pages)
    assert out == ('see <a class="autorefs autorefs-internal" href="#gradkit.image.scharr">'
                   "<code>scharr</code></a>")
    out = hook.rewrite(":func:<code>gradkit.tensor</code>", page, pages)
    assert 'href="../b/index.html#gradkit.tensor"' in out and ":func:" not in out
    out = hook.rewrite(":func:<code>the filter &lt;gradkit.image.sobel&gt;</code>", page, pages)
    assert out.endswith('href="#gradkit.image.sobel"><code>the filter</code></a>')
    assert hook.rewrite(":meth:<code>~gradkit.Tensor.backward</code>", page, pages).endswith(
        "<code>backward</code></a>")
    assert hook.rewrite(":class:<code>Nowhere</code>", page, pages) == "<code>Nowhere</code>"


def test_built_site_has_no_raw_roles_and_links_resolve(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f",
                           str(ROOT / "mkdocs.yml"), "-d", str(site)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    raw, broken, links = [], [], 0
    ids = {p: set(re.findall(r'\bid="([^"]+)"', p.read_text(encoding="utf-8"))) for p in site.rglob("*.html")}
    for page in ids:
        text = page.read_text(encoding="utf-8")
        raw += [page.name for _ in re.finditer(r":(func|class|meth|mod|data|attr|exc):<code>", text)]
        for href in re.findall(r'class="autorefs autorefs-internal" href="([^"]*)"', text):
            links += 1
            path, _, anchor = href.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if anchor not in ids.get(dest, set()):
                broken.append(f"{page.relative_to(site)} -> {href}")
    assert raw == []
    assert broken == []
    assert links > 50
