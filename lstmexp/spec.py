"""Experiment specs: frozen models loaded from YAML, overridable with `key=value`, validated up front.

A spec says which data to use, what to search (batch_size, time_step, hidden_size), how to train
each trial and how to run the study. Validation happens here, before any study is touched, so a
typo never costs a half-written study. This module must not import torch (the CLI stays fast).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lstmexp.errors import SpecError

# Optuna study names end up in file names, URLs and HTML: keep them tame.
STUDY_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"
DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")
SEARCHED_PARAMS = ("batch_size", "time_step", "hidden_size")

PositiveInt = Annotated[int, Field(strict=True, gt=0)]
NonNegativeInt = Annotated[int, Field(strict=True, ge=0)]
StrictInt = Annotated[int, Field(strict=True)]
PositiveFloat = Annotated[float, Field(strict=True, gt=0)]
Fraction = Annotated[float, Field(strict=True, ge=0, le=1)]


class _Section(BaseModel):
    """Base of every spec section: immutable, and unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ParamSpace(_Section):
    """The values one searched parameter may take.

    YAML forms: `64` (fixed), `[16, 32, 64]` (explicit values), `{low: 8, high: 128}` (int range,
    optional `step`), `{low: 8, high: 512, scale: log}` (log-uniform ints) and
    `{low: 16, high: 1024, scale: pow2}` (the powers of two in the range, C9).
    """

    values: tuple[PositiveInt, ...] | None = None
    low: PositiveInt | None = None
    high: PositiveInt | None = None
    step: PositiveInt = 1
    scale: Literal["linear", "log", "pow2"] = "linear"

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, raw: Any) -> Any:
        if isinstance(raw, bool):
            return raw  # let field validation reject it with a clear type error
        if isinstance(raw, int):
            return {"values": [raw]}
        if isinstance(raw, list):
            return {"values": raw}
        return raw

    @model_validator(mode="after")
    def _consistent(self) -> ParamSpace:
        if self.values is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either `values` or `low`/`high`, not both")
            if not self.values:
                raise ValueError("`values` is empty; list at least one value")
            if len(set(self.values)) != len(self.values):
                raise ValueError("`values` has duplicates")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give `values: [...]` or both `low` and `high`")
        if self.low > self.high:
            raise ValueError(f"range is inverted: low={self.low} > high={self.high}; swap them")
        if self.scale == "log" and self.step != 1:
            raise ValueError("`step` cannot be combined with `scale: log`")
        if self.scale == "pow2" and not self.choices():
            raise ValueError(f"no power of two lies in [{self.low}, {self.high}]")
        return self

    def choices(self) -> list[int] | None:
        """The finite list of values, or None for an int range Optuna samples directly."""
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None
        if self.scale == "pow2":
            return [2**k for k in range(0, self.high.bit_length() + 1) if self.low <= 2**k <= self.high]
        return None

    def grid(self) -> list[int]:
        """Every value of the space (for grid search)."""
        listed = self.choices()
        if listed is not None:
            return listed
        assert self.low is not None and self.high is not None
        return list(range(self.low, self.high + 1, self.step))

    @property
    def lowest(self) -> int:
        return min(self.grid()) if self.values is not None or self.scale == "pow2" else int(self.low or 0)

    @property
    def highest(self) -> int:
        return max(self.grid()) if self.values is not None or self.scale == "pow2" else int(self.high or 0)


class SpaceSpec(_Section):
    batch_size: ParamSpace = ParamSpace(low=16, high=256, scale="pow2")
    time_step: ParamSpace = ParamSpace(values=(4, 8, 16, 32))
    hidden_size: ParamSpace = ParamSpace(values=(16, 32, 64))
    # Per-window normalisations to search (each trial sets data.normalization); null: not searched.
    normalization: tuple[Literal["none", "last", "revin"], ...] | None = None


class RowSplit(_Section):
    """Split by row counts: the first `train` rows, the next `val`, the next `test` (later rows unused)."""

    train: PositiveInt
    val: PositiveInt
    test: PositiveInt


class DateSplit(_Section):
    """Split by dates of `data.time_column`: val starts at `val`, test at `test`, data ends before `end`."""

    val: str
    test: str
    end: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DateSplit:
        from datetime import datetime

        try:
            stamps = [datetime.fromisoformat(d) for d in (self.val, self.test, self.end) if d is not None]
        except ValueError as exc:
            raise ValueError(f"dates must be ISO dates such as 2017-07-01 ({exc})") from None
        if stamps != sorted(stamps) or len(set(stamps)) != len(stamps):
            raise ValueError("dates must increase: val < test < end")
        return self


class SplitSpec(_Section):
    """Chronological split (train first, then val, then test) by fractions, or by `rows` or `dates`."""

    train: Fraction = 0.7
    val: Fraction = 0.15
    test: Fraction = 0.15
    rows: RowSplit | None = None
    dates: DateSplit | None = None

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitSpec:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + val + test must sum to 1, not {total:g}")
        if min(self.train, self.val, self.test) <= 0:
            raise ValueError("every split needs a positive fraction")
        if self.rows is not None and self.dates is not None:
            raise ValueError("give either `rows` or `dates`, not both")
        return self


class DataSpec(_Section):
    dataset: str = "synthetic"
    rows: PositiveInt = 6000
    seed: StrictInt = 0
    split: SplitSpec = SplitSpec()
    scaling: Literal["standard", "minmax", "none"] = "standard"
    horizon: PositiveInt = 1
    # A CSV or Parquet file instead of a built-in dataset (relative to the working directory).
    path: str | None = None
    target: str | tuple[str, ...] | None = None  # target column(s); built-in datasets name their own
    features: tuple[str, ...] | None = None  # input columns; default: every numeric column
    time_column: str | None = None  # parsed, sorted and checked for duplicates; needed by split.dates
    # S: target in, target out; M: all features in, all out; MS: all features in, target out.
    mode: Literal["S", "M", "MS"] = "MS"
    # May val/test windows reach back into the previous split (the benchmark convention)?
    lookback: bool = False
    fill: Literal["none", "ffill"] = "none"  # ffill: carry the last value forward over missing ones
    # Per-window input normalisation: none; last (predict the change from the window's last value,
    # as NLinear does); revin (per-window mean and std, restored on the output).
    normalization: Literal["none", "last", "revin"] = "none"
    # Built-in episode tasks (adding, classify): sequence length; null = the trial's time_step.
    sequence_length: PositiveInt | None = None

    @model_validator(mode="after")
    def _file_needs_target(self) -> DataSpec:
        if self.path is not None and self.mode != "M" and not self.target:
            raise ValueError(f"mode {self.mode} needs data.target (the column to predict); or use mode M")
        if self.split.dates is not None and self.time_column is None:
            raise ValueError("split.dates needs data.time_column (the column holding the dates)")
        return self

    @property
    def targets(self) -> list[str]:
        if self.target is None:
            return []
        return [self.target] if isinstance(self.target, str) else list(self.target)


class ModelSpec(_Section):
    num_layers: PositiveInt = 1
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0


class TrainSpec(_Section):
    epochs: PositiveInt = 8
    lr: PositiveFloat = 3e-3
    weight_decay: Annotated[float, Field(ge=0)] = 0.0
    seed: StrictInt = 0
    device: str = "auto"
    grad_clip: PositiveFloat | None = None
    # Iterations at the start of training left out of the throughput (allocator, caches, cuDNN
    # autotuning and thread pools are still warming up there).
    warmup_iters: NonNegativeInt = 5
    # Torch intra-op threads per worker; None leaves torch's default.
    threads: PositiveInt | None = None
    # Mixed precision: None (float32), bf16 (CPU or GPU) or fp16 (CUDA only, with a gradient scaler).
    amp: Literal["bf16", "fp16"] | None = None
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
        if not DEVICE_PATTERN.match(value):
            raise ValueError(f"unknown device {value!r}; use auto, cpu, cuda or cuda:N")
        return value

    @model_validator(mode="after")
    def _amp_fits_device(self) -> TrainSpec:
        if self.amp == "fp16" and self.device in ("cpu", "mps"):
            raise ValueError(f"amp: fp16 needs CUDA; on {self.device} use amp: bf16 or none")
        return self


MEMORY_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.I)
MEMORY_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
                "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
# What a study may optimise: every one is measured on the training or validation rows, never the test set.
OBJECTIVES = ("val_loss", "samples_per_s", "s_per_epoch", "peak_memory", "time_to_target")


def parse_memory(value: Any) -> int:
    """`4GiB`, `512MiB`, `2GB` or a plain number of bytes -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = MEMORY_SIZE.match(str(value))
    if match is None:
        raise ValueError(f"memory size {value!r} not understood; write e.g. 4GiB, 512MiB or 2GB")
    number, unit = match.groups()
    return int(float(number) * MEMORY_UNITS[(unit or "B").lower()])


class ConstraintSpec(_Section):
    """Limits a recommended configuration must respect (trials that break one are infeasible)."""

    max_memory: PositiveInt | None = None  # bytes; YAML may say 4GiB
    min_samples_per_s: PositiveFloat | None = None

    @field_validator("max_memory", mode="before")
    @classmethod
    def _memory_size(cls, value: Any) -> Any:
        return None if value is None else parse_memory(value)


class SearchSpec(_Section):
    trials: PositiveInt = 20
    sampler: Literal["tpe", "random", "grid", "gp", "nsga2", "qmc"] = "tpe"
    pruner: Literal["median", "hyperband", "successive-halving", "none"] = "median"
    space: SpaceSpec = SpaceSpec()
    objectives: tuple[Literal[OBJECTIVES], ...] = ("val_loss",)  # type: ignore[valid-type]
    constraints: ConstraintSpec = ConstraintSpec()
    # The sampler's seed (null: train.seed), to vary the search without changing what trials learn.
    seed: StrictInt | None = None

    @field_validator("objectives", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

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


class ExperimentSpec(_Section):
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


# --------------------------------------------------------------------------------------------
# Loading and overrides
# --------------------------------------------------------------------------------------------


class SpecLoader(yaml.SafeLoader):
    """Safe YAML that also reads `1e-3` as a number (YAML 1.1 wants `1.0e-3`, and users write `1e-3`)."""


SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=SpecLoader)


def load_spec(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> ExperimentSpec:
    """Load a spec file (or the built-in defaults when `path` is None) and apply `key=value` overrides."""
    raw = read_spec_file(Path(path)) if path is not None else {}
    for override in overrides:
        apply_override(raw, override)
    return validate_spec(raw, source=str(path) if path is not None else "the built-in defaults")


def read_spec_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise SpecError(f"spec file {path} does not exist; pass a YAML file such as experiments/default.yaml")
    if path.is_dir():
        raise SpecError(f"spec path {path} is a directory; pass a YAML file inside it")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read spec file {path}: {exc}; pass a readable UTF-8 YAML file") from exc
    try:
        raw = parse_yaml(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SpecError(f"spec file {path} is not valid YAML{line}: {problem}; fix the syntax") from exc
    if raw is None:
        raise SpecError(f"spec file {path} is empty; start from experiments/default.yaml")
    if not isinstance(raw, dict):
        raise SpecError(f"spec file {path} must be a YAML mapping (key: value), not {type(raw).__name__}")
    return raw


def apply_override(raw: dict[str, Any], override: str) -> None:
    """Set `a.b.c=value` in the raw spec dict; the value is parsed as YAML (`3`, `1e-3`, `[1, 2]`)."""
    key, sep, text = override.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SpecError(f"override {override!r} is not key=value; write e.g. -o train.epochs=3")
    try:
        value = parse_yaml(text) if text.strip() else None
    except yaml.YAMLError as exc:
        raise SpecError(f"override {override!r}: the value is not valid YAML; quote it") from exc
    node = raw
    parts = key.split(".")
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            # A short form (e.g. `batch_size: 64`) being refined: expand it to its mapping form.
            if part in SEARCHED_PARAMS and parts[depth - 1 : depth] == ["space"]:
                child = {"values": child if isinstance(child, list) else [child]}
                node[part] = child
            else:
                raise SpecError(f"override {override!r}: {'.'.join(parts[: depth + 1])} is not a section")
        node = child
    node[parts[-1]] = value


def validate_spec(raw: dict[str, Any], source: str) -> ExperimentSpec:
    try:
        return ExperimentSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(f"invalid spec ({source}): {describe_validation_error(exc)}") from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first bad field and what is wrong with it."""
    first = exc.errors()[0]
    location = [str(part) for part in first["loc"]]
    field = ".".join(location) or "spec"
    if first["type"] == "extra_forbidden":
        known = sorted(known_keys(location[:-1]))
        close = difflib.get_close_matches(location[-1], known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{field}: unknown key; {hint}known keys here: {', '.join(known)}"
    message = first["msg"].removeprefix("Value error, ")
    bad = first.get("input")
    shown = "" if isinstance(bad, dict) or first["type"] == "missing" else f" (got {bad!r})"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{field}: {message}{shown}{more}"


def known_keys(location: list[str]) -> set[str]:
    """The keys a spec section accepts, following `location` down from the top."""
    model: type[BaseModel] = ExperimentSpec
    for part in location:
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None) if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return set()
        model = annotation
    return set(model.model_fields)
