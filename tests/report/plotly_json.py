"""Reads the charts of a report page back as plotly JSON: what the browser is given to draw."""

from __future__ import annotations

import base64
import json
import re

import numpy as np


def page_figures(source: str) -> list[tuple[str, list, dict]]:
    """(div id, traces, layout) of every `Plotly.newPlot` call in the page, in page order."""
    decoder = json.JSONDecoder()
    figures = []
    for match in re.finditer(r"Plotly\.newPlot\(\s*", source):
        position = match.end()
        parts = []
        for _ in range(3):  # the div id, the traces, the layout
            value, position = decoder.raw_decode(source, position)
            parts.append(value)
            position = source.index(",", position) + 1 if len(parts) < 3 else position
            while source[position].isspace():
                position += 1
        figures.append((parts[0], parts[1], parts[2]))
    return figures


def array(value) -> np.ndarray:
    """A plotly array: a list, or the typed base64 form plotly writes numpy arrays in."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = [int(n) for n in str(value.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(value, dtype=float)
