"""One trial's record: typed sections of what it measured, stored in a few Optuna attributes, read by one reader.

A trial's figures are grouped in frozen sections (speed, contention, memory, accuracy, training,
curves, target, repeats, setup, environment, identity, failure). On the trial they are stored as
ONE JSON user attribute (`lstmexp_record`, with its schema version) beside the few headline figures
dashboards sort by as plain attributes (`names.HEADLINE`): every attribute is a statement
(a round trip on a database server), so the record is written once, not figure by figure.

`trial_figures` is the one reader: it turns any trial's user attributes into the flat figures the
report, the CLI and the integrations use, for trials written with the record and for those of
older lstmexp versions, which stored every figure as its own attribute. Standard library only.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from lstmexp.vocabulary import names

SCHEMA_VERSION = 1
# A field whose None means "not recorded" (left out of the figures) rather than "recorded, no value".
OPTIONAL = {"optional": True}


def plain(value: Any) -> Any:
    """A value as JSON and Optuna store it: NaN and infinities become None, numpy scalars Python ones."""
    if hasattr(value, "item") and not isinstance(value, list | tuple | dict):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


class Section:
    """A record section: its fields are figure names of the vocabulary, flattened as they are."""

    prefix: ClassVar[str] = ""

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            if value is None and item.metadata.get("optional"):
                continue
            out[self.prefix + item.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> Any:
        known = {item.name for item in dataclasses.fields(cls)}  # type: ignore[arg-type]
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in stored.items() if k in known}
        return cls(**values)


@dataclass(frozen=True)
class Speed(Section):
    samples_per_s: float | None  # the speed probe's median block rate (steady state)
    samples_per_s_spread: float | None
    samples_per_s_blocks: int
    samples_per_s_train: float | None  # training's own epoch-level throughput
    time_steps_per_s: float | None
    train_s_per_epoch: float | None
    eval_s_per_epoch: float | None
    iterations_per_epoch: int
    train_samples_per_epoch: int
    warmup_iters: int
    samples_seen: int
    flops_per_sample: float
    achieved_gflops: float | None
    peak_gflops: float | None
    hw_efficiency_pct: float | None
    wall_s: float
    # Which clock the figure came from (`lstmexp.measure.clocks`), both clocks' figures and whether they agree.
    samples_per_s_clock: str | None = None
    samples_per_s_wall: float | None = None
    samples_per_s_thread_cpu: float | None = None
    clocks_agree: bool | None = None
    samples_per_s_cv: float | None = field(default=None, metadata=OPTIONAL)  # widened when the clocks disagree
    rescued_from: str | None = field(default=None, metadata=OPTIONAL)  # the machine's reason, when a clock rescued


@dataclass(frozen=True)
class Contention(Section):
    contended: bool
    contention_reason: str | None
    cpu_share: float | None
    load_avg_1m: float | None
    other_cpu_frac: float | None
    steal_frac: float | None
    # The machine-wide rule's verdict (epoch timings are judged by it); `contended` is the speed figure's.
    machine_contended: bool | None = None
    machine_contention_reason: str | None = None


@dataclass(frozen=True)
class Memory(Section):
    peak_mem_bytes: int | None
    peak_mem_reserved_bytes: int | None
    peak_mem_method: str
    process_peak_bytes: int | None
    tensor_peak_bytes: int | None
    tensor_params_bytes: int | None
    tensor_grads_bytes: int | None
    tensor_optimizer_bytes: int | None
    tensor_activations_bytes: int | None
    activation_mem_est_bytes: int
    param_count: int
    process_peak_missing: str | None = field(default=None, metadata=OPTIONAL)
    tensor_peak_missing: str | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class SplitErrors(Section):
    """One split's errors: scaled and in the target's units, the naive forecast's, and the skill over it."""

    mse: float | None
    mae: float | None
    rmse: float | None
    mse_units: float | None
    mae_units: float | None
    rmse_units: float | None
    naive_mse: float | None
    naive_mse_units: float | None
    skill: float | None
    accuracy: float | None = field(default=None, metadata=OPTIONAL)  # classification tasks

    def of_split(self, split: str) -> dict[str, Any]:
        return {names.split_figure(split, key): value for key, value in self.figures().items()}


@dataclass(frozen=True)
class Accuracy(Section):
    val_loss_best: float | None
    val_loss_final: float | None
    train_loss_final: float | None
    test_loss: float | None
    val: SplitErrors
    test: SplitErrors

    def figures(self) -> dict[str, Any]:
        losses = {k: getattr(self, k) for k in (names.VAL_LOSS_BEST, names.VAL_LOSS_FINAL,
                                                 names.TRAIN_LOSS_FINAL, names.TEST_LOSS)}
        return {**losses, **self.val.of_split("val"), **self.test.of_split("test")}

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> Accuracy:
        return cls(
            **{k: stored.get(k) for k in (names.VAL_LOSS_BEST, names.VAL_LOSS_FINAL, names.TRAIN_LOSS_FINAL,
                                          names.TEST_LOSS)},
            val=SplitErrors.from_stored(stored["val"]),
            test=SplitErrors.from_stored(stored["test"]),
        )


@dataclass(frozen=True)
class Training(Section):
    epochs_run: int
    best_epoch: int
    stopped_early: bool
    budget_reached: bool
    grad_norm_mean: float | None
    grad_norm_max: float | None
    nonfinite_grad_frac: float | None
    patience_ran_out: bool | None = None  # early stopping on val loss ended it (train.patience)
    study_budget_cut: bool | None = None  # the study's CPU budget ended it (names.STUDY_BUDGET_CUT)


@dataclass(frozen=True)
class Curves(Section):
    """Per epoch of the first run."""

    prefix: ClassVar[str] = names.CURVE_PREFIX
    train_loss: tuple[float | None, ...]
    val_loss: tuple[float | None, ...]
    grad_norm_mean: tuple[float | None, ...]
    grad_norm_max: tuple[float | None, ...]


@dataclass(frozen=True)
class Target(Section):
    """When train.target_val_loss is set: how long until the val loss first reached it (None: never)."""

    time_to_target_s: float | None
    epochs_to_target: int | None


@dataclass(frozen=True)
class Repeats(Section):
    """train.repeats runs from consecutive seeds: the repeated figures are means, with their spread."""

    repeats: int
    spread: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)  # name -> (std, cv)

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {names.REPEATS: self.repeats}
        for name, (std, cv) in self.spread.items():
            std_key, cv_key = names.spread_keys(name)
            out[std_key], out[cv_key] = std, cv
        return out

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> Repeats:
        spread = {name: (pair[0], pair[1]) for name, pair in (stored.get("spread") or {}).items()}
        return cls(stored[names.REPEATS], spread)


@dataclass(frozen=True)
class Setup(Section):
    """How the data was fed (the report groups trials by it)."""

    stateful: bool
    mode: str
    horizon: int
    normalization: str
    chunk: int | None = None  # model.chunk: the LSTM ran time_step/chunk steps (lstm_steps)
    lstm_steps: int | None = None
    channels: str | None = None
    head: str | None = None
    skip: str | None = None  # model.skip: a linear map of the window added beside the LSTM, or none
    lookback: int | None = None
    train_targets: int | None = None  # the windows each split scores
    val_targets: int | None = None
    test_targets: int | None = None


@dataclass(frozen=True)
class Environment(Section):
    device: str
    torch_threads: int
    threads_policy: str


@dataclass(frozen=True)
class Identity(Section):
    """Which configuration the trial is, how to reproduce it, and what it cost."""

    config: str | None = field(default=None, metadata=OPTIONAL)
    reproduce: str | None = field(default=None, metadata=OPTIONAL)
    train_seed: int | None = field(default=None, metadata=OPTIONAL)
    repeat_of: int | None = field(default=None, metadata=OPTIONAL)
    not_applied: Mapping[str, str] | None = field(default=None, metadata=OPTIONAL)
    cpu_s: float | None = field(default=None, metadata=OPTIONAL)
    run: str | None = field(default=None, metadata=OPTIONAL)  # the search command (its id) that made the trial


@dataclass(frozen=True)
class Failure(Section):
    """A failure that is data (oom, diverged, infeasible), with what was measured before it."""

    failure_reason: str
    failure_detail: str
    peak_mem_bytes: int | None = field(default=None, metadata=OPTIONAL)
    activation_mem_est_bytes: int | None = field(default=None, metadata=OPTIONAL)

    @classmethod
    def of(cls, reason: str, detail: str, figures: Mapping[str, Any]) -> Failure:
        """From a TrialFailure's reason, detail and the figures measured before it."""
        return cls(reason, detail, figures.get(names.PEAK_MEM_BYTES), figures.get(names.ACTIVATION_MEM_EST_BYTES))


@dataclass(frozen=True)
class Measured:
    """What a trained configuration measured (every section but the identity)."""

    speed: Speed
    contention: Contention
    memory: Memory
    accuracy: Accuracy
    training: Training
    curves: Curves
    repeats: Repeats
    setup: Setup
    environment: Environment
    target: Target | None = None


SECTIONS: dict[str, type[Section]] = {
    "speed": Speed, "contention": Contention, "memory": Memory, "accuracy": Accuracy, "training": Training,
    "curves": Curves, "repeats": Repeats, "setup": Setup, "environment": Environment, "target": Target,
}


@dataclass(frozen=True)
class TrialRecord:
    """Everything one trial recorded: its measurements (None when it failed) or its failure, and its identity."""

    identity: Identity = Identity()
    measured: Measured | None = None
    failure: Failure | None = None

    def figures(self) -> dict[str, Any]:
        """The flat figures by their vocabulary names (curves as `curve_<name>` lists)."""
        out: dict[str, Any] = {}
        if self.measured is not None:
            for name in SECTIONS:
                section = getattr(self.measured, name)
                if section is not None:
                    out.update(section.figures())
        if self.failure is not None:
            out.update(self.failure.figures())
        out.update(self.identity.figures())
        return out

    def with_identity(self, **values: Any) -> TrialRecord:
        return dataclasses.replace(self, identity=dataclasses.replace(self.identity, **values))

    def stored(self) -> dict[str, Any]:
        """The JSON document of the record attribute (None fields kept: they were recorded without a value)."""
        doc: dict[str, Any] = {names.RECORD_SCHEMA: SCHEMA_VERSION,
                               "identity": plain(dataclasses.asdict(self.identity))}
        if self.measured is not None:
            for name in SECTIONS:
                section = getattr(self.measured, name)
                if section is not None:
                    doc[name] = plain(dataclasses.asdict(section))
        if self.failure is not None:
            doc["failure"] = plain(dataclasses.asdict(self.failure))
        return doc

    def attributes(self) -> dict[str, Any]:
        """The user attributes to write on the trial: the record, the headline figures, the failure reason."""
        figures = self.figures()
        attrs: dict[str, Any] = {names.RECORD: self.stored()}
        attrs.update({key: plain(figures[key]) for key in names.HEADLINE if key in figures})
        if self.failure is not None:
            attrs[names.FAILURE_REASON] = self.failure.failure_reason
        return attrs


def record_from_stored(doc: Mapping[str, Any]) -> TrialRecord:
    """The record back from its JSON document (fields a later schema added are ignored)."""
    identity = Identity.from_stored(doc.get("identity") or {})
    failure = Failure.from_stored(doc["failure"]) if doc.get("failure") else None
    measured = None
    if doc.get("speed") is not None:
        sections = {name: cls.from_stored(doc[name]) for name, cls in SECTIONS.items() if doc.get(name) is not None}
        measured = Measured(**sections)
    return TrialRecord(identity, measured, failure)


def trial_figures(user_attrs: Mapping[str, Any]) -> dict[str, Any]:
    """THE reader: a trial's flat figures from its user attributes, whichever lstmexp version wrote them.

    With a record: the plain attributes (worker, skipped, lost ...) and the record's figures. Without
    one (trials written before the record existed): every figure is a plain attribute already.
    """
    stored = user_attrs.get(names.RECORD)
    plain_attrs = {k: v for k, v in user_attrs.items() if k != names.RECORD}
    if not isinstance(stored, Mapping):
        return plain_attrs
    return {**plain_attrs, **record_from_stored(stored).figures()}


def split_curves(figures: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Scalar figures apart from the per-epoch lists (whose `curve_` prefix is removed)."""
    scalars = {k: v for k, v in figures.items() if not k.startswith(names.CURVE_PREFIX)}
    curves = {k.removeprefix(names.CURVE_PREFIX): v for k, v in figures.items() if k.startswith(names.CURVE_PREFIX)}
    return scalars, curves
