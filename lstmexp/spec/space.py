"""The search space: the values each searched parameter may take.

The three core sizes (batch_size, time_step, hidden_size) and the per-window normalisation have
short names; any other spec setting is searched by its dotted path (`train.lr`, `model.num_layers`)
as a FieldSpace, whose bounds are checked against the field's own type and range by
`lstmexp.spec.searchable` once the whole spec is known.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from lstmexp.bounds import MAX_SIZE
from lstmexp.choices import Normalization, Scale
from lstmexp.spec.base import PositiveInt, Section

# The sections whose settings a search may vary (study, storage and search itself are not trained).
SEARCHABLE_SECTIONS = ("train", "model", "data")
Scalar = bool | int | float | str


def values_or_range(values: tuple[Any, ...] | None, low: Any, high: Any) -> Literal["values", "range"]:
    """The checks every searched space shares: distinct listed values, or an ordered low/high pair."""
    if values is not None:
        if low is not None or high is not None:
            raise ValueError("give either `values` or `low`/`high`, not both")
        if not values:
            raise ValueError("`values` is empty; list at least one value")
        if len(set(values)) != len(values):
            raise ValueError("`values` has duplicates")
        return "values"
    if low is None or high is None:
        raise ValueError("give `values: [...]` or both `low` and `high`")
    if low > high:
        raise ValueError(f"range is inverted: low={low} > high={high}; swap them")
    return "range"


def check_range_steps(path: str, low: float, high: float, step: float | None, whole: bool) -> None:
    """A range's step must be a whole number for an integer field, fit in the range and reach `high`.

    Optuna would truncate a fractional step of an int range to 0 (an internal error in the first
    trial), and silently lower `high` to the last value the step reaches.
    """
    key = f"search.space.{path}"
    if whole:
        for name, value in (("low", low), ("high", high), ("step", step)):
            if value is not None and not float(value).is_integer():
                raise ValueError(f"{key}: {name} {value} is not a whole number, but {path} takes whole numbers; "
                                 f"e.g. -o '{key}={{low: {int(low)}, high: {int(high)}, step: 1}}'")
    step = None if step is None else int(step) if whole else step
    if step is None or low == high:
        return
    span, stride = Decimal(str(high)) - Decimal(str(low)), Decimal(str(step))
    if stride > span:
        raise ValueError(f"{key}: step {step} is larger than the range {low} to {high}, so only {low} would be "
                         f"tried; e.g. -o '{key}={{low: {low}, high: {high}, step: {span.normalize():f}}}'")
    if span % stride:
        reached = Decimal(str(low)) + (span // stride) * stride
        raise ValueError(f"{key}: high {high} is not reached from low {low} in steps of {step}; "
                         f"e.g. -o '{key}={{low: {low}, high: {reached.normalize():f}, step: {step}}}'")

class ParamSpace(Section):
    """The values one searched parameter may take.

    YAML forms: `64` (fixed), `[16, 32, 64]` (explicit values), `{low: 8, high: 128}` (int range,
    optional `step`), `{low: 8, high: 512, scale: log}` (log-uniform ints) and
    `{low: 16, high: 1024, scale: pow2}` (the powers of two in the range, C9).
    """

    values: tuple[PositiveInt, ...] | None = None
    low: PositiveInt | None = None
    high: PositiveInt | None = None
    step: PositiveInt = 1
    scale: Scale = "linear"

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
        if max(self.values or (self.high or 1,)) > MAX_SIZE:
            raise ValueError(f"values above {MAX_SIZE} fit no machine; keep the space at most {MAX_SIZE}")
        if values_or_range(self.values, self.low, self.high) == "values":
            return self
        if self.scale == "log" and self.step != 1:
            raise ValueError("`step` cannot be combined with `scale: log`")
        if self.scale == "pow2" and not self.choices():
            raise ValueError(f"no power of two lies in [{self.low}, {self.high}]")
        return self

    @property
    def bounds(self) -> tuple[int, int]:
        """(low, high) of a range space; validation guarantees both exist whenever `values` is None."""
        if self.low is None or self.high is None:
            raise TypeError("this space lists values; it has no low/high range (use grid() or choices())")
        return self.low, self.high

    def choices(self) -> list[int] | None:
        """The finite list of values, or None for an int range Optuna samples directly."""
        if self.values is not None:
            return list(self.values)
        low, high = self.bounds
        if self.scale == "pow2":
            return [2**k for k in range(0, high.bit_length() + 1) if low <= 2**k <= high]
        return None

    def size(self) -> int:
        """How many values the space holds (without listing a range)."""
        listed = self.choices()
        if listed is not None:
            return len(listed)
        low, high = self.bounds
        return (high - low) // self.step + 1

    def grid(self) -> list[int]:
        """Every value of the space (for grid search)."""
        listed = self.choices()
        if listed is not None:
            return listed
        low, high = self.bounds
        return list(range(low, high + 1, self.step))

    @property
    def lowest(self) -> int:
        return min(self.grid()) if self.values is not None or self.scale == "pow2" else self.bounds[0]

    @property
    def highest(self) -> int:
        return max(self.grid()) if self.values is not None or self.scale == "pow2" else self.bounds[1]


class FieldSpace(Section):
    """The values one spec field (by dotted path) may take: a list (categorical) or a numeric range.

    YAML forms: `0.1` (fixed), `[1, 2, 3]` (categorical), `{low: 1e-4, high: 1e-2, scale: log}`,
    `{low: 0.0, high: 0.5, step: 0.1}`. Whether a range is sampled as int or float follows the
    field's own type (searchable.field_kind).
    """

    values: tuple[Scalar, ...] | None = None
    low: int | float | None = None
    high: int | float | None = None
    step: int | float | None = Field(default=None, gt=0)
    scale: Literal["linear", "log"] = "linear"

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, raw: Any) -> Any:
        if isinstance(raw, list):
            return {"values": raw}
        if isinstance(raw, bool | int | float | str):
            return {"values": [raw]}
        return raw

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpace:
        if values_or_range(self.values, self.low, self.high) == "values":
            return self
        positive = self.low is not None and self.low > 0  # a range has both ends here (values_or_range)
        if self.scale == "log" and (self.step is not None or not positive):
            raise ValueError("`scale: log` needs low > 0 and no `step`")
        return self

    def ends(self) -> list[Scalar]:
        """The values to check against the field: every listed value, or both ends of the range."""
        return list(self.values) if self.values is not None else [v for v in (self.low, self.high) if v is not None]


class SpaceSpec(Section):
    batch_size: ParamSpace = ParamSpace(low=16, high=256, scale="pow2")
    time_step: ParamSpace = ParamSpace(values=(4, 8, 16, 32))
    hidden_size: ParamSpace = ParamSpace(values=(16, 32, 64))
    # Per-window normalisations to search (each trial sets data.normalization); null: not searched.
    normalization: tuple[Normalization, ...] | None = None
    # Any other setting by dotted path (train.lr, model.num_layers, ...); written in YAML as
    # `train.lr: {...}` beside the sizes, or nested (`train: {lr: {...}}`, which `-o` overrides produce).
    fields: dict[str, FieldSpace] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_fields(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        raw = dict(raw)
        fields = dict(raw.pop("fields", None) or {})
        for key in [k for k in raw if isinstance(k, str) and ("." in k or k in SEARCHABLE_SECTIONS)]:
            value = raw.pop(key)
            if "." in key:
                fields[key] = value
            elif isinstance(value, dict):  # nested form: train: {lr: {...}}
                fields.update({f"{key}.{name}": sub for name, sub in value.items()})
            else:
                raise ValueError(f"{key}: name a setting inside it, e.g. {key}.<field>: [values]")
        if "data.normalization" in fields:  # the per-window normalisation keeps its short name
            norm = fields.pop("data.normalization")
            raw["normalization"] = norm.get("values", norm) if isinstance(norm, dict) else norm
        if fields:
            raw["fields"] = fields
        return raw
