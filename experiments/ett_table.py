"""The ETTh1 benchmark tables (univariate S, multivariate M): each horizon's study, its val-selected trial's
test MSE/MAE beside the published figures, with the CPU minutes the study used.

The trial is chosen by val loss only (Optuna's best trial of a val_loss study); the test figures are
read, never optimised, and cover every test window (lstmexp drops no last batch). Usage (after
make exp-ett-univariate / exp-ett-multivariate):
    python experiments/ett_table.py --mode S --storage sqlite:///results/ett.db [--horizons 96 192 336 720]
"""

from __future__ import annotations

import argparse
import json

import optuna

# Published test MSE on the scaled values, ETTh1. Sources (docs/results.md says which dropped the last test batch):
#   S, NLinear/DLinear/FEDformer: the DLinear paper's univariate table (input 96), as in ../shared/data/README.md;
#   M, DLinear: the DLinear paper (input 336), as in ../shared/data/README.md;
#   M, FITS and SegRNN: their papers' tables (SegRNN gives 96-336 here).
PUBLISHED = {
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
}
# The figure each horizon must reach: NLinear's in mode S, DLinear's in mode M.
GOAL = {"S": "NLinear", "M": "DLinear"}
PREFIX = {"S": "ett_s_", "M": "ett_m_"}


def horizon_row(storage: str, horizon: int, mode: str, prefix: str) -> list[str]:
    published = PUBLISHED[mode]
    study = optuna.load_study(study_name=f"{prefix}{horizon}", storage=storage)
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    cpu_min = sum(float(t.user_attrs.get("cpu_s") or 0) for t in trials) / 60
    loads = sorted(float(t.user_attrs["load_avg_1m"]) for t in trials if t.user_attrs.get("load_avg_1m") is not None)
    best = study.best_trial  # lowest val loss: selection by validation only
    mse, mae = best.user_attrs["test_mse"], best.user_attrs["test_mae"]
    goal = published[GOAL[mode]][horizon]
    config = json.loads(best.user_attrs["config"])
    config.setdefault("model.chunk", best.user_attrs.get("chunk"))
    return [
        str(horizon), f"{len(done)}/{len(trials)}", f"{cpu_min:.1f}",
        f"{loads[len(loads) // 2]:.1f} ({loads[0]:.1f}-{loads[-1]:.1f})" if loads else "", f"{best.value:.4f}",
        f"**{mse:.4f}**", f"{mae:.4f}",
        *(f"{published[m][horizon]:.3f}" if horizon in published[m] else "" for m in published),
        f"{(mse - goal) / goal:+.1%}", "met" if mse <= goal else "missed",
        f"#{best.number}: {config}, {best.user_attrs.get('lstm_steps')} LSTM steps",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", default="sqlite:///results/ett.db")
    parser.add_argument("--mode", choices=sorted(PUBLISHED), default="S")
    parser.add_argument("--horizons", type=int, nargs="+", default=[96, 192, 336, 720])
    parser.add_argument("--prefix", help="study name = prefix + horizon [default: ett_s_ or ett_m_]")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    prefix = args.prefix or PREFIX[args.mode]
    goal = GOAL[args.mode]
    header = ["horizon", "complete/trials", "CPU-min", "load (1-min avg: median, range)", "val MSE",
              "test MSE", "test MAE",
              *(f"{m} MSE" for m in PUBLISHED[args.mode]), f"vs {goal}", f"<= {goal}",
              "selected trial (by val loss)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for horizon in args.horizons:
        try:
            print("| " + " | ".join(horizon_row(args.storage, horizon, args.mode, prefix)) + " |")
        except KeyError:  # Optuna: no such study
            print(f"| {horizon} | not run yet (no study {prefix}{horizon}) |")
        except ValueError:  # Optuna: no completed trial
            print(f"| {horizon} | no completed trial yet |")


if __name__ == "__main__":
    main()
