"""The `lstmexp run` command that reproduces one trial, written one way wherever it is built.

The search records it on every trial (`reproduce`); the report rebuilds it for studies recorded
before trials carried it. Values are written as JSON, which the override parser (YAML) reads back as
the same value: a string stays a string, a float keeps every digit.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

# Studies name the per-window normalisation `normalization` (its short name from before any spec
# field was searchable); every other searched field is named by its spec path.
NORMALIZATION_PARAM = "normalization"


def override_key(param: str) -> str:
    """The spec path an Optuna parameter name stands for."""
    return "data.normalization" if param == NORMALIZATION_PARAM else param


def run_command(base: str, sizes: Mapping[str, Any], overrides: Mapping[str, Any]) -> str:
    """`base` (e.g. `lstmexp run SPEC -o ...`), the sizes as flags, then every override as `-o key=value`."""
    words: list[str] = []
    for name, value in sizes.items():
        words += ["--" + name.replace("_", "-"), str(int(value))]
    for key, value in overrides.items():
        words += ["-o", f"{key}={json.dumps(value)}"]
    return f"{base} {shlex.join(words)}" if words else base
