"""The range of every number a user may give (spec field, searched range, flag), and why: listed once.

The spec's fields (pydantic, `lstmexp.spec.base.within`), searched ranges (`lstmexp.spec.searchable`)
and the command-line flags (`lstmexp.cli.launch.BoundedNumber`) all read this table, so a bound and its
reason are written in one place; docs/safety.md tabulates them. Every upper bound keeps a typo (an
extra digit, `2^63`) from hanging a run, allocating terabytes or measuring nonsense, and stays far
above any value a real experiment uses. Standard library only: `lstmexp --help` imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isqrt


@dataclass(frozen=True)
class Bound:
    low: float
    high: float
    why: str
    low_open: bool = False  # low itself is excluded (a learning rate of 0 learns nothing)
    integer: bool = True


def _int(high: int, why: str, low: int = 1) -> Bound:
    return Bound(low, high, why)


def _float(high: float, why: str, low: float = 0.0, low_open: bool = True) -> Bound:
    return Bound(low, high, why, low_open=low_open, integer=False)


# The largest batch_size, time_step or hidden_size: beyond it nothing fits any machine (a hidden size
# of 2^20 alone needs 128 TiB of weights), and a range up to 10**18 would make a grid of that many points.
MAX_SIZE = 2**20
# The most points a grid search may enumerate (Optuna's GridSampler lists every combination).
MAX_GRID_POINTS = 10**6
# Seeds reach torch, numpy (0 <= seed < 2**32) and Optuna's samplers plus per-worker and per-repeat
# offsets: below 2**31 leaves room for those offsets within every library's range.
MAX_SEED = 2**31 - 1
MAX_TRIALS = 100_000
MAX_ROWS = 10**9

_SIZE = "beyond 2^20 nothing fits any machine: the weights of hidden_size 2^20 alone take 128 TiB"
_ROWS = "a loaded row takes at least 256 bytes: 10^9 rows are 256 GB (the machine's memory is checked too)"
_SEED = "every library's seed range, with room for per-worker and per-repeat offsets"
_TRIALS = ("Optuna's samplers read every trial for each suggestion and each trial stores hundreds of rows: "
           "past 10^5 the study, not the training, is the work")

BOUNDS: dict[str, Bound] = {
    "train.batch_size": _int(MAX_SIZE, _SIZE),
    "data.time_step": _int(MAX_SIZE, _SIZE),
    "model.hidden_size": _int(MAX_SIZE, _SIZE),
    "data.sequence_length": _int(MAX_SIZE, "the window length of an episode task, bounded like time_step"),
    "data.rows": _int(MAX_ROWS, _ROWS),
    "data.split.rows.train": _int(MAX_ROWS, _ROWS),
    "data.train_last_rows": _int(MAX_ROWS, _ROWS),
    "data.split.rows.val": _int(MAX_ROWS, _ROWS),
    "data.split.rows.test": _int(MAX_ROWS, _ROWS),
    "data.horizon": _int(2**16, "the output layer holds hidden_size x horizon weights per target and every "
                                "window needs time_step + horizon rows"),
    "data.seed": _int(MAX_SEED, _SEED, low=0),
    "model.chunk": _int(MAX_SIZE, "a chunk is part of one window, so it is bounded like time_step (and divides it)"),
    "model.num_layers": _int(64, "each layer is one more LSTM pass over every time step, one after another: "
                                 "past 64 an epoch takes hours, and 50,000 layers never finish"),
    "train.epochs": _int(100_000, "epochs run one after another; bound a long run's time with train.max_seconds"),
    "train.patience": _int(100_000, "epochs without improvement before training stops; as train.epochs, the cap"),
    "train.warmup_iters": _int(10_000, "the steps left out of the throughput; they must also end before the run "
                                       "does", low=0),
    "train.repeats": _int(100, "each repeat trains the configuration again: 100 seeds pin its mean to a tenth "
                               "of the seed spread"),
    "train.threads": _int(1024, "also at most 4 per usable core; torch aborts at 20,000 threads"),
    "train.max_samples": _int(10**12, "10^12 samples are 11 days at a million samples a second"),
    "train.seed": _int(MAX_SEED, _SEED, low=0),
    "train.lr": _float(10.0, "Adam moves every weight by about lr per step: past 10 a trial can only diverge"),
    "train.lr_decay": _float(1.0, "a factor per epoch: 1 keeps the rate, above 1 it grows without end, 0 stops "
                                  "learning after the first epoch"),
    "train.weight_decay": _float(1.0, "Adam adds weight_decay x weight to every gradient: past 1 it outweighs "
                                      "the data (and 1e308 overflows to inf)", low_open=False),
    "train.grad_clip": _float(1e6, "a gradient norm past 10^6 has diverged already, so a larger clip "
                                   "clips nothing: leave it out"),
    "train.max_seconds": _float(30 * 24 * 3600.0, "30 days per trial; bound a whole study with "
                                                  "search.max_minutes"),
    "train.target_val_loss": _float(1e6, "a val loss on scaled data: standard-scaled series start near 1"),
    "search.trials": _int(MAX_TRIALS, _TRIALS),
    "search.max_consecutive_failures": _int(MAX_TRIALS, "as search.trials"),
    "search.keep_best": _int(1000, "each kept configuration is a weights file beside the storage", low=0),
    "search.seed": _int(MAX_SEED, _SEED, low=0),
    "search.max_minutes": _float(525_600.0, "one year of wall time"),
    "search.max_cpu_minutes": _float(52_560_000.0, "a year of 100 cores"),
    "search.constraints.min_samples_per_s": _float(1e12, "no device trains 10^12 samples a second"),
}


def bound_of(path: str) -> Bound | None:
    """The bound of a spec field by dotted path (`model.num_layers`, `train.batch_size`)."""
    return BOUNDS.get(path)


def shown(value: float) -> str:
    """A bound as the user would type it back: `64`, `10`, `0.5`, `2592000`."""
    if isinstance(value, int):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(float(value))


def outside(bound: Bound, value: float) -> str | None:
    """What is wrong with `value` against `bound` ("above the bound 64 (why)"), or None when it fits."""
    if value > bound.high:
        return f"{shown(value)} is above the bound {shown(bound.high)} ({bound.why})"
    too_low = value <= bound.low if bound.low_open else value < bound.low
    if too_low:
        relation = "above" if bound.low_open else "at least"
        return f"{shown(value)} is too small: it must be {relation} {shown(bound.low)}"
    return None


def limit_for(bound: Bound, value: float) -> str:
    """The end of the range `value` went past: what the fix should use instead."""
    return shown(bound.high) if value > bound.high else shown(bound.low)


def training_state_bytes(hidden_size: int, num_layers: int) -> int:
    """Weights, gradients and Adam's two moments of an LSTM, float32: 16 bytes for each of its
    4·H·(2H + 2) parameters a layer (the first layer's input taken as wide as H)."""
    return 16 * 4 * hidden_size * (2 * hidden_size + 2) * num_layers


def largest_fitting_hidden(num_layers: int, memory: int) -> int:
    """The largest hidden_size whose training state fits in `memory` bytes with `num_layers` layers."""
    hidden = max(1, isqrt(memory // (128 * num_layers)))
    while hidden > 1 and training_state_bytes(hidden, num_layers) > memory:
        hidden -= 1
    while training_state_bytes(hidden + 1, num_layers) <= memory:
        hidden += 1
    return hidden
