"""Recommended configurations: most accurate, fastest within X% of the best loss, best under a memory budget.

Configurations are ranked by their mean over seeds (`configs.config_table`), never by a lucky
seed. Speed picks use uncontended trials only. Each pick comes with the `lstmexp run` command that
reproduces the figure of one of its trials exactly: the trial's own `reproduce` attribute when the
search recorded one, else built from its searched values, the trial's seed and every field of the
study's stored spec that differs from the built-in defaults. Warnings say what a user should do
next: widen a range whose edge won, fix a model worse than the naive forecast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lstmexp.report.configs import (
    RANK_METRIC,
    config_table,
    fewer_seeds_note,
    mean_text,
    searched_params,
    seeds_of,
    tie_note,
)
from lstmexp.report.feasible import feasible_trials, mark
from lstmexp.report.noise import format_number, left_out_note, quiet
from lstmexp.trial.reproduce import override_key, run_command
from lstmexp.units import MIB
from lstmexp.vocabulary.choices import SEARCHED_PARAMS
from lstmexp.vocabulary.names import PEAK_MEM_BYTES, REPRODUCE, SAMPLES_PER_S, TEST_SKILL, TRAIN_SEED

REPRODUCED_SECTIONS = ("data", "model", "train")
DEFAULT_WITHIN_PCT = 10.0
NEGATIVE_SKILL_FIX = ("per-window normalisation (-o data.normalization=\"last\" or \"revin\", or search it), "
                      "or a time_step long enough to cover the series' season")


@dataclass
class Recommendation:
    goal: str
    trial: dict[str, Any] | None  # the configuration's representative trial, None when nothing qualifies
    command: str
    why: str
    warnings: list[str] = field(default_factory=list)
    config: dict[str, Any] | None = None  # the configuration's row (mean over seeds)


@dataclass(frozen=True)
class Context:
    """What every pick needs: the trials, the searched parameters and their searched ranges."""

    trials: pd.DataFrame
    params: list[str]
    ranges: dict[str, tuple[Any, Any]]
    spec: dict[str, Any]


def recommend(
    trials: pd.DataFrame, spec: dict[str, Any], within_pct: float = DEFAULT_WITHIN_PCT,
    max_memory: int | None = None, params: list[str] | None = None,
    ranges: dict[str, tuple[Any, Any]] | None = None, table: pd.DataFrame | None = None,
) -> list[Recommendation]:
    """`table`: the configurations (`configs.config_table`), when the caller already has them."""
    names = params if params is not None else [p for p in SEARCHED_PARAMS if p in trials.columns]
    context = Context(trials, names, ranges if ranges is not None else observed_ranges(trials, names), spec)
    table = config_table(trials, names) if table is None else table
    accurate = most_accurate(table)
    picks = [accurate, fastest_within(context, table, within_pct, accurate)]
    if max_memory is not None:
        picks.append(best_under_memory(table, max_memory))
    return [finish(pick, context) for pick in picks]


def trials_to_keep(trials: pd.DataFrame, names: list[str], best_k: int) -> set[int]:
    """The trials whose weights are kept: every seed of the best `best_k` configurations and of the
    default recommendations, ranked exactly as the report ranks them, so a recommended trial has weights."""
    if best_k <= 0:
        return set()
    params = searched_params(trials, names)
    trials = feasible_trials(mark(trials))  # the report recommends feasible trials only: keep those
    table = config_table(trials, params)
    if table.empty:
        return set()
    context = Context(trials, params, {}, {})
    picks = [most_accurate(table), fastest_within(context, table, DEFAULT_WITHIN_PCT, most_accurate(table))]
    representatives = {int(t) for t in table["trial"].head(best_k)}
    representatives |= {int(p.config["trial"]) for p in picks if p.config is not None}
    return seeds_of(trials, params, representatives)


def finish(pick: Recommendation, context: Context) -> Recommendation:
    """The representative trial's row, its command and the warnings, for a picked configuration."""
    if pick.config is None:
        return pick
    trials = context.trials
    pick.trial = trials[trials["number"] == pick.config["trial"]].iloc[0].to_dict()
    pick.command = reproduce_command(pick.trial, context.spec, context.params)
    pick.warnings = [*pick.warnings, *edge_warnings(pick.config, context), *skill_warnings(pick.config)]
    return pick


def as_dict(row: pd.Series) -> dict[str, Any]:
    return {str(k): v for k, v in row.items()}


def most_accurate(table: pd.DataFrame) -> Recommendation:
    goal = "most accurate"
    if table.empty:
        return Recommendation(goal, None, "", "no completed trial")
    row = table.iloc[0]
    why = f"lowest mean best val loss ({mean_text(row)}) of {len(table)} configurations"
    notes = [note for note in (tie_note(table), fewer_seeds_note(table)) if note]
    return Recommendation(goal, None, "", why, notes, as_dict(row))


def fastest_within(context: Context, table: pd.DataFrame, within_pct: float,
                   accurate: Recommendation) -> Recommendation:
    goal = f"fastest within {within_pct:g}% of the best loss"
    trials = context.trials
    left_out = quiet(trials[trials["state"] == "complete"])[1] if "state" in trials.columns else 0
    note = f" ({left_out_note(left_out)})" if left_out else ""
    if table.empty or SAMPLES_PER_S not in table.columns:
        return Recommendation(goal, None, "", "no completed configuration with a throughput" + note)
    limit = table[RANK_METRIC].min() * (1 + within_pct / 100)
    close = table[table[RANK_METRIC] <= limit].dropna(subset=[SAMPLES_PER_S])
    if close.empty:
        return Recommendation(goal, None, "", "no uncontended configuration with a throughput" + note)
    row = close.loc[close[SAMPLES_PER_S].idxmax()]
    configurations = "configuration" if len(close) == 1 else "configurations"
    why = (f"highest median samples/s ({format_number(row[SAMPLES_PER_S])}) among {len(close)} {configurations} "
           f"with mean best val loss ≤ {format_number(limit)}{note}")
    warnings = []
    if accurate.config is not None and row["trial"] == accurate.config["trial"]:
        warnings.append("same configuration as the most accurate: no faster configuration comes within "
                        f"{within_pct:g}% of its loss, so this pick adds nothing (try a larger --within)")
    return Recommendation(goal, None, "", why, warnings, as_dict(row))


def best_under_memory(table: pd.DataFrame, budget: int) -> Recommendation:
    goal = f"most accurate under {budget / MIB:,.0f} MiB peak memory"
    if table.empty or PEAK_MEM_BYTES not in table.columns:
        return Recommendation(goal, None, "", "no completed configuration with a peak memory")
    fits = table[pd.to_numeric(table[PEAK_MEM_BYTES], errors="coerce") <= budget]
    if fits.empty:
        smallest = pd.to_numeric(table[PEAK_MEM_BYTES], errors="coerce").min()
        return Recommendation(goal, None, "",
                              f"no configuration fits; the smallest peak was {format_number(smallest / MIB)} MiB")
    row = fits.iloc[0]  # the table is ranked best first
    why = f"lowest mean best val loss ({mean_text(row)}) among {len(fits)} of {len(table)} configurations that fit"
    return Recommendation(goal, None, "", why, [], as_dict(row))


def observed_ranges(trials: pd.DataFrame, params: list[str]) -> dict[str, tuple[Any, Any]]:
    """Without the study's distributions: the smallest and largest value tried of each numeric parameter."""
    ranges = {}
    for param in params:
        values = pd.to_numeric(trials[param], errors="coerce").dropna()
        if values.nunique() >= 2:
            ranges[param] = (values.min(), values.max())
    return ranges


def edge_warnings(config: dict[str, Any], context: Context) -> list[str]:
    """One 'widen it' naming every numeric parameter whose chosen value is the end of its searched range."""
    edges = []
    for param, (low, high) in context.ranges.items():
        value = config.get(param)
        if not isinstance(value, int | float) or low == high:
            continue
        side = "smallest" if value <= low else "largest" if value >= high else ""
        if side:
            edges.append((f"{param}={format_number(value).replace(',', '')} is the {side} value searched",
                          f"search.space.{param}"))
    if not edges:
        return []
    return ["; ".join(e for e, _ in edges) + f": widen the range ({', '.join(k for _, k in edges)}) to see whether "
            "the trend goes on"]


def skill_warnings(config: dict[str, Any]) -> list[str]:
    skill = config.get(TEST_SKILL)
    if skill is None or pd.isna(skill) or skill >= 0:
        return []
    return [f"negative skill ({format_number(skill)}): worse than the naive last-value forecast; likely fix: "
            + NEGATIVE_SKILL_FIX]


def reproduce_command(row: dict[str, Any], spec: dict[str, Any], params: list[str] | None = None) -> str:
    """The exact `lstmexp run` of this trial, seed included (the trial's `reproduce` attribute when present)."""
    recorded = row.get(REPRODUCE)
    if isinstance(recorded, str) and recorded:
        return recorded
    sizes = {p: row[p] for p in SEARCHED_PARAMS if row.get(p) is not None and not pd.isna(row.get(p))}
    overrides = dict(spec_overrides(spec))
    for param in params or []:
        if param not in SEARCHED_PARAMS and row.get(param) is not None:
            overrides[override_key(param)] = plain(row[param])
    overrides["train.seed"] = trial_seed(row, spec)
    return run_command("lstmexp run", sizes, overrides)


def plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return int(value) if isinstance(value, float) and value.is_integer() else value


def trial_seed(row: dict[str, Any], spec: dict[str, Any]) -> int:
    """The seed the trial trained with: `train_seed` (repeats), else the spec's train.seed (default 0)."""
    seed = row.get(TRAIN_SEED)
    if seed is not None and not pd.isna(seed):
        return int(seed)
    return int(spec.get("train", {}).get("seed", 0))


def spec_overrides(spec: dict[str, Any]) -> list[tuple[str, Any]]:
    """(dotted key, value) for every leaf of the stored spec's data/model/train that differs from the defaults."""
    from lstmexp.spec import ExperimentSpec

    defaults = flatten({k: v for k, v in ExperimentSpec().to_dict().items() if k in REPRODUCED_SECTIONS})
    stored = flatten({k: v for k, v in spec.items() if k in REPRODUCED_SECTIONS})
    return [(key, value) for key, value in stored.items()
            if key != "train.seed" and (key not in defaults or defaults[key] != value)]


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
