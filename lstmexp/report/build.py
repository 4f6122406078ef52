"""From a study's trials to the report's sections, as plain DataFrames and dicts (no formatting here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from lstmexp.report.claims import LR_PARAM, ClaimResult, evaluate_at_best_lr, evaluate_claims
from lstmexp.report.configs import config_table, searched_params
from lstmexp.report.feasible import INFEASIBLE, Feasibility, feasibility, feasible_trials, mark, unmet_reason
from lstmexp.report.noise import SPEED_METRICS, contended_mask, contention_banner, quiet, threads_used
from lstmexp.report.pareto import PARETO_FIGURES, pareto_front
from lstmexp.report.recommend import DEFAULT_WITHIN_PCT, Recommendation, observed_ranges, recommend
from lstmexp.text import printable
from lstmexp.vocabulary.attrs import DESIGN_ATTR, LR_COTUNED_ATTR
from lstmexp.vocabulary.names import (
    ACHIEVED_GFLOPS,
    ACTIVATION_MEM_EST_BYTES,
    CHUNK,
    CONTENDED,
    EPOCHS_RUN,
    EVAL_S_PER_EPOCH,
    FAILURE_REASON,
    FLOPS_PER_SAMPLE,
    GRAD_NORM_MEAN,
    HW_EFFICIENCY_PCT,
    ITERATIONS_PER_EPOCH,
    LSTM_STEPS,
    PARAM_COUNT,
    PEAK_MEM_BYTES,
    PEAK_MEM_RESERVED_BYTES,
    SAMPLES_PER_S,
    TEST_ACCURACY,
    TEST_MAE_UNITS,
    TEST_MSE,
    TEST_SKILL,
    TIME_STEPS_PER_S,
    TIME_TO_TARGET_S,
    TRAIN_S_PER_EPOCH,
    VAL_ACCURACY,
    VAL_LOSS_BEST,
    WALL_S,
)

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

# Trade-off columns: the metric and how it is summarised per value of a searched parameter.
TRADEOFF_METRICS = (
    SAMPLES_PER_S,
    TRAIN_S_PER_EPOCH,
    ITERATIONS_PER_EPOCH,
    PEAK_MEM_BYTES,
    VAL_LOSS_BEST,
    TEST_SKILL,
    GRAD_NORM_MEAN,
)
# Recorded only by some studies (hardware efficiency, time to a target loss, classification accuracy):
# a second trade-off table per parameter shows them when present.
OPTIONAL_TRADEOFF_METRICS = (
    ACHIEVED_GFLOPS, HW_EFFICIENCY_PCT, TIME_TO_TARGET_S, VAL_ACCURACY, TEST_ACCURACY,
)
# Figures a pruned trial measured validly (it ran fewer epochs, each one measured like any other).
# Everything else (losses, skill, best epoch) is compared over completed trials only.
COST_METRICS = frozenset({
    SAMPLES_PER_S, TIME_STEPS_PER_S, TRAIN_S_PER_EPOCH, EVAL_S_PER_EPOCH, ITERATIONS_PER_EPOCH,
    PEAK_MEM_BYTES, PEAK_MEM_RESERVED_BYTES, ACTIVATION_MEM_EST_BYTES, PARAM_COUNT,
    ACHIEVED_GFLOPS, HW_EFFICIENCY_PCT, FLOPS_PER_SAMPLE,
})
FINISHED = ("complete", "pruned")
TRIAL_FIGURES = (
    VAL_LOSS_BEST,
    TEST_MSE,
    TEST_MAE_UNITS,
    TEST_SKILL,
    SAMPLES_PER_S,
    TRAIN_S_PER_EPOCH,
    ITERATIONS_PER_EPOCH,
    PEAK_MEM_BYTES,
    PARAM_COUNT,
    CONTENDED,
    INFEASIBLE,
    FAILURE_REASON,
)
# The batch_size × time_step matrices: figure -> completed only?
MATRIX_METRICS = {VAL_LOSS_BEST: True, SAMPLES_PER_S: False, PEAK_MEM_BYTES: False}
SPREAD_SUFFIX = "_iqr"
TRADEOFF_CAPTION = (
    "median and interquartile range (iqr) per value; speed and memory over completed and pruned trials "
    "(both measured them; speed without contended trials), loss, skill and gradient norm over completed trials only"
)


@dataclass
class Report:
    study: str
    storage: str
    environment: dict[str, Any]
    trials: pd.DataFrame
    best: pd.DataFrame
    tradeoffs: dict[str, pd.DataFrame] = field(default_factory=dict)
    extra_tradeoffs: dict[str, pd.DataFrame] = field(default_factory=dict)  # OPTIONAL_TRADEOFF_METRICS
    spec: dict[str, Any] = field(default_factory=dict)
    compute: dict[str, float] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    matrices: dict[str, pd.DataFrame] = field(default_factory=dict)
    pareto: pd.DataFrame = field(default_factory=pd.DataFrame)
    importance: pd.DataFrame = field(default_factory=pd.DataFrame)
    claims: list[ClaimResult] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    curves: dict[int, dict[str, list[float]]] = field(default_factory=dict)
    all_trials: pd.DataFrame = field(default_factory=pd.DataFrame)  # every recorded column, for plots
    params: list[str] = field(default_factory=list)  # every searched parameter, report order
    configs: pd.DataFrame = field(default_factory=pd.DataFrame)  # configurations ranked by mean over seeds
    study_attrs: dict[str, Any] = field(default_factory=dict)
    claims_best_lr: list[ClaimResult] = field(default_factory=list)  # C5-C9 at each batch size's best lr
    feasibility: Feasibility = field(default_factory=lambda: Feasibility({}))

    @property
    def contended(self) -> int:
        return int(contended_mask(self.all_trials).sum()) if not self.all_trials.empty else 0

    @property
    def banner(self) -> str:
        return contention_banner(self.all_trials)

    @property
    def threads(self) -> str:
        return threads_used(self.all_trials)

    @property
    def states(self) -> dict[str, int]:
        if self.trials.empty:
            return {}
        return {str(state): int(n) for state, n in self.trials["state"].value_counts().items()}


def build_report(
    study_name: str,
    storage: str,
    environment: dict[str, Any],
    trials: pd.DataFrame,
    *,
    spec: dict[str, Any] | None = None,
    curves: dict[int, dict[str, list[float]]] | None = None,
    distributions: dict[str, BaseDistribution] | None = None,
    within_pct: float = DEFAULT_WITHIN_PCT,
    max_memory: int | None = None,
    importance: bool = True,
    ranges: dict[str, tuple[Any, Any]] | None = None,
    study_attrs: dict[str, Any] | None = None,
    distribution_json: dict[str, dict[str, Any]] | None = None,
) -> Report:
    """`distributions` (Optuna's objects) or `distribution_json` (as stored, read without Optuna) name the searched
    parameters; picks, the front, the best trials and the configurations use feasible trials only (`feasible.py`)."""
    params = searched_params(trials, (distributions or distribution_json or ranges or {}).keys())
    trials, attrs = mark(trials), study_attrs or {}
    feasible, allowed = feasible_trials(trials), feasibility(trials, spec or {})
    best, configs = best_trials(feasible, params), config_table(feasible, params)
    picks = recommend(feasible, spec or {}, within_pct, max_memory, params,
                      ranges if ranges is not None else observed_ranges(trials, params), configs)
    return Report(
        study=printable(study_name),
        storage=storage,
        environment=environment,
        trials=trial_table(trials, params),
        best=best,
        tradeoffs={p: tradeoff_table(trials, p) for p in params},
        extra_tradeoffs=extra_tradeoff_tables(trials, params),
        spec=spec or {},
        compute=compute_used(trials),
        failures=failure_counts(trials),
        matrices=matrices(trials),
        pareto=trial_table(pareto_front(quiet(feasible)[0]), params),
        importance=importances(trials, distributions, distribution_json, params) if importance else pd.DataFrame(),
        claims=claims_of(trials, params, attrs),
        recommendations=explained(picks, unmet_reason(allowed)),
        curves={n: c for n, c in (curves or {}).items() if n in set(best["number"])},
        all_trials=trials,
        params=params,
        configs=configs,
        study_attrs=attrs,
        claims_best_lr=best_lr_claims(trials, params, attrs),
        feasibility=allowed,
    )


def importances(trials: pd.DataFrame, distributions: dict[str, BaseDistribution] | None,
                distribution_json: dict[str, dict[str, Any]] | None, params: list[str]) -> pd.DataFrame:
    """Optuna is imported only here, to compute importance."""
    from lstmexp.report.importance import param_importances

    return param_importances(trials, distributions or as_objects(distribution_json or {}), params)


def best_lr_claims(trials: pd.DataFrame, params: list[str], attrs: dict[str, Any]) -> list[ClaimResult]:
    """C5-C9 at each batch size's best lr, for lr co-tuned studies (a claims study's arms answer them itself)."""
    if attrs.get(LR_COTUNED_ATTR) and LR_PARAM in params and DESIGN_ATTR not in attrs:
        return evaluate_at_best_lr(trials, params)
    return []


def explained(picks: list[Recommendation], reason: str) -> list[Recommendation]:
    """Empty picks say why (constraints left nothing) instead of 'no completed trial'."""
    for pick in picks:
        if reason and pick.config is None:
            pick.why = reason
    return picks


def claims_of(trials: pd.DataFrame, params: list[str], attrs: dict[str, Any]) -> list[ClaimResult]:
    """A claims study's C1..C14, each on its own arm; any other study's C5..C14 from all its trials."""
    if DESIGN_ATTR in attrs:
        from lstmexp.report.claims_table import design_claims

        return design_claims(trials, attrs[DESIGN_ATTR])
    return evaluate_claims(trials, params)


def as_objects(distribution_json: dict[str, dict[str, Any]]) -> dict[str, BaseDistribution]:
    from lstmexp.report.load import as_objects as decode

    return decode(distribution_json) if distribution_json else {}


def trial_table(trials: pd.DataFrame, params: list[str] | None = None) -> pd.DataFrame:
    wanted = ["number", "state", *(params if params is not None else searched_params(trials)), *TRIAL_FIGURES]
    return trials[[c for c in dict.fromkeys(wanted) if c in trials.columns]]


def best_trials(trials: pd.DataFrame, params: list[str], count: int = 5) -> pd.DataFrame:
    if VAL_LOSS_BEST not in trials.columns:
        return trials.head(0)
    complete = trials[trials["state"] == "complete"]
    return trial_table(complete.nsmallest(count, VAL_LOSS_BEST), params)


def population(trials: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The trials whose `metric` is comparable: finished trials for costs, completed trials otherwise."""
    states = FINISHED if metric in COST_METRICS else ("complete",)
    return trials[trials["state"].isin(states)]


def extra_tradeoff_tables(trials: pd.DataFrame, params: list[str]) -> dict[str, pd.DataFrame]:
    if not any(m in trials.columns for m in OPTIONAL_TRADEOFF_METRICS):
        return {}
    return {p: tradeoff_table(trials, p, OPTIONAL_TRADEOFF_METRICS) for p in params}


def tradeoff_table(trials: pd.DataFrame, param: str, wanted: tuple[str, ...] = TRADEOFF_METRICS) -> pd.DataFrame:
    """Per value of `param`: trial counts, and the median and interquartile range of each figure.

    Costs (speed, memory) are summarised over completed and pruned trials, losses and skill over
    completed trials only (see COST_METRICS).
    """
    metrics = [m for m in wanted if m in trials.columns]
    finished = trials[trials["state"].isin(FINISHED)] if "state" in trials.columns else trials.iloc[0:0]
    if finished.empty or not metrics:
        return pd.DataFrame(columns=[param, "trials", *metrics])
    table = finished.groupby(param).size().rename("trials").to_frame()
    is_complete = finished["state"] == "complete"
    table["complete"] = is_complete.groupby(finished[param]).sum()
    if param == "time_step" and is_chunked(finished):
        # which trials fed the window in chunks, and how many recurrent steps the LSTM ran
        for column, label in ((CHUNK, "chunk"), (LSTM_STEPS, "T/S steps")):
            table[label] = finished.groupby(param)[column].agg(distinct_values)
    busy = contended_mask(finished)
    if busy.any():
        table["contended trials"] = busy.groupby(finished[param]).sum()
    for metric in metrics:
        values = pd.to_numeric(finished[metric], errors="coerce")
        if metric not in COST_METRICS:
            values = values.where(is_complete)  # NaN is skipped by median and quantile
        if metric in SPEED_METRICS:  # a busy machine's speed is left out (the count is shown)
            values = values.where(~contended_mask(finished, metric))
        grouped = values.groupby(finished[param])
        table[metric] = grouped.median()
        spread = grouped.quantile(0.75) - grouped.quantile(0.25)
        table[metric + SPREAD_SUFFIX] = spread.where(grouped.count() >= 2)  # one trial has no spread
    return table.reset_index().sort_values(param).reset_index(drop=True)


def matrices(trials: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """batch_size (rows) × time_step (columns): the median of each figure over its comparable trials.

    When some trials were chunked, a column is one time_step and chunk ("336 (S=24: 14 steps)"), so
    chunked and per-step trials are never pooled in one cell.
    """
    if not {"batch_size", "time_step", "state"} <= set(trials.columns):
        return {}
    chunked = is_chunked(trials)
    tables = {}
    for metric in MATRIX_METRICS:
        if metric in trials.columns:
            data = population(trials, metric).dropna(subset=[metric])
            data = quiet(data, metric)[0] if metric in SPEED_METRICS else data
            if data.empty:
                continue
            if chunked:
                data = data.assign(window=window_labels(data))
            table = data.pivot_table(
                index="batch_size", columns="window" if chunked else "time_step", values=metric, aggfunc="median"
            )
            if chunked:  # in window order (time_step, then chunk), not the labels' alphabetical order
                order = data.sort_values(["time_step", CHUNK])["window"].drop_duplicates()
                table = table[[label for label in order if label in table.columns]]
            tables[metric] = table
    return tables


def is_chunked(trials: pd.DataFrame) -> bool:
    """Did any trial feed its window in chunks (chunk > 1, recorded per trial)?"""
    if CHUNK not in trials.columns or LSTM_STEPS not in trials.columns:
        return False
    return bool((pd.to_numeric(trials[CHUNK], errors="coerce") > 1).any())


def window_labels(trials: pd.DataFrame) -> pd.Series:
    """'336 (S=24: 14 steps)' for a chunked trial, '336 (per step)' for the others."""
    def label(row: pd.Series) -> str:
        time_step, chunk = int(row["time_step"]), int(row[CHUNK]) if pd.notna(row[CHUNK]) else 1
        return f"{time_step} (S={chunk}: {time_step // chunk} steps)" if chunk > 1 else f"{time_step} (per step)"

    return trials.apply(label, axis=1)


def distinct_values(values: pd.Series) -> str:
    """'24, 48': the distinct values of a column, in order (the chunks a time_step was run with)."""
    numbers = pd.to_numeric(values, errors="coerce").dropna().astype(int)
    return ", ".join(str(v) for v in sorted(set(numbers)))


def compute_used(trials: pd.DataFrame) -> dict[str, float]:
    used: dict[str, float] = {"trials": float(len(trials))}
    for column, name in (("duration_s", "trial_seconds"), (EPOCHS_RUN, "epochs"), (WALL_S, "measured_seconds")):
        if column in trials.columns:
            used[name] = float(pd.to_numeric(trials[column], errors="coerce").sum())
    return used


def failure_counts(trials: pd.DataFrame) -> dict[str, int]:
    if FAILURE_REASON not in trials.columns:
        return {}
    return {str(k): int(v) for k, v in trials[FAILURE_REASON].dropna().value_counts().items()}


__all__ = ["PARETO_FIGURES", "Report", "build_report"]
