"""What every spec section shares: immutability, refusal of unknown keys, and strict number types."""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Optuna study names end up in file names, URLs and HTML: keep them tame.
STUDY_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"

PositiveInt = Annotated[int, Field(strict=True, gt=0)]
NonNegativeInt = Annotated[int, Field(strict=True, ge=0)]
StrictInt = Annotated[int, Field(strict=True)]
# Floats are finite: `.inf` or `.nan` in a spec is a typo that would only surface mid-training.
PositiveFloat = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(strict=True, ge=0, le=1, allow_inf_nan=False)]
# Seeds reach torch, numpy (0 <= seed < 2**32) and Optuna's samplers plus per-worker and per-repeat
# offsets: below 2**31 leaves room for those offsets within every library's range.
MAX_SEED = 2**31 - 1
Seed = Annotated[int, Field(strict=True, ge=0, le=MAX_SEED)]


# The largest batch_size, time_step or hidden_size a spec may name: beyond it nothing fits any
# machine, and a range up to 10**18 would make a grid of that many points.
MAX_SIZE = 2**20
# The most points a grid search may enumerate (Optuna's GridSampler lists every combination).
MAX_GRID_POINTS = 10**6


def machine_memory() -> int:
    """This machine's physical memory in bytes: the bound for sizes checked before anything runs."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


class Section(BaseModel):
    """Base of every spec section: immutable, and unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)
