"""Specs as a study stores them: the whole spec with its schema version; older compact ones read as written.

Schema 1 (lstmexp before the schema version was stored) kept only the fields that differed from the
defaults of that time. Filling such a spec with *today's* defaults would silently change an old
study when a default moves: its resume check would compare equal and its reproduce commands would
run another experiment. So schema 1 is read against a frozen copy of its own defaults
(`stored_schema1.json`: every model's field defaults as they were, never regenerated), and schema 2
stores every field. Fields added after a spec was written take their current defaults, as they did
not exist when it ran, except those whose default changes what a trial does (`ADDED_SINCE`): they
take the value that reproduces the study as it ran (no early stopping for a study stored without
`train.patience`).
"""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

from lstmexp.spec.experiment import ExperimentSpec

# Study attribute beside the spec (`lstmexp_spec`): the schema it was stored in.
SPEC_SCHEMA_ATTR = "lstmexp_spec_schema"
SPEC_SCHEMA = 2  # the whole spec: read as it is
COMPACT_SCHEMA = 1  # only what differed from the schema-1 defaults (no schema version stored)
# (section, field) added after studies were stored -> the value that behaves as lstmexp did before it.
ADDED_SINCE: dict[tuple[str, str], Any] = {("train", "patience"): None}


def stored_form(spec: ExperimentSpec) -> dict[str, Any]:
    """The whole spec, as JSON values, for the study's attribute (the caller masks credentials)."""
    return spec.to_dict()


def as_written(stored: dict[str, Any], schema: int | None) -> dict[str, Any]:
    """A stored spec as the experiment it describes, whatever version of lstmexp stored it.

    `schema` None means the study predates the schema version: a compact schema-1 spec. A spec that no
    longer validates is returned as it was filled, so a comparison with it reports the difference.
    """
    filled = fill_compact(stored, schema_1_defaults()) if (schema or COMPACT_SCHEMA) == COMPACT_SCHEMA else stored
    filled = with_added_fields(filled)
    try:
        return ExperimentSpec.model_validate(filled).to_dict()
    except ValueError:  # pydantic's ValidationError
        return filled


def with_added_fields(spec: dict[str, Any]) -> dict[str, Any]:
    """Fields the stored spec predates, at the value that reproduces what its trials did."""
    filled = dict(spec)
    for (section, name), value in ADDED_SINCE.items():
        part = filled.get(section)
        if isinstance(part, dict) and name not in part:
            filled[section] = {**part, name: value}
    return filled


@functools.cache
def schema_1_defaults() -> dict[str, Any]:
    text = resources.files("lstmexp.spec").joinpath("stored_schema1.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def fill_compact(stored: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Put back the fields a compact spec left out, model by model, at the frozen defaults.

    pydantic's `exclude_defaults` drops a field equal to its own model's default: a section left out
    whole is that section's default, and a field missing inside a stored section is the default of
    that section's class (the batch_size range's own `scale`, not the default range's).
    """
    if "each" in node:  # a mapping of models (search.space.fields): fill each value
        return {key: fill_compact(value, node["each"]) if isinstance(value, dict) else value
                for key, value in stored.items()}
    filled = {key: copy.deepcopy(value) for key, value in node["defaults"].items() if key not in stored}
    for key, value in stored.items():
        nested = node["nested"].get(key)
        filled[key] = fill_compact(value, nested) if nested is not None and isinstance(value, dict) else value
    return filled
