"""The report as JSON for programs: raw figures (bytes, seconds), NaN and infinities as null."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from lstmexp.report.answer import answer_of
from lstmexp.report.build import Report
from lstmexp.report.feasible import feasibility_document
from lstmexp.report.outline import Outline


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
        "params": report.params,
        "threads_used": report.threads,
        "contended_trials": report.contended,
        "banners": answer_of(report).banners,
        "feasibility": feasibility_document(report.feasibility),
        "configurations": records(report.configs),
        "recommendations": [
            {"goal": r.goal, "trial": to_builtins(r.trial), "configuration": to_builtins(r.config),
             "command": r.command, "why": r.why, "warnings": r.warnings}
            for r in report.recommendations
        ],
        "claims_best_lr": [claim_document(c) for c in report.claims_best_lr],
        # every figure each trial recorded (units in the names), not just the table's columns
        "trials": records(report.all_trials if not report.all_trials.empty else report.trials),
        "curves": {str(number): curves for number, curves in report.curves.items()},
    }


def claim_document(claim: Any) -> dict[str, Any]:
    return {
        "code": claim.code, "text": claim.text, "verdict": claim.verdict, "experiment": claim.experiment,
        "context": claim.context, "arm": claim.arm, "trials": claim.trials, "seeds": claim.seeds,
        "parts": [
            {"statement": p.statement, "verdict": p.verdict, "unit": p.unit, "test": p.test, "note": p.note,
             "effect": None if p.effect is None else to_builtins(vars(p.effect)), "rows": records(p.rows)}
            for p in claim.parts
        ],
    }


def render_json(shape: Outline) -> str:
    reports = shape.reports
    body = report_document(reports[0]) if len(reports) == 1 else {"studies": [report_document(r) for r in reports]}
    # Compact: `indent` would switch json to its pure-Python encoder (5x slower on a 1,000-trial study).
    return json.dumps(body, default=str, allow_nan=False)


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
