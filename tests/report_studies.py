"""Studies with known metrics for the report tests, built with optuna.trial.create_trial (no training)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

# One value space for every test trial (Optuna refuses a categorical whose choices change within a study).
CHOICES = (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 256, 512)
STATES = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "fail": TrialState.FAIL}
# Searched ranges of the other parameters the test trials may carry (any spec field is searchable).
EXTRA_DISTRIBUTIONS: dict[str, BaseDistribution] = {
    "train.lr": FloatDistribution(1e-4, 1e-2, log=True),
    "model.num_layers": IntDistribution(1, 3),
    "model.dropout": FloatDistribution(0.0, 0.5),
    "normalization": CategoricalDistribution(("none", "last", "revin")),
    "model.chunk": CategoricalDistribution((1, 24)),
}


def make_trial(batch_size: int, time_step: int, hidden_size: int = 16, state: str = "complete",
               choices: dict[str, tuple[int, ...]] | None = None, extra: dict[str, Any] | None = None,
               constraints: dict[str, float] | None = None, **attrs: Any) -> optuna.trial.FrozenTrial:
    """A trial with known figures; `extra`: other searched parameters (names in EXTRA_DISTRIBUTIONS);
    `constraints`: Optuna constraint values (feasible when <= 0), as `trial.set_constraint` records them."""
    params = {"batch_size": batch_size, "time_step": time_step, "hidden_size": hidden_size}
    choices = choices or {}
    distributions: dict[str, BaseDistribution] = {
        name: CategoricalDistribution(choices.get(name) or CHOICES) for name in params
    }
    for name, value in (extra or {}).items():
        params[name] = value
        distributions[name] = EXTRA_DISTRIBUTIONS[name]
    defaults = {"val_loss_best": 0.5, "samples_per_s": 1000.0, "peak_mem_bytes": 2**20 * batch_size,
                "train_s_per_epoch": 1.0, "iterations_per_epoch": math.ceil(1000 / batch_size), "epochs_run": 4,
                "best_epoch": 3, "grad_norm_mean": 1.0, "grad_norm_max": 2.0, "train_loss_final": 0.4,
                "test_skill": 0.2, "curve_val_loss": [0.9, 0.7, 0.6, 0.5], "curve_train_loss": [0.8, 0.6, 0.5, 0.4]}
    merged = {**defaults, **attrs}
    value = merged["val_loss_best"] if state == "complete" else None
    return optuna.trial.create_trial(state=STATES[state], value=value, params=params,
                                     distributions=distributions, user_attrs=merged, constraints=constraints)


def make_study(trials: list[optuna.trial.FrozenTrial], name: str = "known", storage: Any = None,
               spec: dict[str, Any] | None = None) -> optuna.Study:
    study = optuna.create_study(study_name=name, storage=storage, direction="minimize")
    study.add_trials(trials)
    study.set_user_attr("lstmexp_environment", {"cpu_model": "test cpu", "torch": "test"})
    if spec is not None:
        study.set_user_attr("lstmexp_spec", spec)
    return study


def grid_trials(speed: Any, batches=(16, 32, 64, 128), steps=(8, 16), hiddens=(16, 32), noise: float = 0.03,
                seed: int = 0, per_cell: int = 2, **extra: Any) -> list[optuna.trial.FrozenTrial]:
    """Trials over a grid; `speed(batch, step, hidden)` gives samples/s (times lognormal noise)."""
    rng = np.random.default_rng(seed)
    trials = []
    for batch in batches:
        for step in steps:
            for hidden in hiddens:
                for _ in range(per_cell):
                    observed = speed(batch, step, hidden) * float(rng.lognormal(0, noise))
                    trials.append(make_trial(batch, step, hidden, samples_per_s=observed,
                                             train_s_per_epoch=1000 / observed, **extra))
    return trials
