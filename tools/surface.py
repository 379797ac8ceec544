"""Print the public surface: dir() of every public gradkit module and the Tensor's attributes.

Run before and after a restructuring and diff the outputs (issue #15).
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gradkit  # noqa: E402


def public_modules() -> list[str]:
    names = ["gradkit"]
    for info in pkgutil.walk_packages(gradkit.__path__, "gradkit."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        names.append(info.name)
    # public paths whose modules live elsewhere (gradkit._core) since issue #15
    names += [n for n in ("gradkit.autograd.graph", "gradkit.autograd.grad_mode") if n not in names]
    return sorted(names)


def main() -> None:
    for name in public_modules():
        try:
            mod = importlib.import_module(name)
        except Exception as exc:  # optional dependency missing
            print(f"{name}: import failed: {type(exc).__name__}")
            continue
        print(f"{name}: {' '.join(sorted(dir(mod)))}")
        if hasattr(mod, "__all__"):
            print(f"{name}.__all__: {' '.join(sorted(mod.__all__))}")
    print(f"Tensor: {' '.join(sorted(dir(gradkit.Tensor)))}")


if __name__ == "__main__":
    main()
