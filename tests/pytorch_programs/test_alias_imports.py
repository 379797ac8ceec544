"""PyTorch's submodule imports under nn.utils reach gradkit's modules when ``torch`` is an alias
of gradkit (``import torch.nn.utils.prune as prune``, as the pruning and parametrization
tutorials write), in a fresh interpreter so a real torch is never involved."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_nn_utils_submodules_import_through_the_alias() -> None:
    code = ("from tools.pytorch_programs import alias; alias.install_alias()\n"
            "import torch.nn.utils.parametrize as a, torch.nn.utils.prune as b\n"
            "from torch.nn.utils import parametrizations as c\n"
            "print(a.__name__, b.__name__, c.__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["gradkit.nn.parametrize", "gradkit.nn.prune",
                                  "gradkit.nn.parametrizations"]
