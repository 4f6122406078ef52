"""A self-contained HTML report: one file, images embedded as base64, every user string escaped.

Study names, column names, cell values and captions all pass through `html.escape` (tables through
pandas' `to_html(escape=True)`), so a study called `<script>` shows as text.
"""

from __future__ import annotations

import base64
import html

from lstmexp.report.outline import Outline
from lstmexp.report.people import for_people

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right}
th{background:#f3f3f3} caption{caption-side:bottom;text-align:left;color:#555;font-size:.85em}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto} img{max-width:100%}
"""


def render_html(shape: Outline, images: dict[str, bytes] | None = None) -> str:
    title = html.escape(shape.title)
    body = [f"<h1>{title}</h1>", "<ul>", *[f"<li>{html.escape(line)}</li>" for line in shape.lines], "</ul>"]
    for section in shape.sections:
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.caption:
            body.append(f"<p><em>{html.escape(section.caption)}</em></p>")
        if section.frame.empty:
            body.append("<p>no rows</p>")
        else:
            body.append(for_people(section.frame).to_html(index=False, escape=True, border=0))
        if section.lines:
            body.append("<pre>" + html.escape("\n".join(section.lines)) + "</pre>")
    if images:
        body.append("<h2>Plots</h2>")
        for name, data in images.items():
            encoded = base64.b64encode(data).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(name, quote=True)}" src="data:image/png;base64,{encoded}">'
                        f"<figcaption>{html.escape(name)}</figcaption></figure>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
