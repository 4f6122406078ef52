"""Recommendations: most accurate, fastest within X% of the best loss, best under a memory budget.

Each comes with the `lstmexp run` command that reproduces the trial: its searched settings as
flags, plus `-o key=value` for every field of the study's stored spec that differs from the
built-in defaults (data, model and train; the search section does not change one run).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lstmexp.choices import SEARCHED_PARAMS
from lstmexp.units import MIB

REPRODUCED_SECTIONS = ("data", "model", "train")
DEFAULT_WITHIN_PCT = 10.0


@dataclass
class Recommendation:
    goal: str
    trial: dict[str, Any] | None  # the chosen trial's row, None when nothing qualifies
    command: str
    why: str


def recommend(
    trials: pd.DataFrame, spec: dict[str, Any], within_pct: float = DEFAULT_WITHIN_PCT,
    max_memory: int | None = None,
) -> list[Recommendation]:
    complete = trials[trials["state"] == "complete"] if "state" in trials.columns else trials.iloc[0:0]
    if "val_loss_best" not in complete.columns:
        complete = complete.iloc[0:0]
    complete = complete.dropna(subset=["val_loss_best"]) if not complete.empty else complete
    picks = [most_accurate(complete), fastest_within(complete, within_pct)]
    if max_memory is not None:
        picks.append(best_under_memory(complete, max_memory))
    return [Recommendation(goal, row, reproduce_command(row, spec) if row else "", why) for goal, row, why in picks]


def as_row(frame: pd.DataFrame, index: Any) -> dict[str, Any]:
    return frame.loc[index].to_dict()


def most_accurate(complete: pd.DataFrame) -> tuple[str, dict[str, Any] | None, str]:
    goal = "most accurate"
    if complete.empty:
        return goal, None, "no completed trial"
    row = as_row(complete, complete["val_loss_best"].idxmin())
    return goal, row, f"lowest best val loss ({row['val_loss_best']:.4g}) of {len(complete)} completed trials"


def fastest_within(complete: pd.DataFrame, within_pct: float) -> tuple[str, dict[str, Any] | None, str]:
    goal = f"fastest within {within_pct:g}% of the best loss"
    if complete.empty or "samples_per_s" not in complete.columns:
        return goal, None, "no completed trial with a throughput"
    limit = complete["val_loss_best"].min() * (1 + within_pct / 100)
    close = complete[complete["val_loss_best"] <= limit].dropna(subset=["samples_per_s"])
    if close.empty:
        return goal, None, "no completed trial with a throughput"
    row = as_row(close, close["samples_per_s"].idxmax())
    return goal, row, (f"highest samples/s ({row['samples_per_s']:.4g}) among {len(close)} trials with best val "
                       f"loss ≤ {limit:.4g}")


def best_under_memory(complete: pd.DataFrame, budget: int) -> tuple[str, dict[str, Any] | None, str]:
    goal = f"most accurate under {budget / MIB:.0f} MiB peak memory"
    if complete.empty or "peak_mem_bytes" not in complete.columns:
        return goal, None, "no completed trial with a peak memory"
    fits = complete[pd.to_numeric(complete["peak_mem_bytes"], errors="coerce") <= budget]
    if fits.empty:
        smallest = pd.to_numeric(complete["peak_mem_bytes"], errors="coerce").min()
        return goal, None, f"no completed trial fits; the smallest peak was {smallest / MIB:.0f} MiB"
    row = as_row(fits, fits["val_loss_best"].idxmin())
    return goal, row, f"lowest best val loss among {len(fits)} of {len(complete)} completed trials within the budget"


def reproduce_command(row: dict[str, Any], spec: dict[str, Any]) -> str:
    words = ["lstmexp", "run"]
    for param in SEARCHED_PARAMS:
        if row.get(param) is not None and not pd.isna(row.get(param)):
            words += ["--" + param.replace("_", "-"), str(int(row[param]))]
    for key, value in spec_overrides(spec):
        words += ["-o", f"{key}={json.dumps(value)}"]
    return shlex.join(words)


def spec_overrides(spec: dict[str, Any]) -> list[tuple[str, Any]]:
    """(dotted key, value) for every leaf of the stored spec's data/model/train that differs from the defaults."""
    from lstmexp.spec import ExperimentSpec

    defaults = flatten({k: v for k, v in ExperimentSpec().to_dict().items() if k in REPRODUCED_SECTIONS})
    stored = flatten({k: v for k, v in spec.items() if k in REPRODUCED_SECTIONS})
    return [(key, value) for key, value in stored.items() if key not in defaults or defaults[key] != value]


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
