"""The spec's sections (model, training, search and its constraints) and the fields of a whole spec."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Self

from pydantic import Field, field_validator, model_validator

from lstmexp.bounds import MAX_GRID_POINTS
from lstmexp.spec.base import STUDY_NAME_PATTERN, PositiveInt, Section, Seed, machine_memory, within
from lstmexp.spec.data import DataSpec
from lstmexp.spec.space import SpaceSpec
from lstmexp.units import format_bytes, parse_memory
from lstmexp.vocabulary.choices import (
    DEVICE_PATTERN,
    LOSS_OBJECTIVE,
    OBJECTIVES,
    SEARCHED_PARAMS,
    AmpMode,
    ChannelMode,
    ChunkActivation,
    HeadKind,
    ObjectiveName,
    Pruner,
    Sampler,
    SkipKind,
)


class ModelSpec(Section):
    # LSTM hidden units (searched by default: search.space.hidden_size).
    hidden_size: Annotated[int, within("model.hidden_size")] = 32
    num_layers: Annotated[int, within("model.num_layers")] = 1
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0
    # Window steps per LSTM step: the window of time_step T is cut into T/chunk chunks, each embedded
    # by a linear layer (then `chunk_activation`) and fed as one step. 1: every step is fed as it is.
    chunk: Annotated[int, within("model.chunk")] = 1
    chunk_activation: ChunkActivation = "none"
    # joint: a window's columns together; independent: each channel its own sample (same weights).
    channels: ChannelMode = "joint"
    # linear: from the last hidden state; segment: one LSTM step per output segment of `chunk` steps.
    head: HeadKind = "linear"
    # Dropout on the hidden state the head reads (with any number of layers); 0: none.
    head_dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0
    # linear: a linear map from the window's time_step steps of each target column to its horizon
    # steps, added to the head's prediction (NLinear's model as a residual path; the LSTM learns what
    # a linear map of the window misses); none: the LSTM alone.
    skip: SkipKind = "none"


class TrainSpec(Section):
    # The cap on epochs; training stops earlier once the val loss has not improved for `patience`
    # epochs in a row (early stopping; null: train every epoch), and the best epoch's weights are kept.
    epochs: Annotated[int, within("train.epochs")] = 30
    # Samples per optimiser step (searched by default: search.space.batch_size).
    batch_size: Annotated[int, within("train.batch_size")] = 64
    patience: Annotated[int, within("train.patience")] | None = 5
    # 0.01: on the built-in data no trial is still improving at the 30-epoch cap (0.003 left 3 of 7 so)
    # and the best configuration reaches a lower val loss (docs/results.md); a diverged trial is recorded.
    lr: Annotated[float, within("train.lr")] = 1e-2
    # The learning rate is multiplied by this after every epoch (0.5 halves it, as the DLinear and
    # PatchTST scripts do); None: constant.
    lr_decay: Annotated[float, within("train.lr_decay")] | None = None
    weight_decay: Annotated[float, within("train.weight_decay")] = 0.0
    seed: Seed = 0
    device: str = "auto"
    grad_clip: Annotated[float, within("train.grad_clip")] | None = None
    # Iterations at the start of training left out of the throughput (allocator, caches, cuDNN
    # autotuning and thread pools are still warming up there).
    warmup_iters: Annotated[int, within("train.warmup_iters")] = 5
    # Torch intra-op threads per worker; None leaves torch's default.
    threads: Annotated[int, within("train.threads")] | None = None
    # Mixed precision: None (float32), bf16 (CPU or GPU) or fp16 (CUDA only, with a gradient scaler).
    amp: AmpMode | None = None
    # Train each configuration this many times (seeds seed, seed+1, ...) and record mean, std and CV.
    repeats: Annotated[int, within("train.repeats")] = 1
    # Budget per trial besides `epochs` (always the cap): stop once this many training seconds
    # have run or this many training samples were seen, so batch sizes can be compared at equal time.
    max_seconds: Annotated[float, within("train.max_seconds")] | None = None
    max_samples: Annotated[int, within("train.max_samples")] | None = None
    # Record the time to reach this val loss (scaled MSE); None: not measured.
    target_val_loss: Annotated[float, within("train.target_val_loss")] | None = None
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
    min_samples_per_s: Annotated[float, within("search.constraints.min_samples_per_s")] | None = None

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
    trials: Annotated[int, within("search.trials")] = 20
    sampler: Sampler = "tpe"
    # A designed study (`lstmexp claims`) enqueues its own list of configurations instead of sampling
    # every mix of the searched values, so only each value alone is checked up front, not the corners.
    designed: bool = False
    pruner: Pruner = "median"
    space: SpaceSpec = SpaceSpec()
    objectives: tuple[ObjectiveName, ...] = (LOSS_OBJECTIVE,)
    constraints: ConstraintSpec = ConstraintSpec()
    # The sampler's seed (null: train.seed), to vary the search without changing what trials learn.
    seed: Seed | None = None
    # Stop after this many trials in a row failed without a result (they never count toward `trials`).
    max_consecutive_failures: Annotated[int, within("search.max_consecutive_failures")] = 10
    # Whole-study budgets, checked between trials: wall minutes of this run, and CPU minutes summed
    # over the study's trials (every worker's, resumed runs included). null: no budget.
    max_minutes: Annotated[float, within("search.max_minutes")] | None = None
    max_cpu_minutes: Annotated[float, within("search.max_cpu_minutes")] | None = None
    # Keep the trained weights (and scaler) of the best k configurations beside the storage; 0: none.
    keep_best: Annotated[int, within("search.keep_best")] = 3

    @field_validator("objectives", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _grid_fits(self) -> SearchSpec:
        points = math.prod(self.space.size(name).size() for name in SEARCHED_PARAMS)
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
                "optuna/optuna#3450); set -o search.pruner=none or keep a single objective"
            )
        if self.pruner != "none" and self.objectives != (LOSS_OBJECTIVE,):
            raise ValueError(
                f"pruner {self.pruner!r} prunes on the val loss, so it needs objectives: [val_loss]; "
                "set -o search.pruner=none to optimise other objectives"
            )
        return self


class SpecSections(Section):
    """The fields of a whole spec and what reading them needs (the sizes, a copy with a setting changed).

    The checks that span sections are ExperimentSpec's: they ask `lstmexp.spec.searchable` about the
    searched values, which reads specs through this class, so the two never import each other."""

    study: Annotated[str, Field(pattern=STUDY_NAME_PATTERN)] = "default"
    storage: str | None = None
    data: DataSpec = DataSpec()
    model: ModelSpec = ModelSpec()
    train: TrainSpec = TrainSpec()
    search: SearchSpec = SearchSpec()

    def sizes(self) -> dict[str, int]:
        """The sizes this spec trains with, by their short names (a trial's spec: the sampled ones)."""
        return {"batch_size": self.train.batch_size, "time_step": self.data.time_step,
                "hidden_size": self.model.hidden_size}

    def with_normalization(self, normalization: str) -> Self:
        """This spec with data.normalization set (one trial's searched choice)."""
        return self.model_copy(update={"data": self.data.model_copy(update={"normalization": normalization})})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (stored on the study so the report can reproduce trials)."""
        return self.model_dump(mode="json")
