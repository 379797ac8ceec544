"""``python -m gradkit``: the ``gradkit`` command (bare, or ``tour``: a short tour computed live)."""

from __future__ import annotations

import sys

from .cli._tour import tour  # noqa: F401  (python -m gradkit tour)


def main(argv: list[str] | None = None) -> int:
    """Run the ``gradkit`` command line (:mod:`gradkit.cli`); bare, it prints the tour."""
    from .cli import main as cli_main
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
