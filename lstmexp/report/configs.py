"""Configurations, not trials: the searched parameters, and trials grouped by the values they share.

A configuration is the set of searched values except the seed. Repeats and TPE's re-suggestions
train one configuration with several seeds; ranking single trials would recommend the luckiest
seed. Trials carry the search's `config` key when the study recorded it; older studies are
grouped by all their searched parameters. Configurations are ranked by their mean best val loss
over seeds, with the seed-to-seed standard deviation beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from lstmexp.choices import SEARCHED_PARAMS
from lstmexp.report.noise import contended_mask

CONFIG = "config"
# The searched normalisation's Optuna name (it sets data.normalization).
NORMALIZATION_PARAM = "normalization"
RANK_METRIC = "val_loss_best"


def searched_params(trials: pd.DataFrame, names: Iterable[str] = ()) -> list[str]:
    """Every searched parameter in the report's order: the three sizes, normalisation, then dotted paths.

    `names` are the study's distribution names (every parameter Optuna suggested); without them
    the frame's columns that look like parameters are used.
    """
    known = set(names) or {c for c in trials.columns if "." in str(c)} | set(SEARCHED_PARAMS) | {NORMALIZATION_PARAM}
    present = [p for p in known if p in trials.columns]
    core = [p for p in (*SEARCHED_PARAMS, NORMALIZATION_PARAM) if p in present]
    return core + sorted(p for p in present if p not in core)


def config_keys(trials: pd.DataFrame, params: list[str]) -> pd.Series:
    """Each trial's configuration key: the recorded `config`, else its searched values as JSON."""
    built = trials[params].apply(lambda row: json.dumps({p: to_plain(row[p]) for p in params}, sort_keys=True),
                                 axis=1) if params and not trials.empty else pd.Series("", index=trials.index)
    if CONFIG not in trials.columns:
        return built.astype(str)
    recorded = trials[CONFIG]
    return recorded.where(recorded.notna(), built).astype(str)


def to_plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def config_table(trials: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    """Completed trials per configuration, best first: mean and sd of the best val loss over seeds.

    Speed and memory are medians over the configuration's uncontended trials. `trial` is the
    configuration's trial whose figure is closest to the mean (the one a reproduce command shows).
    """
    columns = ["rank", *params, "seeds", RANK_METRIC, f"{RANK_METRIC}_sd", "trial"]
    if "state" not in trials.columns or RANK_METRIC not in trials.columns:
        return pd.DataFrame(columns=columns)
    complete = trials[trials["state"] == "complete"].dropna(subset=[RANK_METRIC])
    if complete.empty:
        return pd.DataFrame(columns=columns)
    complete = complete.assign(__config=config_keys(complete, params))
    rows = [config_row(group, params) for _, group in complete.groupby("__config", sort=False)]
    table = pd.DataFrame(rows).sort_values(RANK_METRIC, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table


def config_row(group: pd.DataFrame, params: list[str]) -> dict[str, Any]:
    losses = pd.to_numeric(group[RANK_METRIC], errors="coerce")
    mean = float(losses.mean())
    representative = group.iloc[int((losses - mean).abs().to_numpy().argmin())]
    row: dict[str, Any] = {p: to_plain(representative[p]) for p in params}
    row |= {"seeds": len(group), RANK_METRIC: mean,
            f"{RANK_METRIC}_sd": float(losses.std()) if len(group) > 1 else float("nan"),
            "trial": int(representative["number"])}
    quiet = group[~contended_mask(group)]
    for metric in ("samples_per_s", "peak_mem_bytes", "test_skill"):
        if metric in group.columns:
            source = quiet if metric == "samples_per_s" else group
            values = pd.to_numeric(source[metric], errors="coerce").dropna()
            row[metric] = float(values.median()) if not values.empty else float("nan")
    return row


def tie_note(table: pd.DataFrame) -> str:
    """A sentence when the top two configurations are within seed-to-seed noise of each other."""
    if len(table) < 2:
        return ""
    first, second = table.iloc[0], table.iloc[1]
    gap = float(second[RANK_METRIC] - first[RANK_METRIC])
    spreads = [float(s) for s in (first[f"{RANK_METRIC}_sd"], second[f"{RANK_METRIC}_sd"]) if pd.notna(s)]
    spread = max(spreads, default=0.0)
    if spread <= gap:
        return ""
    return (f"tie: the seed-to-seed spread (sd {spread:.3g}) is wider than the gap to the runner-up ({gap:.3g}); "
            "the top configurations are equally good within noise: run more seeds (search.repeats) to separate them")
