"""The claims design: one-factor-at-a-time arms around a centre configuration chosen for the data.

Each arm varies one setting (two for the crossed sequence arm) while the others stay at the centre,
and every setting is trained with several seeds, so each claim's effect gets an interval. The
centre comes from the data: time_step from the train split's length, batch_size from the number of
windows it gives (`centre_for`). A setting shared by several arms (the centre) is trained once per
seed and counted in each. The chunks arm feeds a long window in chunks (`model.chunk`), so every time
step of the design is a multiple of its chunk (the spec refuses a chunk that does not divide one).
The design is sized to a CPU budget from a cost model of one training step (`step_seconds`), scaled
by a calibration measured on the data (`calibrate`): fewer seeds, then fewer epochs, then the
costliest settings of the longest arms, each change written in `notes`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

HIDDEN = 32  # small and cheap: the claims are about batch and time, not width
SEEDS, MIN_SEEDS = 3, 2
EPOCHS, MIN_EPOCHS = 4, 2
BATCHES = (1, 4, 8, 16, 24, 32, 48, 64, 96, 128, 256)  # 24, 48, 96 sit between powers of two (C9)
TIME_STEPS = (2, 4, 8, 16, 32, 64, 128, 256)
LR_FACTORS = (1 / 3, 1.0, 3.0)
LR_SMALL_BATCH = 8  # the smallest batch whose lr is co-tuned (smaller ones cost the most per epoch)
STATEFUL_BATCHES = (1, 8)
# The short series of the sequence arm: the last 1/8 of the train rows, or 1/4 or 1/2 when a short
# series (a yearly one of a few hundred rows) leaves too few windows for the long time step in an eighth.
SHORT_SHARES = (8, 4, 2)
# One training step's CPU seconds at hidden 32, one thread (measured here, torch 2.13 CPU): a fixed
# cost plus work per time step that grows with the batch; scaled per data set by `calibrate`.
STEP_FIXED_S, STEP_PER_T_S, STEP_PER_BT_S = 1.0e-3, 6.0e-5, 1.2e-6
TRIAL_FIXED_S = 0.8  # probe, tensor peak, evaluation and the study's writes, per trial
BUDGET_SHARE = 0.85  # the design is sized to this share of the budget; the rest is margin
# The chunks arm (C12): a window CHUNK times the centre's, fed as chunks of CHUNK steps, so its LSTM runs
# as many steps as the centre's. model.chunk must divide every searched time_step, so with the arm
# every time step of the design is a multiple of the chunk.
CHUNK = 4


@dataclass(frozen=True)
class Setting:
    """One configuration of the design (the seed is added per trial)."""

    batch_size: int
    time_step: int
    lr: float
    stateful: bool = False
    train_rows: int | None = None  # the train rows used (the sequence arm's short series), None: all
    chunk: int = 1  # window steps per LSTM step (model.chunk); 1: every step fed as it is

    def params(self, train_rows: int, searched_rows: bool, searched_chunks: bool = False) -> dict[str, Any]:
        """The trial's parameters as the study's search space names them."""
        values: dict[str, Any] = {"batch_size": self.batch_size, "time_step": self.time_step, "hidden_size": HIDDEN,
                                  "train.lr": self.lr, "train.stateful": self.stateful}
        if searched_rows:
            values["data.train_last_rows"] = self.train_rows or train_rows
        if searched_chunks:
            values["model.chunk"] = self.chunk
        return values

    @property
    def key(self) -> str:
        # chunk 1 is left out, so a study stored before the chunks arm keeps the keys its trials carry
        values = {k: v for k, v in asdict(self).items() if k != "chunk" or v != 1}
        return json.dumps(values, sort_keys=True)


@dataclass(frozen=True)
class Arm:
    name: str
    claims: tuple[str, ...]
    varies: str  # in words
    settings: tuple[Setting, ...] = ()
    pending: str = ""  # why it cannot run here, and what would make it run


@dataclass(frozen=True)
class DataFacts:
    """What the design needs to know of the data (measured on the loaded series)."""

    train_rows: int
    horizon: int
    input_size: int
    stateful_fits: bool  # the train split holds a stream per stateful batch row


@dataclass
class Design:
    facts: DataFacts
    centre: Setting
    why_centre: list[str]
    arms: list[Arm]
    seeds: int = SEEDS
    epochs: int = EPOCHS
    notes: list[str] = field(default_factory=list)
    estimate_cpu_s: float = 0.0
    budget_cpu_s: float = 0.0

    def settings(self) -> dict[str, tuple[Setting, list[str]]]:
        """Every distinct setting with the arms it belongs to."""
        found: dict[str, tuple[Setting, list[str]]] = {}
        for arm in self.arms:
            for setting in arm.settings:
                found.setdefault(setting.key, (setting, []))[1].append(arm.name)
        return found

    @property
    def trials(self) -> int:
        return len(self.settings()) * self.seeds

    def to_attr(self) -> dict[str, Any]:
        """The design as the study stores it (what the report reads back)."""
        return {"centre": asdict(self.centre), "why_centre": self.why_centre, "seeds": self.seeds,
                "epochs": self.epochs, "notes": self.notes, "estimate_cpu_s": self.estimate_cpu_s,
                "budget_cpu_s": self.budget_cpu_s, "facts": asdict(self.facts),
                "arms": [{"name": a.name, "claims": list(a.claims), "varies": a.varies, "pending": a.pending,
                          "settings": [asdict(s) for s in a.settings]} for a in self.arms]}


def power_of_two_at_most(value: float) -> int:
    return int(2 ** max(0, math.floor(math.log2(max(value, 1)))))


def centre_for(facts: DataFacts, lr: float) -> tuple[Setting, list[str]]:
    """time_step: a power of two up to 32 with at least 50 train rows per step; batch_size: a power of
    two up to 64 giving at least 100 iterations per epoch (at least 2)."""
    time_step = max(2, min(32, power_of_two_at_most(facts.train_rows / 50)))
    windows = facts.train_rows - time_step - facts.horizon + 1
    batch = max(2, min(64, power_of_two_at_most(windows / 100)))
    why = [f"time_step {time_step}: the largest power of two up to 32 with at least 50 of the "
           f"{facts.train_rows:,} train rows per step",
           f"batch_size {batch}: the largest power of two up to 64 giving at least 100 iterations per epoch "
           f"over the {windows:,} train windows",
           f"hidden_size {HIDDEN}, lr {lr:g} (the spec's), stateless, one torch thread (speed judged by its own clock)"]
    return Setting(batch, time_step, lr), why


def windows_of(facts: DataFacts, time_step: int, rows: int | None = None) -> int:
    return (rows or facts.train_rows) - time_step - facts.horizon + 1


def build_arms(facts: DataFacts, centre: Setting) -> list[Arm]:
    windows = windows_of(facts, centre.time_step)
    batches = tuple(b for b in BATCHES if b <= windows // 2)
    small = next((b for b in batches if b >= LR_SMALL_BATCH), batches[0])  # still "very small" for C8
    lr_batches = tuple(dict.fromkeys((small, centre.batch_size, batches[-1])))
    chunks = chunks_arm(facts, centre)
    unit = max((s.chunk for s in chunks.settings), default=1)  # every time step a multiple of the chunk
    steps = tuple(t for t in TIME_STEPS if t <= facts.train_rows // 8 and t % unit == 0)
    return [
        Arm("batch", ("C5", "C6", "C7", "C8", "C9"), "batch_size from 1 up, powers of two and between",
            tuple(replace(centre, batch_size=b) for b in batches)),
        Arm("batch_lr", ("C7", "C8"), "batch_size × lr (each batch size at its own best lr)",
            tuple(replace(centre, batch_size=b, lr=float(f"{centre.lr * f:.3g}")) for b in lr_batches
                  for f in LR_FACTORS)),
        Arm("time_step", ("C4", "C10", "C11", "C12"), "time_step short to long",
            tuple(replace(centre, time_step=t) for t in steps)),
        chunks,
        sequence_arm(facts, centre, unit),
        stateful_arm(facts, centre),
    ]


def chunk_for(centre: Setting) -> int:
    """The chunk: CHUNK, or the centre's time_step when that is shorter (the chunk must divide it)."""
    return min(CHUNK, centre.time_step)


def chunks_arm(facts: DataFacts, centre: Setting) -> Arm:
    """C12 (and C10's chunk half): a long window (chunk × the centre's time_step) fed in chunks, so its LSTM
    runs the centre's number of steps, against the same window per step and against the centre's short one."""
    chunk = chunk_for(centre)
    long_t = centre.time_step * chunk
    name, claims, varies = "chunks", ("C10", "C12"), f"time_step {long_t} in chunks of {chunk} vs per step"
    if long_t > facts.train_rows // 8 or windows_of(facts, long_t) < 2 * centre.batch_size:
        return Arm(name, claims, varies, pending=(
            f"a window of {long_t} steps (chunks of {chunk}) needs at least 8 train rows per step; the train split "
            f"has {facts.train_rows:,}: about {8 * long_t:,} train rows would make it testable"))
    long = replace(centre, time_step=long_t)
    return Arm(name, claims, varies, (replace(long, chunk=chunk), long, centre))


def sequence_arm(facts: DataFacts, centre: Setting, unit: int = 1) -> Arm:
    """C13: a short series (the last 1/8 of the train rows, 1/4 or 1/2 on a short series) and the whole one,
    crossed with a small and a large batch and a short and a long time step (multiples of `unit`)."""
    short_t, long_t = max(2, unit, centre.time_step // 4), centre.time_step * 2
    small_b, large_b = 4, max(16, centre.batch_size * 2)
    name, claims, varies = "sequence", ("C13",), "a short vs the whole series × batch_size × time_step"
    fits = [share for share in SHORT_SHARES if windows_of(facts, long_t, facts.train_rows // share) >= 2 * large_b]
    if not fits:
        need = (2 * large_b + long_t + facts.horizon) * SHORT_SHARES[-1]
        return Arm(name, claims, varies, pending=(
            f"the train split's {facts.train_rows:,} rows leave a short series (half of them) too short for "
            f"time_step {long_t} at batch_size {large_b}; about {need:,} train rows would make it testable"))
    short_rows = facts.train_rows // fits[0]
    settings = tuple(Setting(b, t, centre.lr, train_rows=rows) for rows in (short_rows, None)
                     for b in (small_b, large_b) for t in (short_t, long_t))
    return Arm(name, claims, varies, settings)


def stateful_arm(facts: DataFacts, centre: Setting) -> Arm:
    name, claims, varies = "stateful", ("C14",), "stateful at batch 1 vs > 1, beside stateless"
    if not facts.stateful_fits:
        return Arm(name, claims, varies, pending=(
            f"stateful training needs a series with rows for {max(STATEFUL_BATCHES)} streams; "
            "a file or the synthetic dataset with more train rows makes it testable"))
    settings = tuple(replace(centre, batch_size=b, stateful=s) for s in (True, False) for b in STATEFUL_BATCHES)
    return Arm(name, claims, varies, settings)


def step_seconds(batch: int, time_step: int) -> float:
    return STEP_FIXED_S + time_step * (STEP_PER_T_S + STEP_PER_BT_S * batch)


def trial_seconds(setting: Setting, facts: DataFacts, epochs: int, scale: float) -> float:
    """CPU seconds one trial of `setting` is expected to take."""
    rows = setting.train_rows or facts.train_rows
    if setting.stateful:  # streams of chunks: a step per time_step rows of each stream
        steps = math.ceil(rows / (setting.batch_size * setting.time_step))
    else:
        steps = math.ceil(max(windows_of(facts, setting.time_step, rows), 1) / setting.batch_size)
    lstm_steps = setting.time_step // setting.chunk  # a chunked window runs T/S LSTM steps (the embedding is cheap)
    return TRIAL_FIXED_S + epochs * steps * step_seconds(setting.batch_size, lstm_steps) * scale


def estimate(design: Design, scale: float) -> float:
    facts = design.facts
    return design.seeds * sum(trial_seconds(s, facts, design.epochs, scale) for s, _ in design.settings().values())


def fit_budget(design: Design, budget_s: float, scale: float) -> Design:
    """Shrink the design until its estimate fits BUDGET_SHARE of the budget; say what changed."""
    limit = BUDGET_SHARE * budget_s
    while estimate(design, scale) > limit and design.seeds > MIN_SEEDS:
        design.seeds -= 1
        design.notes.append(f"{design.seeds} seeds per setting instead of {SEEDS} (CPU budget)")
    while estimate(design, scale) > limit and design.epochs > MIN_EPOCHS:
        design.epochs -= 1
        design.notes.append(f"{design.epochs} epochs per trial instead of {EPOCHS} (CPU budget)")
    while estimate(design, scale) > limit and drop_costliest(design, scale):
        pass
    design.estimate_cpu_s, design.budget_cpu_s = estimate(design, scale), budget_s
    return design


def drop_costliest(design: Design, scale: float) -> bool:
    """Drop the costliest non-centre setting of an arm that keeps at least 4; False when none can go.

    A setting another arm also trains is never dropped: it would still be trained, so nothing is saved."""
    facts = design.facts
    shared = {key for key, (_, arms) in design.settings().items() if len(arms) > 1}
    candidates = [(trial_seconds(s, facts, design.epochs, scale), index, s)
                  for index, arm in enumerate(design.arms) if len(arm.settings) > 4
                  for s in arm.settings if s != design.centre and s.key not in shared]
    if not candidates:
        return False
    _, index, setting = max(candidates, key=lambda c: c[0])
    arm = design.arms[index]
    design.arms[index] = replace(arm, settings=tuple(s for s in arm.settings if s != setting))
    design.notes.append(f"arm {arm.name}: left out {described(setting)} (the costliest setting, CPU budget)")
    return True


def described(setting: Setting) -> str:
    """The setting in words: its sizes and lr, and what sets it apart (short series, chunks, stateful)."""
    words = [f"batch_size {setting.batch_size}", f"time_step {setting.time_step}", f"lr {setting.lr:g}"]
    if setting.train_rows is not None:
        words.append(f"the short series ({setting.train_rows:,} train rows)")
    if setting.chunk > 1:
        words.append(f"in chunks of {setting.chunk}")
    if setting.stateful:
        words.append("stateful")
    return ", ".join(words)


def make_design(facts: DataFacts, lr: float, budget_s: float, scale: float = 1.0) -> Design:
    centre, why = centre_for(facts, lr)
    design = Design(facts, centre, why, build_arms(facts, centre))
    return fit_budget(design, budget_s, scale)
