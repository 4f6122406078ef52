"""The whole experiment: model, training, search and constraints, and the checks that span sections."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from lstmexp.choices import DEVICE_PATTERN, OBJECTIVES, SEARCHED_PARAMS, AmpMode, ObjectiveName, Pruner, Sampler
from lstmexp.spec.base import (
    MAX_GRID_POINTS,
    STUDY_NAME_PATTERN,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Section,
    Seed,
    machine_memory,
)
from lstmexp.spec.data import DataSpec
from lstmexp.spec.space import SpaceSpec
from lstmexp.units import format_bytes, parse_memory


class ModelSpec(Section):
    num_layers: PositiveInt = 1
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0


class TrainSpec(Section):
    epochs: PositiveInt = 8
    lr: PositiveFloat = 3e-3  # finite; a huge one diverges, and a diverged trial is recorded as such
    weight_decay: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    seed: Seed = 0
    device: str = "auto"
    grad_clip: PositiveFloat | None = None
    # Iterations at the start of training left out of the throughput (allocator, caches, cuDNN
    # autotuning and thread pools are still warming up there).
    warmup_iters: NonNegativeInt = 5
    # Torch intra-op threads per worker; None leaves torch's default.
    threads: PositiveInt | None = None
    # Mixed precision: None (float32), bf16 (CPU or GPU) or fp16 (CUDA only, with a gradient scaler).
    amp: AmpMode | None = None
    # Train each configuration this many times (seeds seed, seed+1, ...) and record mean, std and CV.
    repeats: PositiveInt = 1
    # Budget per trial besides `epochs` (always the cap): stop once this many training seconds
    # have run or this many training samples were seen, so batch sizes can be compared at equal time.
    max_seconds: PositiveFloat | None = None
    max_samples: PositiveInt | None = None
    # Record the time to reach this val loss (scaled MSE); None: not measured.
    target_val_loss: PositiveFloat | None = None
    # Stateful training (C14): batch_size contiguous streams walked in chunks of time_step, the hidden
    # state carried (detached) from batch to batch and reset at each epoch, no shuffling.
    stateful: bool = False

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if not re.match(DEVICE_PATTERN, value):
            raise ValueError(f"unknown device {value!r}; use auto, cpu, cuda or cuda:N")
        return value

    @model_validator(mode="after")
    def _amp_fits_device(self) -> TrainSpec:
        if self.amp == "fp16" and self.device in ("cpu", "mps"):
            raise ValueError(f"amp: fp16 needs CUDA; on {self.device} use amp: bf16 or none")
        return self


class ConstraintSpec(Section):
    """Limits a recommended configuration must respect (trials that break one are infeasible)."""

    max_memory: PositiveInt | None = None  # bytes; YAML may say 4GiB
    min_samples_per_s: PositiveFloat | None = None

    @field_validator("max_memory", mode="before")
    @classmethod
    def _memory_size(cls, value: Any) -> Any:
        return None if value is None else parse_memory(value)

    @field_validator("max_memory")
    @classmethod
    def _within_the_machine(cls, value: int | None) -> int | None:
        if value is not None and value > machine_memory():
            raise ValueError(f"{format_bytes(value)} is more than this machine's memory "
                             f"({format_bytes(machine_memory())}): no trial can exceed it; lower it or leave it out")
        return value


class SearchSpec(Section):
    trials: PositiveInt = 20
    sampler: Sampler = "tpe"
    pruner: Pruner = "median"
    space: SpaceSpec = SpaceSpec()
    objectives: tuple[ObjectiveName, ...] = ("val_loss",)
    constraints: ConstraintSpec = ConstraintSpec()
    # The sampler's seed (null: train.seed), to vary the search without changing what trials learn.
    seed: Seed | None = None
    # Stop after this many trials in a row failed without a result (they never count toward `trials`).
    max_consecutive_failures: PositiveInt = 10
    # Whole-study budgets, checked between trials: wall minutes of this run, and CPU minutes summed
    # over the study's trials (every worker's, resumed runs included). null: no budget.
    max_minutes: PositiveFloat | None = None
    max_cpu_minutes: PositiveFloat | None = None
    # Keep the trained weights (and scaler) of the best k configurations beside the storage; 0: none.
    keep_best: NonNegativeInt = 3

    @field_validator("objectives", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _grid_fits(self) -> SearchSpec:
        points = math.prod(getattr(self.space, name).size() for name in SEARCHED_PARAMS)
        if self.sampler == "grid" and points > MAX_GRID_POINTS:
            raise ValueError(f"the grid has {points} points, more than {MAX_GRID_POINTS}; narrow the ranges or "
                             "use another sampler")
        return self

    @model_validator(mode="after")
    def _objectives_consistent(self) -> SearchSpec:
        if not self.objectives:
            raise ValueError(f"list at least one objective among {', '.join(OBJECTIVES)}")
        if len(set(self.objectives)) != len(self.objectives):
            raise ValueError("objectives has duplicates")
        if len(self.objectives) > 1 and self.pruner != "none":
            raise ValueError(
                f"pruner {self.pruner!r} cannot prune a multi-objective study (Optuna has no pruning there, "
                "optuna/optuna#3450); set search.pruner: none or keep a single objective"
            )
        if self.pruner != "none" and self.objectives != ("val_loss",):
            raise ValueError(
                f"pruner {self.pruner!r} prunes on the val loss, so it needs objectives: [val_loss]; "
                "set search.pruner: none to optimise other objectives"
            )
        return self


class ExperimentSpec(Section):
    study: Annotated[str, Field(pattern=STUDY_NAME_PATTERN)] = "default"
    storage: str | None = None
    data: DataSpec = DataSpec()
    model: ModelSpec = ModelSpec()
    train: TrainSpec = TrainSpec()
    search: SearchSpec = SearchSpec()

    @model_validator(mode="after")
    def _target_for_objective(self) -> ExperimentSpec:
        if "time_to_target" in self.search.objectives and self.train.target_val_loss is None:
            raise ValueError("objective time_to_target needs train.target_val_loss (e.g. 0.4)")
        return self

    @model_validator(mode="after")
    def _budget_reaches_measurement(self) -> ExperimentSpec:
        """A samples budget must outlast the warm-up, or no trial could measure its throughput.

        Checked against the smallest batch size: when even it cannot measure, nothing can. Larger
        batches that cannot fail without a result, which `search.max_consecutive_failures` bounds.
        """
        smallest = self.search.space.batch_size.lowest
        needed = (self.train.warmup_iters + 1) * smallest
        if self.train.max_samples is not None and self.train.max_samples < needed:
            raise ValueError(
                f"train.max_samples {self.train.max_samples} ends before measurement starts: "
                f"{self.train.warmup_iters} warm-up steps plus one of batch_size {smallest} need {needed}; "
                "raise max_samples or lower train.warmup_iters"
            )
        return self

    @model_validator(mode="after")
    def _weights_fit_the_machine(self) -> ExperimentSpec:
        """The largest model's weights and optimizer state (about 16 bytes a parameter) must fit in memory."""
        hidden, layers = self.search.space.hidden_size.highest, self.model.num_layers
        parameters = 4 * hidden * (2 * hidden + 2) * layers
        if 16 * parameters > machine_memory():
            raise ValueError(
                f"hidden_size {hidden} with {layers} layers needs {format_bytes(16 * parameters)} for weights and "
                f"optimizer state; this machine has {format_bytes(machine_memory())}: lower hidden_size"
            )
        return self

    @model_validator(mode="after")
    def _searched_fields_valid(self) -> ExperimentSpec:
        from lstmexp.spec.extremes import check_fillings  # they read this class's sections
        from lstmexp.spec.searchable import check_fields

        check_fields(self)
        check_fillings(self)  # each value a trial may get, filled in: the rules that span sections see it
        return self

    @model_validator(mode="after")
    def _stateful_has_no_windows(self) -> ExperimentSpec:
        searched = set(self.search.space.normalization or ())
        if self.train.stateful and (self.data.normalization != "none" or searched - {"none"}):
            raise ValueError("train.stateful walks streams, not windows: set data.normalization to none")
        return self

    def with_normalization(self, normalization: str) -> ExperimentSpec:
        """This spec with data.normalization set (one trial's searched choice)."""
        return self.model_copy(update={"data": self.data.model_copy(update={"normalization": normalization})})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (stored on the study so the report can reproduce trials)."""
        return self.model_dump(mode="json")
