"""Configurations, not trials: the searched parameters, and trials grouped by the values they share.

A configuration is the set of searched values except the seed. Repeats and TPE's re-suggestions
train one configuration with several seeds; ranking single trials would recommend the luckiest
seed. Trials carry the search's `config` key when the study recorded it; older studies are
grouped by all their searched parameters. Configurations are ranked by their mean best val loss
over seeds, with the seed-to-seed standard deviation beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from lstmexp.choices import SEARCHED_PARAMS
from lstmexp.metric_names import CONFIG, PEAK_MEM_BYTES, SAMPLES_PER_S, TEST_SKILL, VAL_LOSS_BEST
from lstmexp.report.noise import contended_mask
from lstmexp.reproduce import NORMALIZATION_PARAM

RANK_METRIC = VAL_LOSS_BEST


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
    """Each trial's configuration key: the recorded `config`, else its searched values ('batch_size=16, ...')."""
    built = pd.Series("", index=trials.index, dtype=object)
    for index, param in enumerate(params):  # column-wise string concatenation: no Python loop over trials
        values = trials[param].map(to_plain).astype(str)
        built = built + ("" if index == 0 else ", ") + f"{param}=" + values
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
    key = config_keys(complete, params)
    losses = pd.to_numeric(complete[RANK_METRIC], errors="coerce")
    grouped = losses.groupby(key, sort=False)
    distance = (losses - grouped.transform("mean")).abs()
    representative = distance.groupby(key, sort=False).idxmin()  # index label of each configuration's trial
    table = complete.loc[representative.to_numpy(), [p for p in params if p in complete.columns]]
    table = table.map(to_plain).reset_index(drop=True)
    table["seeds"] = grouped.size().to_numpy()
    table[RANK_METRIC] = grouped.mean().to_numpy()
    table[f"{RANK_METRIC}_sd"] = grouped.std().to_numpy()  # NaN for one seed
    table["trial"] = complete.loc[representative.to_numpy(), "number"].astype(int).to_numpy()
    busy = contended_mask(complete)
    for metric in (SAMPLES_PER_S, PEAK_MEM_BYTES, TEST_SKILL):
        if metric in complete.columns:
            values = pd.to_numeric(complete[metric], errors="coerce")
            values = values.where(~busy) if metric == SAMPLES_PER_S else values
            table[metric] = values.groupby(key, sort=False).median().to_numpy()
    table = table.sort_values(RANK_METRIC, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table


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
