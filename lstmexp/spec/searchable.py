"""Searched spec fields by dotted path: which fields may be searched, their kind, and applying values.

A bound is checked by building the field's own section with that value (pydantic runs the field's
type and range checks, and the section's cross-field rules), so `train.lr: {low: -1, ...}` fails
with the same words as `train.lr: -1` would, naming the searched field.
"""

from __future__ import annotations

import math
import types
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from lstmexp.bounds import bound_of, limit_for, outside
from lstmexp.errors import SpecError
from lstmexp.spec.sections import SpecSections
from lstmexp.spec.space import SEARCHABLE_SECTIONS, SIZE_NAMES, FieldSpace, check_range_steps, space_key
from lstmexp.vocabulary.choices import SIZE_PATHS

FieldKind = Literal["int", "float", "categorical"]
Spec = TypeVar("Spec", bound=SpecSections)  # a spec comes back as the class it went in as

# Settings a search must not vary: they say where or how a trial runs, or have their own short name.
NOT_SEARCHABLE = {
    "train.seed": "the seed is not a setting to tune; use train.repeats to measure the seed spread",
    "train.device": "the device is where trials run, not what they learn",
    "train.threads": "threads change speed, not results; set it once",
    "train.repeats": "repeats measure the seed spread of each configuration; set it once",
    "data.path": "a search compares settings on one data set; run one study per file",
}

# Applied after every other searched field: they only apply when num_layers > 1 (see conditional_skip).
LAST_FIELDS = ("model.dropout",)


def check_fields(spec: SpecSections) -> None:
    """Raise ValueError naming the first searched field that does not exist or whose bound or step is invalid."""
    for path, space in spec.search.space.fields.items():
        section, name = split_path(spec, path)
        kind = field_kind(section, name)
        if space.values is None and kind == "categorical":
            raise ValueError(f"{space_key(path)}: not a number, so list its values ([a, b]) instead of low/high")
        if space.scale == "pow2" and kind != "int":
            raise ValueError(f"{space_key(path)}: `scale: pow2` picks whole numbers; use scale: log for {path}")
        if space.values is None and space.low is not None and space.high is not None:
            check_range_steps(path, space.low, space.high, space.step, whole=kind == "int")
        for value in space.ends():
            try:
                type(section).model_validate({**section.model_dump(), name: value})
            except ValidationError as exc:
                raise ValueError(f"{space_key(path)}: {refusal(exc, path, space, value)}") from None


def refusal(exc: ValidationError, path: str, space: FieldSpace, value: Any) -> str:
    """Why a searched value is refused: past the field's bound (with the end to lower), or the field's words."""
    first = exc.errors()[0]
    bound = bound_of(path)
    if first["type"] in ("less_than_equal", "less_than") and bound is not None:
        end = "high" if space.values is None else "the listed value"
        return f"{end} {outside(bound, value)}; lower {end} to {limit_for(bound, value)} or less"
    message = first["msg"].removeprefix("Value error, ")
    return f"{message} (got {value!r})"


def split_path(spec: SpecSections, path: str) -> tuple[BaseModel, str]:
    """The section instance and field name of `train.lr`; ValueError for an unknown or unsearchable path."""
    head, _, name = path.partition(".")
    if head not in SEARCHABLE_SECTIONS or not name or "." in name:
        raise ValueError(f"search.space.{path}: search a field of {', '.join(SEARCHABLE_SECTIONS)}, e.g. train.lr")
    section: BaseModel = getattr(spec, head)
    fields = type(section).model_fields
    if name not in fields:
        raise ValueError(f"search.space.{path}: unknown field; {head} has {', '.join(sorted(fields))}")
    if path in NOT_SEARCHABLE:
        raise ValueError(f"search.space.{path} cannot be searched: {NOT_SEARCHABLE[path]}")
    annotation = fields[name].annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        raise ValueError(f"search.space.{path} is a section; search one of its fields")
    return section, name


def field_kind(section: BaseModel, name: str) -> FieldKind:
    """int or float for numeric fields (Optional allowed), categorical for anything else."""
    annotation = type(section).model_fields[name].annotation
    args = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    kinds = {arg for arg in args if arg is not type(None)}
    if kinds == {int}:
        return "int"
    if kinds == {float}:
        return "float"
    return "categorical"


def possible_values(spec: SpecSections, path: str) -> list[Any]:
    """Every value a trial of this spec may give the field: its searched values (a numeric range's
    every step for ints, its ends for floats), else its one set value."""
    space = spec.search.space.fields.get(path)
    if space is None:
        section, name = path.split(".")
        return [getattr(getattr(spec, section), name)]
    listed = space.choices()
    if listed is not None:
        return listed
    low, high = space.low, space.high
    if isinstance(low, int) and isinstance(high, int) and kind_of(spec, path) == "int":
        step = int(space.step or 1)
        return list(range(low, high + 1, step)) if space.scale == "linear" else list(range(low, high + 1))
    return space.ends()


def chunk_problem(spec: SpecSections) -> str | None:
    """Why some trial's chunk would not divide its time_step (with the fix), or None when every one does.

    Checked over every searched pair, so a search never samples a chunking that cannot run.
    """
    time_steps = spec.search.space.size("time_step").grid()
    chunks = sorted({int(c) for c in possible_values(spec, "model.chunk")})
    bad = [(c, t) for c in chunks for t in time_steps if t % c]
    if not bad:
        return None
    chunk, time_step = bad[0]
    if "model.chunk" not in spec.search.space.fields:
        return chunk_refusal(chunk, time_steps)
    good = [c for c in chunks if all(t % c == 0 for t in time_steps)] or [largest_divisor(time_steps, chunk)]
    listed = ",".join(str(c) for c in good)
    return (f"search.space.model.chunk: {chunk} does not divide time_step={time_step} (the LSTM runs time_step/chunk "
            f"steps); search chunks that divide every time_step, e.g. -o 'search.space.model.chunk=[{listed}]'")


def chunk_refusal(chunk: int, time_steps: list[int]) -> str:
    """The one-line refusal of a chunk that does not divide one of `time_steps`, with the nearest fix."""
    time_step = next(t for t in time_steps if t % chunk)
    fix = largest_divisor(time_steps, chunk)
    every = " (it divides every searched time_step)" if len(time_steps) > 1 else ""
    return (f"model.chunk={chunk} does not divide time_step={time_step} (the LSTM runs time_step/chunk steps); "
            f"use -o model.chunk={fix}{every}")


def largest_divisor(time_steps: list[int], at_most: int) -> int:
    """The largest chunk up to `at_most` that divides every time step."""
    common = math.gcd(*time_steps)
    return max(d for d in range(1, min(common, at_most) + 1) if common % d == 0)


def kind_of(spec: SpecSections, path: str) -> FieldKind:
    section, name = split_path(spec, path)
    return field_kind(section, name)


def ordered_paths(spec: SpecSections) -> list[str]:
    """The searched paths in suggestion order: the sizes first (as studies have always sampled them, so a
    seed draws the same trials), then the rest by name, conditional fields after the fields they depend on."""
    paths = sorted(p for p in spec.search.space.fields if p not in SIZE_NAMES)
    return [*SIZE_PATHS.values(), *(p for p in paths if p not in LAST_FIELDS), *(p for p in paths if p in LAST_FIELDS)]


def other_paths(spec: SpecSections) -> list[str]:
    """The searched paths besides the sizes, in suggestion order (the sizes have rules over their whole space)."""
    return [p for p in ordered_paths(spec) if p not in SIZE_NAMES]


def param_name(path: str) -> str:
    """The Optuna parameter name of a searched path: a size's short name (every study's name for it), else the path."""
    return SIZE_NAMES.get(path, path)


def sized(sizes: dict[str, Any]) -> dict[str, Any]:
    """The three sizes by short name (`batch_size`) as dotted-path values; TypeError unless exactly those three."""
    if set(sizes) != set(SIZE_PATHS):
        raise TypeError(f"sizes other than {', '.join(SIZE_PATHS)}: {', '.join(map(str, sizes))}")
    return {SIZE_PATHS[name]: value for name, value in sizes.items()}


def one_configuration(spec: Spec) -> Spec:
    """The spec one `lstmexp run` trains: each size as its section sets it, else the space's one value.

    A size the space searches over several values and the spec does not set is refused with the fix.
    """
    values: dict[str, Any] = {}
    for short, path in SIZE_PATHS.items():
        head, _, name = path.partition(".")
        if name in getattr(spec, head).model_fields_set:
            values[path] = getattr(getattr(spec, head), name)
            continue
        listed = spec.search.space.fields[path].choices()
        if listed is None or len(listed) != 1:
            flag = "--" + short.replace("_", "-")
            raise SpecError(f"{flag} is required: the spec searches several {short} values; "
                             f"pass e.g. {flag} 64 (or -o {path}=64)")
        values[path] = listed[0]
    return with_values(spec, values)


def extreme(spec: SpecSections, path: str, highest: bool = True) -> Any:
    """The largest (or smallest) value a numeric field takes in this spec: its searched range's end
    when it is searched, else its own value."""
    space = spec.search.space.fields.get(path)
    if space is None:
        head, _, name = path.partition(".")
        return getattr(getattr(spec, head), name)
    ends = space.ends()
    return max(ends) if highest else min(ends)


def conditional_skip(path: str, chosen: dict[str, Any], spec: SpecSections) -> str | None:
    """Why `path` does not apply to this trial (then it is not sampled), or None when it does."""
    if path == "model.dropout":
        layers = chosen.get("model.num_layers", spec.model.num_layers)
        if layers == 1:
            return "num_layers=1: LSTM dropout applies between layers only"
    return None


def with_values(spec: Spec, values: dict[str, Any]) -> Spec:
    """A validated copy of `spec` with the dotted-path values set (the original stays as it was).

    A set field is no longer searched in the copy: a trial's rules see its own value, not every value
    the study searches (a stateful trial at chunk 1 of a study that also searches chunk 4).
    """
    raw = spec.to_dict()
    for path, value in values.items():
        head, _, name = path.partition(".")
        raw[head][name] = value
        raw["search"]["space"]["fields"].pop(path, None)
    return type(spec).model_validate(raw)
