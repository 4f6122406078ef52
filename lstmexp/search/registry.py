"""Sampler and pruner registries: a spec's `search.sampler` / `search.pruner` name -> a factory.

Every sampler is seeded; constraints reach them through `trial.set_constraint` (Optuna 5).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optuna

from lstmexp.errors import SpecError
from lstmexp.spec import ExperimentSpec
from lstmexp.spec.searchable import SIZE_NAMES
from lstmexp.vocabulary.choices import SEARCHED_PARAMS

SamplerFactory = Callable[[ExperimentSpec, int], optuna.samplers.BaseSampler]  # (spec, seed)
PrunerFactory = Callable[[int], optuna.pruners.BasePruner]  # (epoch budget)


def grid_points(spec: ExperimentSpec) -> dict[str, list[Any]]:
    """Every searched value: the three sizes, the per-window normalisations and listed spec fields.

    A grid also crosses model.dropout with num_layers=1, where dropout does not apply: such points are
    the same model, which the objective trains once per seed like any repeated configuration.
    """
    grid: dict[str, list[Any]] = {name: spec.search.space.size(name).grid() for name in SEARCHED_PARAMS}
    if spec.search.space.normalization:
        grid["normalization"] = list(spec.search.space.normalization)
    for path, space in spec.search.space.fields.items():
        if path in SIZE_NAMES:
            continue  # under their short names, above
        if space.values is None:
            raise SpecError(f"search.sampler grid needs listed values: give search.space.{path} as [a, b, ...]")
        grid[path] = list(space.values)
    return grid


def grid_size(spec: ExperimentSpec) -> int:
    size = 1
    for values in grid_points(spec).values():
        size *= len(values)
    return size


def startup_trials(spec: ExperimentSpec) -> int:
    """Random trials before TPE models the space: 10 (Optuna's default), fewer for a small finite space.

    TPE's default 10 random start-up trials are a quarter of a 36-point space; a small space needs
    fewer before TPE's model can take over.
    """
    space = spec.search.space
    finite = all(field.choices() is not None for field in space.fields.values())
    return max(4, min(10, grid_size(spec) // 8)) if finite else 10


def base_seed(spec: ExperimentSpec) -> int:
    return spec.train.seed if spec.search.seed is None else spec.search.seed


def grid_sampler(spec: ExperimentSpec, seed: int) -> optuna.samplers.BaseSampler:
    # Trial number n < grid size gets point n of the grid as shuffled by the seed: every worker
    # must shuffle alike (the base seed, no worker offset), then several workers never share a point.
    return optuna.samplers.GridSampler(grid_points(spec), seed=base_seed(spec))


SAMPLERS: dict[str, SamplerFactory] = {
    "tpe": lambda spec, seed: optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials(spec)),
    "random": lambda spec, seed: optuna.samplers.RandomSampler(seed=seed),
    "grid": grid_sampler,
    "gp": lambda spec, seed: optuna.samplers.GPSampler(seed=seed),
    "nsga2": lambda spec, seed: optuna.samplers.NSGAIISampler(seed=seed),
    # Categorical parameters (value lists, pow2 ranges) fall back to random sampling inside QMC.
    "qmc": lambda spec, seed: optuna.samplers.QMCSampler(seed=seed, warn_independent_sampling=False),
}

# Pruners on the val loss per epoch, with warm-ups relative to the epoch budget.
#
# An LSTM's val loss after one or two epochs mostly tells how many optimizer steps it took: small
# batches lead early and large ones catch up later (C7), so pruning at epoch 1-2 culls large
# batches for the wrong reason (a real 20-trial search pruned 14 trials that way). Nothing is
# pruned before half the epoch budget; successive halving and Hyperband start at a quarter of
# it (their first rung) and keep the best third at each rung.
PRUNERS: dict[str, PrunerFactory] = {
    "median": lambda epochs: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=max(1, epochs // 2)),
    "successive-halving": lambda epochs: optuna.pruners.SuccessiveHalvingPruner(
        min_resource=max(1, epochs // 4), reduction_factor=3
    ),
    "hyperband": lambda epochs: optuna.pruners.HyperbandPruner(
        min_resource=max(1, epochs // 4), max_resource=epochs, reduction_factor=3
    ),
    "none": lambda epochs: optuna.pruners.NopPruner(),
}


def make_sampler(spec: ExperimentSpec, seed_offset: int = 0) -> optuna.samplers.BaseSampler:
    """The spec's sampler, seeded with the spec's seed plus this worker's offset."""
    return SAMPLERS[spec.search.sampler](spec, base_seed(spec) + seed_offset)


def make_pruner(spec: ExperimentSpec) -> optuna.pruners.BasePruner:
    return PRUNERS[spec.search.pruner](spec.train.epochs)
