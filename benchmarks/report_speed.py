"""Report speed: `lstmexp report` on a 1,000-trial study against plain `trials_dataframe()`.

Goal (issue 6): the report, built from the same SQLite storage, takes less than half the time of
`optuna.load_study(...).trials_dataframe()`. The study is built with `optuna.trial.create_trial`
and `study.add_trials` (no training; about a minute on SQLite). Each timed call opens the storage
afresh, so neither side profits from the other's cache; the figures compared are the best of a few
runs of each, alternated. The report side is the whole `lstmexp report` pipeline (storage open,
trials read, every section including claims, importance and Pareto front, rendered as JSON).
Timings on a shared machine are noisy: re-run on a quiet one before quoting them.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

TRIALS = 1000
RUNS = 4
BATCH = (16, 32, 64, 128, 256)
TIME_STEP = (4, 8, 16, 32)
HIDDEN = (16, 32, 64)


def synthetic_trial(rng: np.random.Generator, number: int) -> optuna.trial.FrozenTrial:
    """A trial with the metrics lstmexp records (values plausible, not measured)."""
    batch, step, hidden = int(rng.choice(BATCH)), int(rng.choice(TIME_STEP)), int(rng.choice(HIDDEN))
    epochs = 8
    state = TrialState.PRUNED if number % 5 == 0 else TrialState.COMPLETE
    val = 0.2 + 0.05 * math.log2(step) / 5 + rng.normal(0, 0.01)
    speed = 300.0 * batch**0.7 / step / (hidden / 16) ** 0.3 * rng.lognormal(0, 0.05)
    attrs: dict[str, object] = {
        "val_loss_best": val, "val_loss_final": val * 1.02, "train_loss_final": val * 0.9, "test_loss": val * 1.1,
        "samples_per_s": speed, "time_steps_per_s": speed * step, "train_s_per_epoch": 4000 / speed,
        "eval_s_per_epoch": 0.1, "iterations_per_epoch": math.ceil(4000 / batch), "train_samples_per_epoch": 4000,
        "warmup_iters": 5, "epochs_run": epochs, "best_epoch": epochs - 1, "stopped_early": False,
        "wall_s": 40000 / speed, "peak_mem_bytes": int(batch * step * hidden * 4000),
        "peak_mem_reserved_bytes": int(batch * step * hidden * 5000), "peak_mem_method": "rss",
        "activation_mem_est_bytes": batch * step * hidden * 64, "param_count": 4 * hidden * (hidden + 8),
        "grad_norm_mean": 0.5 * step**0.2, "grad_norm_max": 2.0 * step**0.3, "nonfinite_grad_frac": 0.0,
        "device": "cpu", "torch_threads": 2,
        "curve_train_loss": [val * (1 + 1 / (e + 1)) for e in range(epochs)],
        "curve_val_loss": [val * (1 + 1 / (e + 1.5)) for e in range(epochs)],
    }
    for split in ("val", "test"):
        for name in ("mse", "mae", "rmse", "mse_units", "mae_units", "rmse_units", "naive_mse", "naive_mse_units",
                     "skill"):
            attrs[f"{split}_{name}"] = float(rng.uniform(0.1, 1.0))
    return optuna.trial.create_trial(
        state=state,
        value=val if state == TrialState.COMPLETE else None,
        params={"batch_size": batch, "time_step": step, "hidden_size": hidden},
        distributions={
            "batch_size": CategoricalDistribution(BATCH),
            "time_step": CategoricalDistribution(TIME_STEP),
            "hidden_size": CategoricalDistribution(HIDDEN),
        },
        user_attrs=attrs,
        intermediate_values={e: val * (1 + 1 / (e + 1.5)) for e in range(epochs)},
    )


def build_study(url: str) -> None:
    rng = np.random.default_rng(0)
    study = optuna.create_study(study_name="bench", storage=url, direction="minimize")
    study.add_trials([synthetic_trial(rng, n) for n in range(TRIALS)])
    study.set_user_attr("lstmexp_environment", {"cpu_model": "benchmark", "torch": "n/a"})


def time_trials_dataframe(url: str) -> float:
    start = time.perf_counter()
    optuna.load_study(study_name="bench", storage=url).trials_dataframe()
    return time.perf_counter() - start


def time_report(url: str, fmt: str) -> float:
    from lstmexp.report.evidence import bootstrap_weights
    from lstmexp.report.run import report_study

    bootstrap_weights.cache_clear()  # each timed report starts cold, as a fresh `lstmexp report` process does
    start = time.perf_counter()
    report_study(url, ["bench"], fmt=fmt, out_dir=None)
    return time.perf_counter() - start


def main() -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        started = time.perf_counter()
        build_study(url)
        print(f"built a {TRIALS}-trial study in {time.perf_counter() - started:.1f} s")
        # Alternate the two so that machine noise hits both alike; the first report run also pays
        # for importing its modules (shown, not counted in the best-of figures).
        baseline, ours, table = [], [], []
        for _ in range(RUNS):
            baseline.append(time_trials_dataframe(url))
            ours.append(time_report(url, "json"))
            table.append(time_report(url, "table"))
    print("trials_dataframe() runs:", ", ".join(f"{t:.3f}" for t in baseline), "s")
    print("lstmexp report --format json runs:", ", ".join(f"{t:.3f}" for t in ours), "s")
    print("lstmexp report --format table runs:", ", ".join(f"{t:.3f}" for t in table), "s")
    ratio = min(ours) / min(baseline)
    print(f"best: trials_dataframe() {min(baseline):.3f} s, report (all sections, json) {min(ours):.3f} s, "
          f"table {min(table):.3f} s; ratio json/trials_dataframe {ratio:.2f} (goal < 0.50)")
    return 0 if ratio < 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
