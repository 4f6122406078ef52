"""Configurations, not trials: the searched parameters, and trials grouped by the values they share.

A configuration is the set of searched values except the seed. Repeats and TPE's re-suggestions
train one configuration with several seeds; ranking single trials would recommend the luckiest
seed. Trials carry the search's `config` key when the study recorded it; older studies are
grouped by all their searched parameters. Configurations are ranked by their mean best val loss
over every seed that ran (RANK_RULE), with the seed-to-seed standard deviation beside it: a pruned
seed counts at its last val loss, so pruning a bad seed cannot flatter its configuration's mean.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from lstmexp.report.feasible import feasible_trials, mark
from lstmexp.report.noise import contended_mask, format_number
from lstmexp.trial.reproduce import NORMALIZATION_PARAM
from lstmexp.vocabulary.choices import SEARCHED_PARAMS
from lstmexp.vocabulary.names import CONFIG, PEAK_MEM_BYTES, SAMPLES_PER_S, TEST_SKILL, VAL_LOSS_BEST, VAL_LOSS_FINAL

RANK_METRIC = VAL_LOSS_BEST
PRUNED_METRIC = VAL_LOSS_FINAL  # a pruned seed's figure: its last val loss, where it was stopped
RANK_RULE = ("ranked by the mean best val loss over every seed that ran (a pruned seed counts at its last val "
             "loss); a configuration with fewer seeds than the most-measured one is flagged, not trusted blindly")


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
    """Configurations with a completed trial, best first: mean and sd of the val loss over every seed that ran.

    A pruned seed counts at its last val loss (`pruned` says how many). Speed and memory are medians
    over the configuration's uncontended completed trials. `trial` is the configuration's completed
    trial whose figure is closest to the mean (the one a reproduce command shows).
    """
    columns = ["rank", *params, "seeds", "pruned", RANK_METRIC, f"{RANK_METRIC}_sd", "trial"]
    if "state" not in trials.columns or RANK_METRIC not in trials.columns:
        return pd.DataFrame(columns=columns)
    ran = seeds_that_ran(trials)
    complete = ran[ran["state"] == "complete"]
    if complete.empty:
        return pd.DataFrame(columns=columns)
    key_all = config_keys(ran, params)
    ran = ran[key_all.isin(set(key_all[complete.index]))]  # a configuration whose every seed was pruned is not ranked
    key_all = key_all[ran.index]
    losses = seed_losses(ran)
    grouped = losses.groupby(key_all, sort=False)
    key = key_all[complete.index]
    distance = (losses[complete.index] - grouped.transform("mean")[complete.index]).abs()
    representative = distance.groupby(key, sort=False).idxmin()  # index label of each configuration's trial
    order = list(representative.index)
    table = complete.loc[representative.to_numpy(), [p for p in params if p in complete.columns]]
    table = table.map(to_plain).reset_index(drop=True)
    table["seeds"] = grouped.size()[order].to_numpy()
    table["pruned"] = (ran["state"] == "pruned").groupby(key_all, sort=False).sum()[order].to_numpy()
    table[RANK_METRIC] = grouped.mean()[order].to_numpy()
    table[f"{RANK_METRIC}_sd"] = grouped.std()[order].to_numpy()  # NaN for one seed
    table["trial"] = complete.loc[representative.to_numpy(), "number"].astype(int).to_numpy()
    busy = contended_mask(complete)
    for metric in (SAMPLES_PER_S, PEAK_MEM_BYTES, TEST_SKILL):
        if metric in complete.columns:
            values = pd.to_numeric(complete[metric], errors="coerce")
            values = values.where(~busy) if metric == SAMPLES_PER_S else values
            table[metric] = values.groupby(key, sort=False).median()[order].to_numpy()
    table = table.sort_values(RANK_METRIC, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table


def best_configuration(trials: pd.DataFrame, names: Iterable[str] = ()) -> dict[str, Any] | None:
    """THE best configuration of a study (rank 1 of `config_table`) with its trial: what the report
    recommends, `studies` lists, `predict` uses by default and the kept weights always include."""
    table = config_table(feasible_trials(mark(trials)), searched_params(trials, names))  # as the report ranks
    return None if table.empty else {str(k): v for k, v in table.iloc[0].items()}


def seeds_of(trials: pd.DataFrame, params: list[str], representatives: Iterable[int]) -> set[int]:
    """The completed trials (every seed) of the configurations the given representative trials stand for."""
    complete = trials[trials["state"] == "complete"]
    keys = config_keys(complete, params)
    numbers = complete["number"].astype(int)
    wanted = set(keys[numbers.isin(set(representatives))])
    return set(numbers[keys.isin(wanted)])


def seeds_that_ran(trials: pd.DataFrame) -> pd.DataFrame:
    """Completed trials with a best val loss and pruned trials with a last one: every seed that trained."""
    complete = (trials["state"] == "complete") & pd.to_numeric(trials[RANK_METRIC], errors="coerce").notna()
    pruned = (trials["state"] == "pruned") & seed_losses(trials).notna()
    return trials[complete | pruned]


def seed_losses(trials: pd.DataFrame) -> pd.Series:
    """Each trial's figure in the ranking: its best val loss, or a pruned trial's last val loss."""
    best = pd.to_numeric(trials[RANK_METRIC], errors="coerce")
    if PRUNED_METRIC not in trials.columns:
        return best.where(trials["state"] == "complete")
    last = pd.to_numeric(trials[PRUNED_METRIC], errors="coerce")
    return best.where(trials["state"] == "complete", last.where(trials["state"] == "pruned"))


def fewer_seeds_note(table: pd.DataFrame) -> str:
    """A warning when the first configuration had fewer seeds than a configuration it outranks."""
    if len(table) < 2:
        return ""
    first = table.iloc[0]
    most = int(table["seeds"].max())
    if int(first["seeds"]) >= most:
        return ""
    fuller = table[table["seeds"] == most].iloc[0]
    return (f"measured over {int(first['seeds'])} of the {most} seeds that configuration rank {int(fuller['rank'])} "
            "has: its mean is less certain; re-run it with more seeds (lstmexp run ... --repeats "
            f"{most}) before trusting the ranking")


def seeds_phrase(row: Any) -> str:
    """'over 3 seeds (1 pruned, at its last val loss)': how many seeds a configuration's mean is over."""
    count = int(row["seeds"])
    pruned = int(row.get("pruned", 0) or 0)
    counted = f" ({pruned} pruned, at {'its' if pruned == 1 else 'their'} last val loss)" if pruned else ""
    return f"over {count} {'seed' if count == 1 else 'seeds'}{counted}"


def mean_text(row: Any) -> str:
    """'0.03008 ± 0.002852 over 2 seeds': a configuration's mean best val loss and its seed-to-seed sd, 4
    significant figures; seeds that agree to every digit are said so, not shown as '± 0'."""
    sd = row.get(f"{RANK_METRIC}_sd")
    measured = sd is not None and not pd.isna(sd) and int(row.get("seeds", 1) or 1) > 1
    spread = f" ± {format_number(float(sd))}" if measured and sd > 0 else ""
    agree = " (they agree to every digit)" if measured and sd == 0 else ""
    return f"{format_number(float(row[RANK_METRIC]))}{spread} {seeds_phrase({'seeds': 1, **dict(row)})}{agree}"


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
    return (f"tie: the seed-to-seed spread (sd {format_number(spread)}) is wider than the gap to the runner-up "
            f"({format_number(gap)}); "
            "the top configurations are equally good within noise: "
            "run more seeds (-o train.repeats=3) to separate them")
