"""The search space: the values each searched spec field may take.

Every searched setting is a spec field named by its dotted path (`train.lr`, `model.num_layers`,
`train.batch_size`) and held as a FieldSpace, whose bounds are checked against the field's own type
and range by `lstmexp.spec.searchable` once the whole spec is known. The three sizes
(train.batch_size, data.time_step, model.hidden_size) are searched by default and keep their short
names (`search.space.batch_size: [32, 64]`), as does the per-window normalisation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from lstmexp.spec.base import Section
from lstmexp.vocabulary.choices import SIZE_PATHS, Normalization, Scale

# The sections whose settings a search may vary (study, storage and search itself are not trained).
SEARCHABLE_SECTIONS = ("train", "model", "data")
Scalar = bool | int | float | str


SIZE_NAMES = {path: short for short, path in SIZE_PATHS.items()}  # dotted path -> the short name studies use


def space_key(path: str) -> str:
    """How a message names a searched field: `search.space.train.lr`; a size by its short name, as specs write it."""
    return f"search.space.{SIZE_NAMES.get(path, path)}"


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
    key = space_key(path)
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

class FieldSpace(Section):
    """The values one spec field (by dotted path) may take: a list (categorical) or a numeric range.

    YAML forms: `0.1` (fixed), `[1, 2, 3]` (categorical), `{low: 1e-4, high: 1e-2, scale: log}`,
    `{low: 0.0, high: 0.5, step: 0.1}`, and for whole numbers `{low: 16, high: 1024, scale: pow2}`
    (the powers of two in the range, C9). Whether a range is sampled as int or float follows the
    field's own type (searchable.field_kind).
    """

    values: tuple[Scalar, ...] | None = None
    low: int | float | None = None
    high: int | float | None = None
    step: int | float | None = Field(default=None, gt=0)
    scale: Scale = "linear"

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
        if self.scale == "pow2" and self.step is not None:
            raise ValueError("`step` cannot be combined with `scale: pow2` (it takes the powers of two in the range)")
        if self.scale == "pow2" and not self.choices():
            raise ValueError(f"no power of two lies in [{self.low}, {self.high}]")
        return self

    def ends(self) -> list[Scalar]:
        """The values to check against the field: every listed value, or both ends of the range."""
        return list(self.values) if self.values is not None else [v for v in (self.low, self.high) if v is not None]

    @property
    def bounds(self) -> tuple[int, int]:
        """(low, high) of a whole-number range; validation guarantees both exist whenever `values` is None."""
        if self.low is None or self.high is None:
            raise TypeError("this space lists values; it has no low/high range (use grid() or choices())")
        return int(self.low), int(self.high)

    def choices(self) -> list[Scalar] | None:
        """The finite list of values (listed, or a pow2 range's powers), or None for a range Optuna samples."""
        if self.values is not None:
            return list(self.values)
        if self.scale != "pow2":
            return None
        low, high = self.low or 0, self.high or 0
        return [2**k for k in range(0, int(high).bit_length() + 1) if low <= 2**k <= high]

    def grid(self) -> list[int]:
        """Every value of a whole-number space (a size's: for grid search and the checks over its extremes)."""
        listed = self.choices()
        if listed is not None:
            return [int(v) for v in listed]
        low, high = self.bounds
        return list(range(low, high + 1, int(self.step or 1)))

    def size(self) -> int:
        """How many values a whole-number space holds (without listing a range)."""
        listed = self.choices()
        if listed is not None:
            return len(listed)
        low, high = self.bounds
        return (high - low) // int(self.step or 1) + 1

    @property
    def lowest(self) -> int:
        return min(self.grid()) if self.choices() is not None else self.bounds[0]

    @property
    def highest(self) -> int:
        return max(self.grid()) if self.choices() is not None else self.bounds[1]


# The sizes' default spaces: every study searches them unless the spec fixes or narrows them.
DEFAULT_SIZE_SPACES: dict[str, FieldSpace] = {
    "train.batch_size": FieldSpace(low=16, high=256, scale="pow2"),
    "data.time_step": FieldSpace(values=(4, 8, 16, 32)),
    "model.hidden_size": FieldSpace(values=(16, 32, 64)),
}


def size_short_form(value: Any) -> Any:
    """A size's space as studies before the sizes were spec fields stored it: the same space, written the
    way a FieldSpace reads it (their `step: 1` was the default, which a FieldSpace leaves out)."""
    if isinstance(value, dict) and value.get("step") == 1:
        return {key: sub for key, sub in value.items() if key != "step"}
    return value


def collect_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """A raw space with every searched field under `fields` by its dotted path: the sizes' short names,
    `train.lr: {...}` beside them and the nested form (`train: {lr: {...}}`, which `-o` produces)."""
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
    for short, path in SIZE_PATHS.items():
        if short in raw:
            if path in fields:
                raise ValueError(f"{short} and {path} are the same field; give it once, e.g. {path}: [...]")
            fields[path] = size_short_form(raw.pop(short))
    if "data.normalization" in fields:  # the per-window normalisation keeps its short name
        norm = fields.pop("data.normalization")
        raw["normalization"] = norm.get("values", norm) if isinstance(norm, dict) else norm
    raw["fields"] = fields
    return raw


class SpaceSpec(Section):
    # Per-window normalisations to search (each trial sets data.normalization); null: not searched.
    normalization: tuple[Normalization, ...] | None = None
    # Every searched field by dotted path (the sizes, train.lr, model.num_layers, ...); written in YAML as
    # `train.lr: {...}` beside the sizes, or nested (`train: {lr: {...}}`, which `-o` overrides produce).
    fields: dict[str, FieldSpace] = Field(default_factory=lambda: dict(DEFAULT_SIZE_SPACES))

    @model_validator(mode="before")
    @classmethod
    def _collect_fields(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        raw = collect_fields(raw)
        raw["fields"] = {**DEFAULT_SIZE_SPACES, **raw["fields"]}  # a size the spec leaves out: its default space
        return raw

    def size(self, name: str) -> FieldSpace:
        """The space of a size by its short name (`batch_size`)."""
        return self.fields[SIZE_PATHS[name]]
