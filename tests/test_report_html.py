"""report/html.py: one self-contained page, every user string escaped, images embedded."""

from __future__ import annotations

import base64

import pandas as pd

from lstmexp.report.html import render_html
from lstmexp.report.outline import Outline
from lstmexp.report.sections import Section

EVIL = "<script>alert(1)</script>&"


def hostile_outline() -> Outline:
    frame = pd.DataFrame({f"{EVIL} col": [EVIL], "batch_size": [16]})
    section = Section("k", f"title {EVIL}", frame, caption=f"caption {EVIL}", lines=[f"line {EVIL}"])
    return Outline(f"lstmexp report: {EVIL}", [f"summary {EVIL}"], [section, Section("e", "empty", pd.DataFrame())], [])


def test_every_user_string_is_escaped():
    page = render_html(hostile_outline())
    assert "<script>" not in page
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&amp;"
    for where in (f"<title>lstmexp report: {escaped}</title>", f"<li>summary {escaped}</li>",
                  f"<h2>title {escaped}</h2>", f"<em>caption {escaped}</em>", f"line {escaped}",
                  f"<th>{escaped} col</th>", f"<td>{escaped}</td>"):
        assert where in page, where
    assert "<p>no rows</p>" in page


def test_images_are_embedded_and_their_names_escaped():
    png = b"\x89PNG\r\n\x1a\nfake"
    page = render_html(hostile_outline(), {f'"{EVIL}': png})
    assert f'src="data:image/png;base64,{base64.b64encode(png).decode()}"' in page
    assert 'alt="&quot;&lt;script&gt;' in page
    assert "src=\"http" not in page and "<link" not in page
