"""A trial's measurements apart from training: the speed probe (which chooses the thread count), the
tensor peak (`lstmexp.trial.run` runs them; `lstmexp.trial.metrics` puts their figures in the record)."""

from __future__ import annotations

import math

from torch import nn

from lstmexp.data import Series
from lstmexp.measure import (
    SpeedFigure,
    TensorPeak,
    measure_tensor_peak,
    probe_speed,
    remember_choice,
    thread_candidates,
)
from lstmexp.spec import ExperimentSpec
from lstmexp.training.loop import TrainConfig, Trainer


def probe_configuration(
    spec: ExperimentSpec, series: Series, model: nn.Module
) -> tuple[SpeedFigure, TensorPeak, str]:
    """The configuration's speed (its thread count chosen here, cached per shape) and tensor peak, from
    `model`, built for the probe alone: training's weights and random streams are left untouched."""
    config = TrainConfig.from_spec(spec, spec.train.seed)
    model_options = (spec.model.chunk, spec.model.channels, spec.model.head, spec.model.skip)
    shape = (spec.train.batch_size, spec.data.time_step, spec.model.hidden_size, spec.model.num_layers,
             series.input_size, spec.train.amp, spec.train.stateful, *model_options)
    candidates, policy = thread_candidates(spec.train.threads, shape)
    trainer = Trainer(model, series, config)
    next_batch, train_on = trainer.batch_steps()

    def step() -> int:
        return train_on(next_batch())

    steps = trainer.source.iterations * config.epochs
    if config.max_samples is not None:
        steps = min(steps, math.ceil(config.max_samples / config.batch_size))
    speed = probe_speed(step, series.device, candidates, steps)
    if len(candidates) > 1:
        remember_choice(shape, speed.threads)
    peak = measure_tensor_peak(trainer.model, trainer.optimizer, next_batch(), train_on, series.device)
    return speed, peak, policy
