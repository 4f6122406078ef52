"""Render a Report for people (terminal tables, Markdown) and for programs (CSV, JSON).

Figures are formatted only here; the Report keeps raw numbers (bytes, seconds, samples/s).
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pandas as pd

from lstmexp.report.build import Report

FORMATS = ("table", "markdown", "csv", "json")
UNIT_HEADERS = {
    "peak_mem_bytes": "peak_mem_MiB",
    "samples_per_s": "samples/s",
    "train_s_per_epoch": "s/epoch",
    "iterations_per_epoch": "iters/epoch",
}


def render(report: Report, fmt: str) -> str:
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "csv":
        return render_csv(report)
    if fmt == "json":
        return render_json(report)
    raise ValueError(f"render() handles markdown, csv and json; {fmt!r} is printed by print_table")


def for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """Memory in MiB, short headers with units, 4 significant digits."""
    shown = frame.copy()
    if "peak_mem_bytes" in shown.columns:
        shown["peak_mem_bytes"] = pd.to_numeric(shown["peak_mem_bytes"], errors="coerce") / 2**20
    shown = shown.rename(columns=UNIT_HEADERS)
    return shown.map(format_cell)


def format_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def summary_lines(report: Report) -> list[str]:
    states = ", ".join(f"{n} {s}" for s, n in sorted(report.states.items())) or "no trials"
    env = report.environment
    machine = f"{env.get('cpu_model', '?')}, {env.get('gpu', 'no GPU')}, torch {env.get('torch', '?')}"
    lines = [f"study {report.study} in {report.storage}", f"trials: {states}", f"machine: {machine}"]
    if "failure_reason" in report.trials.columns:
        reasons = report.trials["failure_reason"].dropna().value_counts()
        if not reasons.empty:
            lines.append("failures: " + ", ".join(f"{n} {r}" for r, n in reasons.items()))
    return lines


def sections(report: Report) -> list[tuple[str, pd.DataFrame]]:
    parts = [("Best trials (lowest val loss)", report.best)]
    parts += [(f"Trade-offs by {param} (medians)", table) for param, table in report.tradeoffs.items()]
    parts.append(("All trials", report.trials))
    return parts


def print_table(report: Report, console: Any) -> None:
    """Print the report to a rich Console."""
    from rich.table import Table

    for line in summary_lines(report):
        console.print(line)
    for title, frame in sections(report):
        table = Table(title=title, title_justify="left", show_lines=False)
        shown = for_people(frame)
        for column in shown.columns:
            table.add_column(str(column), justify="right", overflow="fold")
        for row in shown.itertuples(index=False):
            table.add_row(*[str(v) for v in row])
        console.print(table)


def render_markdown(report: Report) -> str:
    out = [f"# lstmexp report: {report.study}", ""]
    out += [f"- {line}" for line in summary_lines(report)]
    for title, frame in sections(report):
        out += ["", f"## {title}", ""]
        out.append(for_people(frame).to_markdown(index=False) if not frame.empty else "_no finished trials_")
    return "\n".join(out) + "\n"


def render_csv(report: Report) -> str:
    buffer = io.StringIO()
    report.trials.to_csv(buffer, index=False)
    return buffer.getvalue()


def render_json(report: Report) -> str:
    document = {
        "study": report.study,
        "storage": report.storage,
        "environment": report.environment,
        "states": report.states,
        "best": records(report.best),
        "tradeoffs": {param: records(table) for param, table in report.tradeoffs.items()},
        "trials": records(report.trials),
    }
    return json.dumps(document, indent=2, default=str)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with NaN as null (JSON has no NaN)."""
    cleaned = frame.astype(object).where(frame.notna(), None)
    return [{k: to_builtin(v) for k, v in row.items()} for row in cleaned.to_dict(orient="records")]


def to_builtin(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
