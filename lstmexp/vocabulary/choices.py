"""The vocabulary: every name a user may choose from, listed once.

spec (pydantic models), cli (click choices), search (sampler/pruner/objective registries) and the
report all read these, so a new sampler or format is added in one place. Each choice is a
`Literal` type (what mypy and pydantic check) and the tuple of its values (what click and error
messages list) is derived from it. Standard library only: `lstmexp --help` imports this module.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, get_args

from lstmexp.vocabulary.names import PEAK_MEM_BYTES, SAMPLES_PER_S, TIME_TO_TARGET_S, TRAIN_S_PER_EPOCH, VAL_LOSS_BEST

# The three parameters every study searches (the questions lstmexp answers), in report order.
SearchedParam = Literal["batch_size", "time_step", "hidden_size"]
SEARCHED_PARAMS: tuple[str, ...] = get_args(SearchedParam)
# Each size is a field of the section it belongs to (batches are how training feeds the optimiser, the
# window is how the data is cut, beside data.horizon, and the width is the model's), searched by that
# path like every other field; studies keep the short names as their Optuna parameter names.
SIZE_PATHS: dict[str, str] = {"batch_size": "train.batch_size", "time_step": "data.time_step",
                              "hidden_size": "model.hidden_size"}

Sampler = Literal["tpe", "random", "grid", "gp", "nsga2", "qmc"]
SAMPLERS: tuple[str, ...] = get_args(Sampler)

Pruner = Literal["median", "hyperband", "successive-halving", "none"]
PRUNERS: tuple[str, ...] = get_args(Pruner)

# What a study may optimise: every one is measured on the training or validation rows, never the test set.
ObjectiveName = Literal["val_loss", "samples_per_s", "s_per_epoch", "peak_memory", "time_to_target"]
OBJECTIVES: tuple[str, ...] = get_args(ObjectiveName)
LOSS_OBJECTIVE: ObjectiveName = "val_loss"  # the default objective: the best val loss, lower is better

Direction = Literal["minimize", "maximize"]

# Where `--log-to` sends each trial (imported only when asked for).
LogTarget = Literal["mlflow", "tensorboard"]
LOG_TARGETS: tuple[str, ...] = get_args(LogTarget)


class Goal(NamedTuple):
    """What an objective reads (the trial's recorded figure) and which way is better."""

    metric: str
    direction: Direction


OBJECTIVE_GOALS: dict[ObjectiveName, Goal] = {
    "val_loss": Goal(VAL_LOSS_BEST, "minimize"),
    "samples_per_s": Goal(SAMPLES_PER_S, "maximize"),
    "s_per_epoch": Goal(TRAIN_S_PER_EPOCH, "minimize"),
    "peak_memory": Goal(PEAK_MEM_BYTES, "minimize"),
    "time_to_target": Goal(TIME_TO_TARGET_S, "minimize"),
}

ReportFormat = Literal["table", "markdown", "html", "csv", "json"]
REPORT_FORMATS: tuple[str, ...] = get_args(ReportFormat)

# Mixed precision: bf16 (CPU or GPU) or fp16 (CUDA only); no amp means float32.
AmpMode = Literal["bf16", "fp16"]
AMP_MODES: tuple[str, ...] = get_args(AmpMode)

# Per-window input normalisation: none; last (predict the change from the window's last value, as
# NLinear does); revin (per-window mean and std, restored on the output).
Normalization = Literal["none", "last", "revin"]
NORMALIZATIONS: tuple[str, ...] = get_args(Normalization)

Scaling = Literal["standard", "minmax", "none"]
SCALINGS: tuple[str, ...] = get_args(Scaling)

# S: target in, target out; M: all features in, all out; MS: all features in, target out.
DataMode = Literal["S", "M", "MS"]
DATA_MODES: tuple[str, ...] = get_args(DataMode)

# The model's options beside the sizes: the activation after the chunk embedding; channels joint (one
# sample per window, all columns together) or independent (each channel its own sample through the
# same network); the head: linear (from the last hidden state) or segment (SegRNN-style decoding);
# the skip beside the LSTM: none, or linear (the window's steps mapped straight to the horizon's, added).
ChunkActivation = Literal["none", "relu", "tanh", "gelu"]
CHUNK_ACTIVATIONS: tuple[str, ...] = get_args(ChunkActivation)
ChannelMode = Literal["joint", "independent"]
CHANNEL_MODES: tuple[str, ...] = get_args(ChannelMode)
HeadKind = Literal["linear", "segment"]
HEAD_KINDS: tuple[str, ...] = get_args(HeadKind)
SkipKind = Literal["none", "linear"]
SKIP_KINDS: tuple[str, ...] = get_args(SkipKind)

Fill = Literal["none", "ffill", "linear", "time"]
FILLS: tuple[str, ...] = get_args(Fill)

# How a searched int range is sampled: evenly, log-uniformly, or only its powers of two (C9).
Scale = Literal["linear", "log", "pow2"]
SCALES: tuple[str, ...] = get_args(Scale)

# Devices: auto (CUDA when available), cpu, cuda, cuda:N or mps.
DEVICE_PATTERN = r"^(auto|cpu|cuda(:\d+)?|mps)$"
