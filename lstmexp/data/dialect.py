"""Why a CSV read as text: semicolon separators and decimal commas, named with the fix.

pandas reads a `a;b` file as one text column and `"1,5"` as text, so without this a user sees
"no numeric columns" about a file full of numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")
FIX = "convert it, e.g. pandas.read_csv(PATH, sep=';', decimal=',').to_csv('fixed.csv', index=False)"


def semicolon_hint(path: Path) -> str | None:
    """Named before pandas reads the file: `a;b` rows with decimal commas would parse as wrong numbers."""
    with path.open(encoding="utf-8", errors="replace") as file:
        header = file.readline().strip()
    if header.count(";") > header.count(","):
        return (f"{path} looks like a semicolon-separated file (header {header[:60]!r}); lstmexp reads "
                f"comma-separated CSV: {FIX.replace('PATH', repr(str(path)))}")
    return None


def dialect_hint(frame: pd.DataFrame, path: str) -> str | None:
    """A one-line explanation when text columns are numbers with decimal commas, else None."""
    commas = decimal_comma_columns(frame)
    if commas:
        column, example = commas[0]
        return (f"column {column!r} of {path} holds decimal commas ({example!r}); lstmexp reads '.' decimals: "
                f"{FIX.replace('PATH', repr(path)).replace(', sep=' + repr(';'), '')}")
    return None


def decimal_comma_columns(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(column, example value) for text columns whose values are numbers written with a decimal comma."""
    found = []
    for column in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[column]):
            continue
        sample = frame[column].dropna().astype(str).head(50)
        if not sample.empty and sample.str.match(DECIMAL_COMMA).mean() >= 0.9:
            found.append((str(column), str(sample.iloc[0])))
    return found
