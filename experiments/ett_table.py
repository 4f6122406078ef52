"""The ETT benchmark tables (univariate S, multivariate M): each horizon's study, its val-selected trial's
test MSE/MAE, with the published figures beside it only where they were published for that data file.

The trial is chosen by val loss only (Optuna's best trial of a val_loss study); the test figures are
read, never optimised, and cover every test window (lstmexp drops no last batch). Which file, mode and
horizon a study ran on is read from the spec the study stored, not from its name: an ETTh2 run is never
set beside ETTh1's published figures. Usage (after make exp-ett-univariate / exp-ett-multivariate):
    python experiments/ett_table.py --mode S --storage sqlite:///results/ett.db [--horizons 96 192 336 720]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import PurePath
from typing import Any

import optuna

from lstmexp.trial.record import trial_figures

# Published test MSE on the scaled values, by the data file they were published for (its name without
# .csv), mode and method. Sources (docs/results.md says which dropped the last test batch):
#   ETTh1 S, NLinear/DLinear/FEDformer: the DLinear paper's univariate table (input 96), as in ../shared/data/README.md;
#   ETTh1 M, DLinear: the DLinear paper (input 336), as in ../shared/data/README.md;
#   ETTh1 M, FITS and SegRNN: their papers' tables (SegRNN gives 96-336 here).
# No other ETT file's figures are cited in the documents, so other files' runs are shown without any.
PUBLISHED: dict[str, dict[str, dict[str, dict[int, float]]]] = {
    "ETTh1": {
        "S": {
            "NLinear": {96: 0.053, 192: 0.069, 336: 0.081, 720: 0.080},
            "DLinear": {96: 0.056, 192: 0.071, 336: 0.098, 720: 0.189},
            "FEDformer": {96: 0.079, 192: 0.104, 336: 0.119, 720: 0.142},
        },
        "M": {
            "DLinear": {96: 0.375, 192: 0.405, 336: 0.439, 720: 0.472},
            "FITS": {96: 0.372, 192: 0.404, 336: 0.427, 720: 0.424},
            "SegRNN": {96: 0.351, 192: 0.392, 336: 0.423},
        },
    },
}
MODES = ("S", "M")
# The figure each horizon must reach: NLinear's in mode S, DLinear's in mode M.
GOAL = {"S": "NLinear", "M": "DLinear"}
PREFIX = {"S": "ett_s_", "M": "ett_m_"}
SPEC_ATTR = "lstmexp_spec"  # where lstmexp stores a study's whole spec


def methods(mode: str) -> list[str]:
    """The published methods of `mode` over every data file, in order: the table's columns."""
    return list(dict.fromkeys(m for tables in PUBLISHED.values() for m in tables.get(mode, {})))


def ran_on(study: optuna.Study) -> tuple[str, str, int | None]:
    """The data file's name (without .csv), mode and horizon of the spec the study stored."""
    data: dict[str, Any] = study.user_attrs.get(SPEC_ATTR, {}).get("data", {})
    name = PurePath(str(data.get("path", "unknown"))).stem
    return name, str(data.get("mode", "")), data.get("horizon")


def published_cells(published: dict[str, dict[int, float]], mode: str, horizon: int, mse: float) -> list[str]:
    """The published MSE of each method, then the gap to the goal and whether it was met; blanks without any."""
    cells = [f"{published[m][horizon]:.3f}" if horizon in published.get(m, {}) else "" for m in methods(mode)]
    goal = published.get(GOAL[mode], {}).get(horizon)
    if goal is None:
        return [*cells, "", "no published figure"]
    return [*cells, f"{(mse - goal) / goal:+.1%}", "met" if mse <= goal else "missed"]


def load_cells(figures: list[dict[str, Any]]) -> str:
    """The 1-minute load average the trials recorded: median (range)."""
    loads = sorted(float(f["load_avg_1m"]) for f in figures if f.get("load_avg_1m") is not None)
    return f"{loads[len(loads) // 2]:.1f} ({loads[0]:.1f}-{loads[-1]:.1f})" if loads else ""


def horizon_row(storage: optuna.storages.BaseStorage | str, horizon: int, mode: str, prefix: str) -> list[str]:
    study = optuna.load_study(study_name=f"{prefix}{horizon}", storage=storage)
    name, ran_mode, ran_horizon = ran_on(study)
    if (ran_mode, ran_horizon) != (mode, horizon):
        return [str(horizon), name, f"study {study.study_name} ran mode {ran_mode} at horizon {ran_horizon}, "
                f"not mode {mode} at {horizon}: not comparable"]
    trials = study.get_trials(deepcopy=False)
    figures = [trial_figures(t.user_attrs) for t in trials]  # lstmexp's reader of a trial's record
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    cpu_min = sum(float(f.get("cpu_s") or 0) for f in figures) / 60
    best = study.best_trial  # lowest val loss: selection by validation only
    chosen = trial_figures(best.user_attrs)
    mse, mae = chosen["test_mse"], chosen["test_mae"]
    config = json.loads(chosen["config"])
    config.setdefault("model.chunk", chosen.get("chunk"))
    return [
        str(horizon), name, f"{len(done)}/{len(trials)}", f"{cpu_min:.1f}", load_cells(figures), f"{best.value:.4f}",
        f"**{mse:.4f}**", f"{mae:.4f}", *published_cells(PUBLISHED.get(name, {}).get(mode, {}), mode, horizon, mse),
        f"#{best.number}: {config}, {chosen.get('lstm_steps')} LSTM steps",
    ]


def table(storage: optuna.storages.BaseStorage, mode: str, horizons: list[int], prefix: str) -> list[str]:
    """The markdown table's lines: a header, then one row per horizon's study."""
    goal = GOAL[mode]
    header = ["horizon", "data", "complete/trials", "CPU-min", "load (1-min avg: median, range)", "val MSE",
              "test MSE", "test MAE", *(f"{m} MSE" for m in methods(mode)), f"vs {goal}", f"<= {goal}",
              "selected trial (by val loss)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for horizon in horizons:
        try:
            lines.append("| " + " | ".join(horizon_row(storage, horizon, mode, prefix)) + " |")
        except KeyError:  # Optuna: no such study
            lines.append(f"| {horizon} | not run yet (no study {prefix}{horizon}) |")
        except ValueError:  # Optuna: no completed trial
            lines.append(f"| {horizon} | no completed trial yet |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", default="sqlite:///results/ett.db")
    parser.add_argument("--mode", choices=MODES, default="S")
    parser.add_argument("--horizons", type=int, nargs="+", default=[96, 192, 336, 720])
    parser.add_argument("--prefix", help="study name = prefix + horizon [default: ett_s_ or ett_m_]")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    from lstmexp.errors import LstmexpError
    from lstmexp.storage.urls import open_storage, storage_errors

    try:  # any storage lstmexp writes (SQLite, journal, PostgreSQL), opened read-only
        with storage_errors(args.storage):
            storage = open_storage(args.storage, create=False)
    except LstmexpError as exc:  # one line and exit code 2, as lstmexp's own commands
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print("\n".join(table(storage, args.mode, args.horizons, args.prefix or PREFIX[args.mode])))


if __name__ == "__main__":
    main()
