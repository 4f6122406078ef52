"""Memory sizes: the one reader (spec max_memory, --max-memory) and the one writer (messages)."""

from __future__ import annotations

import pytest

from lstmexp.errors import SpecError
from lstmexp.units import MIB, format_bytes, parse_memory, parse_memory_flag


@pytest.mark.parametrize(("text", "expected"), [
    ("512MiB", 512 * 2**20), ("2GB", 2 * 10**9), ("1.5GiB", 3 * 2**29), ("1000", 1000), (" 4 kib ", 4096),
    ("7B", 7), (123, 123),
])
def test_parse_memory(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("bad", ["lots", "12 parsecs", "-1GiB", "", True])
def test_parse_memory_rejects_nonsense(bad):
    with pytest.raises(ValueError, match="4GiB"):
        parse_memory(bad)


def test_a_bad_flag_is_a_one_line_spec_error_naming_the_flag_and_the_fix():
    with pytest.raises(SpecError, match=r"^--max-memory 'lots' is not a size; write e\.g\. 512MiB"):
        parse_memory_flag("lots", "--max-memory")
    assert parse_memory_flag("512MiB", "--max-memory") == 512 * MIB


@pytest.mark.parametrize(("size", "text"), [
    (12, "12 B"), (2048, "2.0 KiB"), (512 * MIB, "512.0 MiB"), (3 * 2**29, "1.5 GiB"), (2**41, "2.0 TiB"),
])
def test_format_bytes(size, text):
    assert format_bytes(size) == text


def test_formatting_then_parsing_gives_the_size_back():
    for size in (3 * 2**29, 512 * MIB, 5 * 2**10):
        assert parse_memory(format_bytes(size).replace(" ", "")) == size
