"""What every spec section shares: immutability, refusal of unknown keys, and strict number types."""

from __future__ import annotations

import os
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from lstmexp.bounds import BOUNDS

# Optuna study names end up in file names, URLs and HTML: keep them tame.
STUDY_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"

PositiveInt = Annotated[int, Field(strict=True, gt=0)]
NonNegativeInt = Annotated[int, Field(strict=True, ge=0)]
StrictInt = Annotated[int, Field(strict=True)]
# Floats are finite: `.inf` or `.nan` in a spec is a typo that would only surface mid-training.
PositiveFloat = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(strict=True, ge=0, le=1, allow_inf_nan=False)]


def within(path: str) -> Any:
    """The pydantic constraints of the spec field at `path`: its range in lstmexp.bounds, finite, strict.

    (Annotated metadata: `epochs: Annotated[int, within("train.epochs")]`.)
    """
    bound = BOUNDS[path]
    if bound.integer and bound.low >= 1:  # the same range for integers, and pydantic then says "greater than 0"
        return Field(strict=True, gt=int(bound.low) - 1, le=int(bound.high))
    if bound.integer:
        return Field(strict=True, ge=int(bound.low), le=int(bound.high))
    if bound.low_open:
        return Field(strict=True, gt=bound.low, le=bound.high, allow_inf_nan=False)
    return Field(strict=True, ge=bound.low, le=bound.high, allow_inf_nan=False)


Seed = Annotated[int, within("train.seed")]


def machine_memory() -> int:
    """This machine's physical memory in bytes: the bound for sizes checked before anything runs."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


class Section(BaseModel):
    """Base of every spec section: immutable, and unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)
