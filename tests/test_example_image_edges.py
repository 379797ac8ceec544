"""examples/image_edges.py writes into an output folder, never over a tracked file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_default_output_is_untracked(tmp_path):
    pytest.importorskip("PIL")
    tracked = ROOT / "docs" / "images" / "edges.png"
    before = tracked.read_bytes() if tracked.exists() else None
    out = tmp_path / "sub" / "edges.png"
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "image_edges.py"), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the folder was created, a PNG written
    source = (ROOT / "examples" / "image_edges.py").read_text(encoding="utf-8")
    assert '"examples" / "output"' in source and '"docs" / "images"' not in source
    assert (tracked.read_bytes() if tracked.exists() else None) == before
