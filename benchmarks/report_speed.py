"""Report speed: `lstmexp report --format json` against `trials_dataframe()`, both as whole processes.

Goal: on a 1,000-trial SQLite study, the whole `lstmexp report --format json`
process takes at most 0.5x the time of a `python -c` process that runs
`optuna.load_study(...).trials_dataframe()`. Whole processes, because that is what a user waits
for: importing Optuna and pandas and initialising Optuna's RDB storage were most of it. The report
reads the SQLite file directly, read-only, without Optuna's storage machinery (`report/run.py`).

The study is built with `optuna.trial.create_trial` and `study.add_trials` (no training; a minute
or two on SQLite); its trials carry what the search records (issues 11 and 13: `reproduce`,
`config`, `train_seed`, contention and tensor-memory figures). Runs are paired (baseline, then
report) so a burst of load hits both alike; the ratio quoted is the median of the paired ratios.
Timings on a shared machine are noisy: the machine's load average is printed beside them.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState

TRIALS = 1000
PAIRS = 5
GOAL = 0.5
BATCH = (16, 32, 64, 128, 256)
TIME_STEP = (4, 8, 16, 32)
HIDDEN = (16, 32, 64)
LSTMEXP = Path(sys.executable).with_name("lstmexp")


def synthetic_trial(rng: np.random.Generator, number: int) -> optuna.trial.FrozenTrial:
    """A trial with the metrics lstmexp records (values plausible, not measured)."""
    batch, step, hidden = int(rng.choice(BATCH)), int(rng.choice(TIME_STEP)), int(rng.choice(HIDDEN))
    lr = float(10 ** rng.uniform(-4, -2))
    epochs = 8
    state = TrialState.PRUNED if number % 5 == 0 else TrialState.COMPLETE
    val = 0.2 + 0.05 * math.log2(step) / 5 + rng.normal(0, 0.01)
    speed = 300.0 * batch**0.7 / step / (hidden / 16) ** 0.3 * rng.lognormal(0, 0.05)
    config = f"batch_size={batch}, time_step={step}, hidden_size={hidden}, train.lr={lr:.6g}"
    attrs: dict[str, object] = {
        "val_loss_best": val, "val_loss_final": val * 1.02, "train_loss_final": val * 0.9, "test_loss": val * 1.1,
        "samples_per_s": speed, "samples_per_s_spread": 0.03, "samples_per_s_train": speed * 0.9,
        "contended": number % 17 == 0, "contention_reason": "", "cpu_share": 0.97, "load_avg_1m": 1.1,
        "time_steps_per_s": speed * step, "train_s_per_epoch": 4000 / speed,
        "eval_s_per_epoch": 0.1, "iterations_per_epoch": math.ceil(4000 / batch), "train_samples_per_epoch": 4000,
        "warmup_iters": 5, "epochs_run": epochs, "best_epoch": epochs - 1, "stopped_early": False,
        "wall_s": 40000 / speed, "peak_mem_bytes": int(batch * step * hidden * 4000), "peak_mem_method": "tensor",
        "tensor_params_bytes": 16 * hidden * hidden, "tensor_grads_bytes": 16 * hidden * hidden,
        "tensor_optimizer_bytes": 32 * hidden * hidden, "tensor_activations_bytes": batch * step * hidden * 40,
        "process_peak_bytes": int(batch * step * hidden * 5000),
        "activation_mem_est_bytes": batch * step * hidden * 64, "param_count": 4 * hidden * (hidden + 8),
        "grad_norm_mean": 0.5 * step**0.2, "grad_norm_max": 2.0 * step**0.3, "nonfinite_grad_frac": 0.0,
        "device": "cpu", "torch_threads": 1, "config": config, "train_seed": number % 3,
        "reproduce": f"lstmexp run --batch-size {batch} --time-step {step} --hidden-size {hidden} "
                     f"-o train.lr={lr:.6g} -o train.seed={number % 3}",
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
        params={"batch_size": batch, "time_step": step, "hidden_size": hidden, "train.lr": lr},
        distributions={
            "batch_size": CategoricalDistribution(BATCH),
            "time_step": CategoricalDistribution(TIME_STEP),
            "hidden_size": CategoricalDistribution(HIDDEN),
            "train.lr": FloatDistribution(1e-4, 1e-2, log=True),
        },
        user_attrs=attrs,
        intermediate_values={e: val * (1 + 1 / (e + 1.5)) for e in range(epochs)},
    )


def build_study(url: str) -> None:
    rng = np.random.default_rng(0)
    study = optuna.create_study(study_name="bench", storage=url, direction="minimize")
    study.add_trials([synthetic_trial(rng, n) for n in range(TRIALS)])
    study.set_user_attr("lstmexp_environment", {"cpu_model": "benchmark", "torch": "n/a"})


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        started = time.perf_counter()
        build_study(url)
        print(f"built a {TRIALS}-trial study in {time.perf_counter() - started:.1f} s")
        baseline_cmd = [sys.executable, "-c", "import optuna; optuna.logging.set_verbosity(optuna.logging.WARNING); "
                        f"optuna.load_study(study_name='bench', storage={url!r}).trials_dataframe()"]
        report_cmd = [str(LSTMEXP), "report", "--storage", url, "--study", "bench", "--format", "json"]
        timed(baseline_cmd), timed(report_cmd)  # warm the file cache for both
        pairs = [(timed(baseline_cmd), timed(report_cmd)) for _ in range(PAIRS)]
    for base, ours in pairs:
        print(f"trials_dataframe() process {base:.2f} s, lstmexp report --format json process {ours:.2f} s, "
              f"ratio {ours / base:.2f}")
    ratio = statistics.median(ours / base for base, ours in pairs)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"median ratio {ratio:.2f} (goal <= {GOAL}); load average {load:.1f} on {os.cpu_count()} CPUs")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
