"""Small wording helpers for data messages: plurals, and where a row sits in the user's file."""

from __future__ import annotations

from pathlib import Path


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 missing value', '2 missing values' (`many` for irregular plurals)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def file_line(path: str | Path, row: int) -> str:
    """Where data row `row` (0-based) is in the file, as a user would find it in an editor.

    A CSV's header is line 1, so row 0 is line 2; a Parquet file has no lines, so it says row N (1-based).
    """
    if Path(path).suffix.lower() == ".csv":
        return f"line {row + 2} of {path}"
    return f"row {row + 1} of {path}"
