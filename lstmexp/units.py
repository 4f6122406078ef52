"""Memory sizes, read and written in one place: `4GiB`, `512MiB`, `2GB` or a plain number of bytes.

Standard library only (the CLI parses `--max-memory` with it). `parse_memory` raises ValueError so
that pydantic reports it against the spec field; callers facing a flag turn it into a SpecError.
"""

from __future__ import annotations

import re
from typing import Any

from lstmexp.errors import SpecError

MIB = 2**20  # the report shows memory in MiB
MEMORY_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.I)
MEMORY_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
                "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
BINARY_UNITS = (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10))


def parse_memory(value: Any) -> int:
    """`4GiB`, `512MiB`, `2GB`, `1.5GiB` or a plain number of bytes -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = MEMORY_SIZE.match(str(value))
    if match is None:
        raise ValueError(f"memory size {value!r} not understood; write e.g. 4GiB, 512MiB or 2GB")
    number, unit = match.groups()
    return int(float(number) * MEMORY_UNITS[(unit or "B").lower()])


def parse_memory_flag(text: str, flag: str) -> int:
    """A size given on the command line: like parse_memory, but a bad one is a one-line SpecError."""
    try:
        return parse_memory(text)
    except ValueError:
        raise SpecError(f"{flag} {text!r} is not a size; write e.g. 512MiB, 2GB or 1073741824") from None


def format_bytes(size: float) -> str:
    """Bytes in the largest binary unit they fill, one decimal: 1.5 GiB, 512.0 MiB, 12 B."""
    for unit, scale in BINARY_UNITS:
        if abs(size) >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size:.0f} B"
