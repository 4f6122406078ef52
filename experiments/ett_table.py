"""The ETTh1 univariate benchmark table: each horizon's study, its val-selected trial's test MSE/MAE
beside the published figures (../shared/data/README.md: the DLinear paper's table, input 96).

The trial is chosen by val loss only (Optuna's best trial of a val_loss study); the test figures are
read, never optimised. Usage (after make exp-ett-univariate):
    python experiments/ett_table.py --storage sqlite:///results/ett.db [--horizons 96 192 336 720]
"""

from __future__ import annotations

import argparse
import json

import optuna

# Test MSE on the scaled values, ETTh1, mode S, input 96, as listed in ../shared/data/README.md
# (the DLinear paper's univariate table; the README lists MSE only, so MAE is not compared).
PUBLISHED = {
    "NLinear": {96: 0.053, 192: 0.069, 336: 0.081, 720: 0.080},
    "DLinear": {96: 0.056, 192: 0.071, 336: 0.098, 720: 0.189},
    "FEDformer": {96: 0.079, 192: 0.104, 336: 0.119, 720: 0.142},
}


def horizon_row(storage: str, horizon: int, prefix: str) -> list[str]:
    study = optuna.load_study(study_name=f"{prefix}{horizon}", storage=storage)
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    cpu_min = sum(float(t.user_attrs.get("cpu_s") or 0) for t in study.get_trials(deepcopy=False)) / 60
    best = study.best_trial  # lowest val loss: selection by validation only
    mse, mae = best.user_attrs["test_mse"], best.user_attrs["test_mae"]
    nlinear = PUBLISHED["NLinear"][horizon]
    return [
        str(horizon), f"{len(done)}/{len(study.trials)}", f"{cpu_min:.1f}", f"{best.value:.4f}",
        f"**{mse:.4f}**", f"{mae:.4f}", *(f"{PUBLISHED[m][horizon]:.3f}" for m in PUBLISHED),
        f"{(mse - nlinear) / nlinear:+.1%}", f"#{best.number}: {json.loads(best.user_attrs['config'])}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", default="sqlite:///results/ett.db")
    parser.add_argument("--horizons", type=int, nargs="+", default=[96, 192, 336, 720])
    parser.add_argument("--prefix", default="ett_s_", help="study name = prefix + horizon")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    header = ["horizon", "complete/trials", "CPU-min", "val MSE", "test MSE", "test MAE",
              *(f"{m} MSE" for m in PUBLISHED), "vs NLinear", "selected trial (by val loss)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for horizon in args.horizons:
        print("| " + " | ".join(horizon_row(args.storage, horizon, args.prefix)) + " |")


if __name__ == "__main__":
    main()
