"""Render a report (or a comparison) for people (terminal, Markdown, HTML) and programs (CSV, JSON).

Figures are formatted only here; the Report keeps raw numbers (bytes, seconds, samples/s). What is
shown comes from `sections.outline`, the same for every format.
"""

from __future__ import annotations

import io
import json
import math
import re
from typing import Any

import pandas as pd

from lstmexp.report.build import Report
from lstmexp.report.sections import Section, outline, people_frame, report_sections, summary_lines

FORMATS = ("table", "markdown", "html", "csv", "json")
TERMINAL_WIDTH = 120
# Left out of terminal tables only (Markdown, HTML, CSV and JSON keep them).
TERMINAL_HIDDEN = ("test_mse", "param_count", "state")  # state: only when all rows share it
MEMORY_COLUMN = re.compile(r"mem\w*_bytes(_iqr)?$")  # shown in MiB
# Short headers (with units) so that the terminal tables fit 120 columns.
UNIT_HEADERS = {
    "peak_mem_bytes": "mem MiB",
    "samples_per_s": "samples/s",
    "train_s_per_epoch": "s/epoch",
    "iterations_per_epoch": "iters/ep",
    "val_loss_best": "val loss",
    "test_mae_units": "test MAE",
    "test_mse": "test MSE",
    "test_skill": "skill",
    "grad_norm_mean": "grad norm",
    "hidden_size": "hidden",
    "batch_size": "batch",
    "time_step": "T",
    "param_count": "params",
    "failure_reason": "failure",
    "achieved_gflops": "GFLOP/s",
    "hw_efficiency_pct": "hw eff %",
    "time_to_target_s": "s to target",
}

__all__ = ["FORMATS", "print_table", "render", "sections", "summary_lines"]


def render(document: object, fmt: str, images: dict[str, bytes] | None = None) -> str:
    if fmt == "markdown":
        return render_markdown(document)
    if fmt == "html":
        from lstmexp.report.html import render_html

        return render_html(document, images)
    if fmt == "csv":
        return render_csv(document)
    if fmt == "json":
        return render_json(document)
    if fmt == "table":
        return render_terminal(document)
    raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")


def sections(report: Report) -> list[tuple[str, pd.DataFrame]]:
    return [(s.title, s.frame) for s in report_sections(report)]


def for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """Memory in MiB, median ±spread in one cell, short headers with units, 4 significant digits."""
    shown = frame.copy()
    for column in shown.columns:
        if MEMORY_COLUMN.search(str(column)):
            shown[column] = pd.to_numeric(shown[column], errors="coerce") / 2**20
    shown = people_frame(shown)
    shown = shown.rename(columns=lambda c: short_header(str(c)))
    return shown.map(format_cell)


def short_header(column: str) -> str:
    for name, short in UNIT_HEADERS.items():
        column = column.replace(name, short)
    return column


def format_cell(value: Any) -> str:
    if isinstance(value, tuple):  # (median, spread as % of it)
        median, share = value
        return format_cell(median) + (f" ±{share}%" if share is not None else "")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def print_table(document: object, console: Any) -> None:
    """Print the report to a rich Console (detail sections left out)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text  # plain text: a study called "[red]" must not be read as markup

    shape = outline(document)
    console.print(shape.title, style="bold", markup=False)
    for line in shape.lines:
        console.print(line, markup=False, highlight=False)
    for section in shape.sections:
        if section.detail:
            continue
        console.print()
        console.print(section.title, style="bold", markup=False, highlight=False)
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        shown = for_people(terminal_view(section.frame))
        for column in shown.columns:
            justify = "right" if looks_numeric(shown[column]) else "left"
            # At 120 columns a wide table must give: cells wrap within their column (a spread goes
            # to a second line), and min_width keeps every header whole (no "hidde" for hidden).
            table.add_column(Text(str(column)), justify=justify, overflow="fold", no_wrap=False,
                             min_width=len(str(column)))
        for row in shown.itertuples(index=False):
            table.add_row(*[Text(str(v)) for v in row])
        console.print(table)
        if section.caption:
            console.print(section.caption, style="italic", markup=False, highlight=False)
        for line in section.lines:
            console.print(line, markup=False, highlight=False, soft_wrap=line.lstrip().startswith("lstmexp "))


def looks_numeric(cells: pd.Series) -> bool:
    """Formatted cells that are numbers (or ×factors): right-aligned; text: left-aligned."""
    return all(not c or c[0].isdigit() or c[0] in "-+×" for c in cells)


def terminal_view(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the columns the terminal leaves out (the state too, when every row has the same one)."""
    hidden = [c for c in TERMINAL_HIDDEN if c in frame.columns and (c != "state" or frame[c].nunique() <= 1)]
    return frame.drop(columns=hidden)


def render_terminal(document: object) -> str:
    from rich.console import Console

    console = Console(width=TERMINAL_WIDTH, record=True, file=io.StringIO(), force_terminal=False)
    print_table(document, console)
    return console.export_text()


def render_markdown(document: object, image_paths: dict[str, str] | None = None) -> str:
    shape = outline(document)
    out = [f"# {shape.title}", ""]
    out += [f"- {line}" for line in shape.lines]
    for section in shape.sections:
        out += ["", f"## {section.title}", ""]
        if section.caption:
            out += [f"_{section.caption}_", ""]
        out.append(for_people(section.frame).to_markdown(index=False) if not section.frame.empty else "_no rows_")
        if section.lines:
            out += ["", "```", *section.lines, "```"]
    if image_paths:
        out += ["", "## Plots", ""]
        out += [f"![{name}]({path})" for name, path in image_paths.items()]
    return "\n".join(out) + "\n"


def render_csv(document: object) -> str:
    """The trials table (for a comparison: every study's, with a `study` column)."""
    reports = outline(document).reports
    frame = reports[0].trials if len(reports) == 1 else pd.concat(
        [r.trials.assign(study=r.study) for r in reports], ignore_index=True
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def report_document(report: Report) -> dict[str, Any]:
    return {
        "study": report.study,
        "storage": report.storage,
        "environment": report.environment,
        "states": report.states,
        "failures": report.failures,
        "compute": report.compute,
        "best": records(report.best),
        "tradeoffs": {param: records(table) for param, table in report.tradeoffs.items()},
        "extra_tradeoffs": {param: records(table) for param, table in report.extra_tradeoffs.items()},
        "matrices": {m: records(t.rename(columns=str).reset_index()) for m, t in report.matrices.items()},
        "pareto": records(report.pareto),
        "importance": records(report.importance),
        "claims": [claim_document(c) for c in report.claims],
        "recommendations": [
            {"goal": r.goal, "trial": to_builtins(r.trial), "command": r.command, "why": r.why}
            for r in report.recommendations
        ],
        # every figure each trial recorded (issue 3: units in the names), not just the table's columns
        "trials": records(report.all_trials if not report.all_trials.empty else report.trials),
        "curves": {str(number): curves for number, curves in report.curves.items()},
    }


def claim_document(claim: Any) -> dict[str, Any]:
    return {
        "code": claim.code, "text": claim.text, "verdict": claim.verdict, "experiment": claim.experiment,
        "context": claim.context,
        "parts": [
            {"statement": p.statement, "verdict": p.verdict, "unit": p.unit, "test": p.test, "note": p.note,
             "effect": None if p.effect is None else to_builtins(vars(p.effect)), "rows": records(p.rows)}
            for p in claim.parts
        ],
    }


def render_json(document: object) -> str:
    reports = outline(document).reports
    body = report_document(reports[0]) if len(reports) == 1 else {"studies": [report_document(r) for r in reports]}
    return json.dumps(body, indent=2, default=str, allow_nan=False)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with NaN and infinities as null (JSON has neither); pandas' JSON writer does it fast."""
    return json.loads(frame.rename(columns=str).to_json(orient="records", double_precision=15))


def to_builtins(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: to_builtin(v) for k, v in row.items()}


def to_builtin(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def section_csv(section: Section) -> str:
    buffer = io.StringIO()
    section.frame.to_csv(buffer, index=False)
    return buffer.getvalue()
