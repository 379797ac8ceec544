"""Every docstring example in the gradkit package runs and prints what it shows.

The examples may use ``gk`` (gradkit), ``np`` (NumPy) and ``F`` (gradkit.nn.functional), plus
the names of their own module.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import gradkit
import gradkit.nn.functional as F

OPTIONAL = {"gradkit.symbolic": "sympy", "gradkit.viz": "matplotlib"}
MODULES = sorted(m.name for m in pkgutil.walk_packages(gradkit.__path__, "gradkit."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    for prefix, extra in OPTIONAL.items():
        if name.startswith(prefix):
            pytest.importorskip(extra)
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs = {**vars(module), "gk": gradkit, "np": np, "F": F}
    failed = []
    for test in finder.find(module, name, globs=globs):
        if test.examples and runner.run(test, out=lambda s: None).failed:
            failed.append(test.name)
    assert not failed, f"docstring examples that fail: {failed}"
