"""Which trials respect the study's constraints, and what every report format says about the others.

A trial is feasible when every constraint value it recorded is <= 0 (Optuna's rule; lstmexp records
`peak - max_memory` and `min_samples_per_s - speed`, see search/objective.py). The loaders put each
value in a `constraint:NAME` column. Recommendations, the Pareto front, the best trials and the
configurations' ranking come from feasible trials only, so no pick and no reproduce command names a
configuration the user ruled out. Trade-offs, matrices and claims keep every trial: an infeasible
trial's figures are still measurements. When no completed trial is feasible, the report says so and
names the least relaxation (`-o search.constraints.NAME=VALUE`) that would admit one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lstmexp.units import format_bytes
from lstmexp.vocabulary.names import PEAK_MEM_BYTES, SAMPLES_PER_S, VAL_LOSS_BEST

CONSTRAINT_PREFIX = "constraint:"  # frame column per recorded constraint: its value (feasible when <= 0)
INFEASIBLE = "infeasible"  # frame column: the constraints a trial broke, comma-separated ("" when feasible)
SPEC_KEY = "search.constraints."


@dataclass(frozen=True)
class Kind:
    """How lstmexp's own constraint derives from a figure: value = sign * (figure - limit)."""

    figure: str  # the trial's column the constraint is about
    sign: int  # +1: a maximum (figure - limit), -1: a minimum (limit - figure)
    bound: str  # "≤" or "≥"


KINDS = {"max_memory": Kind(PEAK_MEM_BYTES, 1, "≤"), "min_samples_per_s": Kind(SAMPLES_PER_S, -1, "≥")}


@dataclass
class Feasibility:
    limits: dict[str, Any]  # constraint name -> the spec's limit (None when the stored spec does not say)
    measured: int = 0  # trials that recorded at least one constraint value
    infeasible: list[int] = field(default_factory=list)  # trial numbers
    by_constraint: dict[str, int] = field(default_factory=dict)  # name -> trials that broke it
    complete: int = 0  # completed trials with a val loss (what a recommendation needs)
    feasible_complete: int = 0
    relax: dict[str, str] = field(default_factory=dict)  # spec key -> value admitting `admits`, when none is feasible
    admits: int | None = None  # the completed trial the least relaxation admits

    @property
    def checked(self) -> bool:
        return bool(self.limits) or self.measured > 0

    @property
    def none_feasible(self) -> bool:
        return self.complete > 0 and self.feasible_complete == 0


def constraint_columns(values: dict[str, float]) -> dict[str, float]:
    return {CONSTRAINT_PREFIX + name: value for name, value in values.items()}


def constraint_names(trials: pd.DataFrame) -> list[str]:
    return [str(c).removeprefix(CONSTRAINT_PREFIX) for c in trials.columns if str(c).startswith(CONSTRAINT_PREFIX)]


def broken(trials: pd.DataFrame) -> pd.Series:
    """Per trial, the constraints it broke ('max_memory, min_samples_per_s'), '' when feasible."""
    names = constraint_names(trials)
    if trials.empty or not names:
        return pd.Series("", index=trials.index, dtype=object)
    over = pd.DataFrame({n: pd.to_numeric(trials[CONSTRAINT_PREFIX + n], errors="coerce") > 0 for n in names},
                        index=trials.index)  # NaN (not recorded) compares False: feasible, as in Optuna
    return over.apply(lambda hits: ", ".join(n for n, hit in hits.items() if hit), axis=1).astype(object)


def mark(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials with the INFEASIBLE column, when any trial recorded a constraint."""
    return trials.assign(**{INFEASIBLE: broken(trials)}) if constraint_names(trials) else trials


def feasible_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials a recommendation may name (without the INFEASIBLE column: it is empty there)."""
    if INFEASIBLE not in trials.columns:
        return trials
    return trials[trials[INFEASIBLE] == ""].drop(columns=INFEASIBLE)


def spec_limits(spec: dict[str, Any]) -> dict[str, Any]:
    stated = spec.get("search", {}).get("constraints", {}) if isinstance(spec.get("search"), dict) else {}
    return {name: limit for name, limit in (stated or {}).items() if limit is not None}


def feasibility(trials: pd.DataFrame, spec: dict[str, Any]) -> Feasibility:
    """Counts over the marked trials (`mark`), and the least relaxation when no completed trial is feasible."""
    names = constraint_names(trials)
    limits = {**dict.fromkeys(names), **spec_limits(spec)}
    if INFEASIBLE not in trials.columns:
        return Feasibility(limits)
    values = trials[[CONSTRAINT_PREFIX + n for n in names]].apply(pd.to_numeric, errors="coerce")
    bad = trials[INFEASIBLE] != ""
    result = Feasibility(
        limits, measured=int(values.notna().any(axis=1).sum()),
        infeasible=[int(n) for n in trials.loc[bad, "number"]],
        by_constraint={n: int((values[CONSTRAINT_PREFIX + n] > 0).sum()) for n in names
                       if (values[CONSTRAINT_PREFIX + n] > 0).any()},
    )
    candidates = recommendable(trials)
    result.complete, result.feasible_complete = len(candidates), int((candidates[INFEASIBLE] == "").sum())
    if result.none_feasible:
        result.admits, result.relax = least_relaxation(candidates, limits)
    return result


def recommendable(trials: pd.DataFrame) -> pd.DataFrame:
    if "state" not in trials.columns or VAL_LOSS_BEST not in trials.columns:
        return trials.iloc[0:0]
    return trials[(trials["state"] == "complete") & trials[VAL_LOSS_BEST].notna()]


def least_relaxation(candidates: pd.DataFrame, limits: dict[str, Any]) -> tuple[int | None, dict[str, str]]:
    """The completed trial needing the fewest, then the smallest, relaxations; and each relaxed limit."""
    best: tuple[tuple[int, float, int], dict[str, str]] | None = None
    for _, row in candidates.iterrows():
        names = [n for n in row[INFEASIBLE].split(", ") if n]
        excess = sum(float(row[CONSTRAINT_PREFIX + n]) / abs(limits[n] or 1) for n in names)
        key = (len(names), excess, int(row["number"]))
        if best is None or key < best[0]:
            best = key, {SPEC_KEY + n: relaxed(n, row, limits[n]) for n in names}
    return (None, {}) if best is None else (best[0][2], best[1])


def relaxed(name: str, row: pd.Series, limit: Any) -> str:
    """The limit that just admits this trial, as the user would type it ('' when not lstmexp's constraint)."""
    kind = KINDS.get(name)
    if kind is None:
        return ""
    value = float(row[CONSTRAINT_PREFIX + name])
    figure = limit + kind.sign * value if limit is not None else row.get(kind.figure)
    if figure is None or pd.isna(figure) or figure <= 0:
        return ""
    if name == "max_memory":
        return f"{math.ceil(figure / 1024)}KiB"
    return f"{math.floor(figure)}" if figure >= 1 else f"{math.floor(figure * 1000) / 1000:g}"


def limit_text(name: str, limit: Any) -> str:
    kind = KINDS.get(name)
    if kind is None or limit is None:
        return f"{SPEC_KEY}{name}" if kind else name
    shown = format_bytes(limit) if name == "max_memory" else f"{limit:,g} samples/s"
    return f"{SPEC_KEY}{name} {kind.bound} {shown}"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def feasibility_lines(result: Feasibility) -> list[str]:
    """What every format prints about constraints: counts by constraint, and plainly when none is feasible."""
    if not result.checked:
        return []
    broke = "; ".join(f"{limit_text(n, result.limits.get(n))}: {plural(c, 'trial')}"
                      for n, c in result.by_constraint.items())
    stated = ", ".join(limit_text(n, result.limits[n]) for n in result.limits)
    if not result.infeasible:
        return [f"constraints ({stated}): every trial that measured them is feasible "
                f"({plural(result.measured, 'trial')}, 0 infeasible)"]
    lines = [f"constraints: {plural(len(result.infeasible), 'trial')} infeasible ({broke}); recommendations, "
             "the Pareto front, the best trials and the rankings use feasible trials only"]
    if result.none_feasible:
        lines.append(f"no trial is feasible: all {plural(result.complete, 'completed trial')} broke a constraint, "
                     "so nothing is recommended")
        lines.append(relax_line(result))
    return lines


def relax_line(result: Feasibility) -> str:
    typed = [f"-o {key}={value}" for key, value in result.relax.items() if value]
    unnamed = [key for key, value in result.relax.items() if not value]
    if not typed:
        return f"to get a recommendation, relax or leave out {', '.join(unnamed)} and search again (a new --study)"
    admits = f" (the least relaxation that admits a completed trial: trial {result.admits})"
    rest = f", and relax {', '.join(unnamed)}" if unnamed else ""
    return f"to get a recommendation, search again (a new --study) with {' '.join(typed)}{rest}{admits}, " \
           "or leave the constraint out"


def feasibility_document(result: Feasibility) -> dict[str, Any]:
    """The JSON report's `feasibility` section."""
    return {
        "constraints": {name: limit for name, limit in result.limits.items()},
        "trials_with_constraints": result.measured,
        "infeasible": len(result.infeasible),
        "infeasible_trials": result.infeasible,
        "by_constraint": result.by_constraint,
        "completed": result.complete,
        "feasible_completed": result.feasible_complete,
        "none_feasible": result.none_feasible,
        "relax": {key: value for key, value in result.relax.items() if value},
        "relax_admits_trial": result.admits,
        "lines": feasibility_lines(result),
    }


def unmet_reason(result: Feasibility) -> str:
    """Why a pick is empty when constraints, not the lack of trials, left nothing to pick."""
    return "no feasible configuration: every completed trial broke a constraint" if result.none_feasible else ""
