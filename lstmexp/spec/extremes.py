"""The searched space's extremes: every value a trial may be given, checked before any study is written.

The sizes are checked over their whole space by the rules that name them (the smallest batch against
a samples budget, the widest model against the machine, every time_step against the chunk). Any other
searched field's bounds are checked alone against its own section (searchable.check_fields); the
rules that span sections (a samples budget against the warm-up, stateful training against the
normalisation, the model's size against the machine), and the checks that need the data or the
device (`trial.check_spec_runs`), only see the spec's own values. Filling in each listed value and
each end of each range, and every mix of the lows and highs, asks those rules about the values the
trials will really get, so a bad one ends the command before the study is created instead of
failing every trial that draws it.
"""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING, Any

from lstmexp.spec.searchable import SIZE_NAMES, Spec, conditional_skip, other_paths, with_values
from lstmexp.spec.sections import SpecSections
from lstmexp.spec.space import space_key

if TYPE_CHECKING:
    from lstmexp.spec.space import FieldSpace

Filling = dict[str, Any]  # dotted path -> the value a trial may get
MAX_CORNER_FIELDS = 6  # 64 mixes of lows and highs at most: each is one spec validation (and a data check)


def field_ends(space: FieldSpace) -> tuple[Any, Any]:
    """(lowest, highest) of a searched field: a range's ends, the extremes of listed numbers, else first and last."""
    values = space.ends()
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == len(values):
        return min(numbers), max(numbers)
    return values[0], values[-1]


def fillings(spec: SpecSections) -> list[Filling]:
    """Each listed value and range end alone, then the corners: every mix of lows and highs (as trials draw them).

    With more than MAX_CORNER_FIELDS searched fields, only all lows and all highs together (2**n mixes).
    """
    fields = spec.search.space.fields
    paths = other_paths(spec)
    alone = [{path: value} for path in paths for value in fields[path].ends()]
    ends = [sorted(set(field_ends(fields[path])), key=str) for path in paths]
    if spec.search.designed:  # its trials are listed configurations, never a free mix of the values
        corners: list[Filling] = []
    elif len(paths) <= MAX_CORNER_FIELDS:
        corners = [dict(zip(paths, mix, strict=True)) for mix in itertools.product(*ends)]
    else:
        corners = [{path: field_ends(fields[path])[end] for path in paths} for end in (0, 1)]
    applied = [applicable(spec, filling) for filling in [*alone, *corners]]
    unique: list[Filling] = []
    for filling in applied:
        if filling and filling not in unique:
            unique.append(filling)
    return unique


def applicable(spec: SpecSections, filling: Filling) -> Filling:
    """The filling without the fields a trial would not sample with these values (dropout with one layer)."""
    chosen: Filling = {}
    for path in other_paths(spec):
        if path in filling and conditional_skip(path, chosen, spec) is None:
            chosen[path] = filling[path]
    return chosen


def named(filling: Filling) -> str:
    """`search.space.train.lr: with train.lr=0.1` for one field; `search.space: with a=1, b=2` for a corner."""
    key = space_key(next(iter(filling))) if len(filling) == 1 else "search.space"
    shown = (f"{path}={value if isinstance(value, str) else json.dumps(value)}" for path, value in filling.items())
    return f"{key}: with " + ", ".join(shown)


def filled(spec: Spec, filling: Filling) -> Spec:
    """The spec with `filling` set and nothing searched besides the sizes (a trial's view of the spec)."""
    sizes = {path: space for path, space in spec.search.space.fields.items() if path in SIZE_NAMES}
    space = spec.search.space.model_copy(update={"fields": sizes})
    bare = spec.model_copy(update={"search": spec.search.model_copy(update={"space": space})})
    return with_values(bare, filling)


def check_fillings(spec: SpecSections) -> None:
    """Raise ValueError naming the searched values for which a whole-spec rule fails."""
    from pydantic import ValidationError

    for filling in fillings(spec):
        try:
            filled(spec, filling)
        except ValidationError as exc:
            raise ValueError(f"{named(filling)}: {first_problem(exc)}") from None


def first_problem(exc: Any) -> str:
    """The first error of a pydantic ValidationError as `field: message` (the loader words the outer one;
    importing it here would make a cycle, since the loader builds the spec whose validator calls this)."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
