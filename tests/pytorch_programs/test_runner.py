"""The program runner's line comparison (tools/pytorch_programs/run.py): what it forgives
(numbers within 1e-4, object addresses, printed ``id()`` values) and what it does not."""

from __future__ import annotations

from tools.pytorch_programs.run import _same_line, first_difference


def test_printed_ids_and_addresses_are_not_compared() -> None:
    assert _same_line("id(Z): 140201236718368", "id(Z): 139872001122480")
    assert _same_line("before id(X)=12345 after", "before id(X)=67890 after")
    assert _same_line("<object at 0x7f00aa>", "<object at 0x7f11bb>")


def test_other_numbers_on_an_id_line_are_still_compared() -> None:
    assert not _same_line("id(Z): 1401 loss 0.5", "id(Z): 1402 loss 0.6")
    assert not _same_line("id(Z): 1401", "Z: 1401")
    # an integer without an id(...) label before it is a value like any other
    assert not _same_line("count 140201236718368", "count 139872001122480")


def test_first_difference_names_the_line() -> None:
    assert first_difference("a 1.0\nid(Y): 5\n", "a 1.00001\nid(Y): 7\n") is None
    assert first_difference("a 1\nb 2\n", "a 1\nb 3\n") == "line 2: torch `b 2` gradkit `b 3`"


def test_nan_matches_nan_only() -> None:
    assert _same_line("tensor([1.0000,    nan])", "tensor([1.0000,    nan])")
    assert not _same_line("tensor([1.0000,    nan])", "tensor([1.0000, 2.0000])")
