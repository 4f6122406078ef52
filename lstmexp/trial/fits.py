"""Whether a configuration can run here and measure something, asked before any training starts.

`lstmexp run` trains the one configuration its flags name: its weights and activations must fit this
machine's memory, its batch must not be larger than the training windows (every batch would then be
all of them, and the figures would be labelled with a batch size never used), and its run must last
longer than the warm-up the throughput leaves out. A search checks the warm-up against its longest
run (smallest batch, shortest window, most epochs): when even that one cannot measure, nothing can.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from lstmexp.bounds import largest_fitting_hidden, training_state_bytes
from lstmexp.errors import SpecError
from lstmexp.measure import estimate_activation_bytes
from lstmexp.spec.base import machine_memory
from lstmexp.spec.searchable import extreme
from lstmexp.training.loop import TrainConfig
from lstmexp.units import format_bytes

if TYPE_CHECKING:
    from lstmexp.data import Series
    from lstmexp.spec import ExperimentSpec


def check_run_fits(spec: ExperimentSpec, series: Series) -> None:
    """SpecError naming the flag to change when `lstmexp run`'s configuration cannot run or measure here."""
    layers, memory = spec.model.num_layers, machine_memory()
    batch_size, time_step, hidden_size = spec.train.batch_size, spec.data.time_step, spec.model.hidden_size
    state = training_state_bytes(hidden_size, layers)
    if state > memory:
        raise SpecError(
            f"--hidden-size {hidden_size} with {layers} layers needs {format_bytes(state)} for weights, "
            f"gradients and optimizer state; this machine has {format_bytes(memory)}: use at most "
            f"--hidden-size {largest_fitting_hidden(layers, memory)}"
        )
    activations = estimate_activation_bytes(
        batch_size, time_step, hidden_size, layers, series.input_size
    )
    if state + activations > memory:
        raise SpecError(
            f"--batch-size {batch_size} --time-step {time_step} --hidden-size {hidden_size} "
            f"needs at least {format_bytes(state + activations)} to train; this machine has {format_bytes(memory)}: "
            "lower --batch-size or --time-step"
        )
    source = TrainConfig.from_spec(spec, spec.train.seed).batch_source(series)
    if not spec.train.stateful and batch_size > source.samples_per_epoch:
        raise SpecError(
            f"--batch-size {batch_size} is more than the {source.samples_per_epoch} training windows of "
            f"--time-step {time_step}: every batch would hold all of them; use at most "
            f"--batch-size {source.samples_per_epoch}"
        )
    check_warmup_ends(source.iterations, spec.train.epochs, spec.train.warmup_iters,
                      f"--batch-size {batch_size}")


def check_search_fits(spec: ExperimentSpec, series: Series, batch_size: int, time_step: int) -> None:
    """The search's longest run (its smallest `batch_size` and shortest `time_step`, with the most epochs
    searched) must outlast the warm-up: when even it cannot measure a steady step, no trial can.

    A shorter run whose steps the warm-up would all take keeps its last step measured, and its
    `warmup_iters` figure says how many steps were left out (as `train.max_samples` budgets do).
    """
    config = replace(TrainConfig.from_spec(spec, spec.train.seed), batch_size=batch_size, time_step=time_step)
    source = config.batch_source(series)
    epochs = int(extreme(spec, "train.epochs"))
    warmup = int(extreme(spec, "train.warmup_iters", highest=False))
    check_warmup_ends(source.iterations, epochs, warmup, f"batch_size {batch_size}")


def check_warmup_ends(iterations: int, epochs: int, warmup: int, batch: str) -> None:
    """The warm-up steps are left out of the throughput: a run no longer than them would measure nothing."""
    steps = iterations * epochs
    if warmup >= steps:
        raise SpecError(
            f"train.warmup_iters {warmup} is not below the {steps} training steps of {batch} ({epochs} epochs of "
            f"{iterations} steps): no step would be measured; use -o train.warmup_iters={max(steps - 1, 0)} or "
            "less, or more epochs"
        )
