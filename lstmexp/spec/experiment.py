"""The whole experiment: every section validated, then the checks that span sections."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from lstmexp.bounds import largest_fitting_hidden, training_state_bytes
from lstmexp.spec.base import machine_memory
from lstmexp.spec.extremes import check_fillings
from lstmexp.spec.searchable import check_fields, chunk_problem, extreme, possible_values
from lstmexp.spec.sections import ConstraintSpec, ModelSpec, SearchSpec, SpecSections, TrainSpec
from lstmexp.spec.space import collect_fields
from lstmexp.units import format_bytes
from lstmexp.vocabulary.choices import SIZE_PATHS

__all__ = ["ConstraintSpec", "ExperimentSpec", "ModelSpec", "SearchSpec", "TrainSpec"]


class ExperimentSpec(SpecSections):
    """The whole experiment, validated: every section's own rules, then the rules that span sections."""

    @model_validator(mode="before")
    @classmethod
    def _sizes_set_in_their_sections(cls, raw: Any) -> Any:
        """A size set in its section (`train.batch_size: 64`) and not named in the search space is that
        one value, as `search.space.batch_size: 64` is: a search never overrides a size the spec sets."""
        if not isinstance(raw, dict):
            return raw
        search = raw.get("search") or {}
        space = search.get("space") if isinstance(search, dict) else None
        if space is not None and not isinstance(space, dict):
            return raw  # not a mapping: the space's own validation words the error
        collected = collect_fields(space or {})
        fixed = {path: {"values": [raw[head][name]]} for path in SIZE_PATHS.values()
                 for head, _, name in [path.partition(".")]
                 if isinstance(raw.get(head), dict) and name in raw[head] and path not in collected["fields"]}
        if not fixed:
            return raw
        collected["fields"].update(fixed)
        return {**raw, "search": {**search, "space": collected}}

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
        smallest = self.search.space.size("batch_size").lowest
        needed = (self.train.warmup_iters + 1) * smallest
        if self.train.max_samples is not None and self.train.max_samples < needed:
            raise ValueError(
                f"train.max_samples {self.train.max_samples} ends before measurement starts: "
                f"{self.train.warmup_iters} warm-up steps plus one of batch_size {smallest} need {needed}; "
                "raise max_samples or lower train.warmup_iters"
            )
        return self

    @model_validator(mode="after")
    def _searched_fields_valid(self) -> ExperimentSpec:
        check_fields(self)
        problem = chunk_problem(self)  # over every searched pair: its fix names the searched chunks, not one value
        if problem:
            raise ValueError(problem)
        check_fillings(self)  # each value a trial may get, filled in: the rules that span sections see it
        return self

    @model_validator(mode="after")
    def _weights_fit_the_machine(self) -> ExperimentSpec:
        """The largest model's weights, gradients and optimizer state must fit in memory.

        After the searched fields' checks: the largest searched num_layers is then known to be valid.
        """
        hidden, layers = self.search.space.size("hidden_size").highest, int(extreme(self, "model.num_layers"))
        needed, memory = training_state_bytes(hidden, layers), machine_memory()
        if needed > memory:
            raise ValueError(
                f"hidden_size {hidden} with {layers} layers needs {format_bytes(needed)} for weights, gradients and "
                f"optimizer state; this machine has {format_bytes(memory)}: lower search.space.hidden_size to at "
                f"most {largest_fitting_hidden(layers, memory)} (one run: use at most --hidden-size "
                f"{largest_fitting_hidden(layers, memory)}) or use fewer layers"
            )
        return self

    @model_validator(mode="after")
    def _channels_fit_the_data(self) -> ExperimentSpec:
        if "independent" in possible_values(self, "model.channels") and self.data.mode == "MS":
            raise ValueError(
                "model.channels=independent predicts every input channel from its own past, but data.mode MS has "
                "inputs that are not targets; use -o model.channels=joint, or -o data.mode=M to predict every column"
            )
        return self

    @model_validator(mode="after")
    def _stateful_runs_per_step(self) -> ExperimentSpec:
        if not self.train.stateful:
            return self
        per_step = {"model.chunk": 1, "model.head": "linear", "model.channels": "joint", "model.head_dropout": 0.0,
                    "model.skip": "none"}
        for path, plain in per_step.items():
            if set(possible_values(self, path)) != {plain}:
                raise ValueError(f"train.stateful feeds one row per LSTM step through the linear head: "
                                 f"use -o {path}={plain} (or -o train.stateful=false)")
        return self

    @model_validator(mode="after")
    def _stateful_has_no_windows(self) -> ExperimentSpec:
        searched = set(self.search.space.normalization or ())
        if self.train.stateful and (self.data.normalization != "none" or searched - {"none"}):
            raise ValueError("train.stateful walks streams, not windows: set -o data.normalization=none")
        return self
