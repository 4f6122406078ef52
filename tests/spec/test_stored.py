"""lstmexp/spec/stored.py: whole specs with a schema version; old compact specs read as they were written."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from lstmexp.errors import SpecError
from lstmexp.report.run import report_study
from lstmexp.search import run_search
from lstmexp.spec import ExperimentSpec, TrainSpec
from lstmexp.spec.stored import SPEC_SCHEMA, SPEC_SCHEMA_ATTR, as_written, fill_compact, schema_1_defaults
from lstmexp.storage.urls import SPEC_ATTR, load_existing_study
from lstmexp.vocabulary.choices import SIZE_PATHS
from tests.search_specs import tiny

OLD_LR, NEW_LR = 0.003, 0.02  # schema 1's default, and one a later lstmexp might have (today's is 0.01)
OLD_WINDOWS = "data.lookback=false"  # the window rule of that time (its own moved default, tested below)


def set_lr_default(lr: float) -> None:
    """What a later lstmexp with another train.lr default would have: new default instances all the way up."""
    TrainSpec.model_fields["lr"].default = lr
    TrainSpec.model_rebuild(force=True)
    ExperimentSpec.model_fields["train"].default = TrainSpec()
    ExperimentSpec.model_rebuild(force=True)


@pytest.fixture
def lr_default_moved() -> Iterator[None]:
    today = TrainSpec().lr
    set_lr_default(NEW_LR)
    try:
        yield
    finally:
        set_lr_default(today)


def schema_1_form(spec: ExperimentSpec) -> dict[str, Any]:
    """The spec as lstmexp of schema 1 stored it: the fields that differ from the defaults, the sizes under
    the search space's short names alone (they were not fields of their sections then)."""
    compact = spec.model_dump(mode="json", exclude_defaults=True)
    for path in SIZE_PATHS.values():
        head, _, name = path.partition(".")
        compact.get(head, {}).pop(name, None)
    space = compact.get("search", {}).get("space", {})
    fields = space.pop("fields", {})
    space.update({short: fields.pop(path) for short, path in SIZE_PATHS.items() if path in fields})
    if fields:
        space["fields"] = fields
    return compact


def make_compact(url: str, name: str) -> dict[str, object]:
    """Turn a study into one written before the schema version: the compact spec, no reproduce attribute."""
    path = url.removeprefix("sqlite:///")
    spec = ExperimentSpec.model_validate(load_existing_study(url, name).user_attrs[SPEC_ATTR])
    compact = schema_1_form(spec)  # what lstmexp stored then
    with sqlite3.connect(path) as db:
        db.execute("UPDATE study_user_attributes SET value_json = ? WHERE key = ?", (json.dumps(compact), SPEC_ATTR))
        db.execute("DELETE FROM study_user_attributes WHERE key = ?", (SPEC_SCHEMA_ATTR,))
        db.execute("DELETE FROM trial_user_attributes WHERE key = 'reproduce'")
    return compact


def test_a_new_study_stores_the_whole_spec_and_its_schema(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    spec = tiny("whole")
    run_search(spec, url)
    attrs = load_existing_study(url, "whole").user_attrs
    assert attrs[SPEC_SCHEMA_ATTR] == SPEC_SCHEMA
    assert attrs[SPEC_ATTR] == spec.to_dict()  # every field, defaults included
    assert attrs[SPEC_ATTR]["train"]["lr"] == TrainSpec().lr  # the default of its time, written down


def test_the_frozen_defaults_fill_a_compact_spec_model_by_model():
    written = tiny("c", "train.patience=null")  # lstmexp of schema 1 had no early stopping
    compact = schema_1_form(written)
    filled = fill_compact(compact, schema_1_defaults())
    # a default that moved since schema 1 comes back at its frozen value (lookback was off then, lr
    # 0.003); fields added after schema 1 (the model's chunk, channels and head) take their current defaults
    then = tiny("c", "train.patience=null", OLD_WINDOWS, f"train.lr={OLD_LR}")
    assert ExperimentSpec.model_validate(filled).to_dict() == then.to_dict()
    assert "chunk" not in filled["model"]
    # a stored range keeps its own class's default scale, not the default batch_size range's pow2
    filled = fill_compact({"search": {"space": {"batch_size": {"values": [16, 32]}}}}, schema_1_defaults())
    assert filled["search"]["space"]["batch_size"]["scale"] == "linear"
    assert filled["search"]["space"]["time_step"]["values"] == [4, 8, 16, 32]


def test_a_moved_default_leaves_an_old_study_its_resume_check_and_reproduce_commands_unchanged(tmp_path,
                                                                                               lr_default_moved):
    url = f"sqlite:///{tmp_path}/old.db"
    set_lr_default(OLD_LR)  # the study is written by the older lstmexp...
    run_search(tiny("old", OLD_WINDOWS, "train.patience=null"), url)  # it had no early stopping either
    compact = make_compact(url, "old")
    assert "lr" not in compact.get("train", {})  # it ran at the default of its time
    set_lr_default(NEW_LR)  # ...and read by the newer one
    assert tiny("x").train.lr == NEW_LR

    study = load_existing_study(url, "old")
    assert as_written(study.user_attrs[SPEC_ATTR], study.user_attrs.get(SPEC_SCHEMA_ATTR))["train"]["lr"] == OLD_LR
    with pytest.raises(SpecError, match=r"different train \(lr changed\)"):
        run_search(tiny("old", OLD_WINDOWS, "train.patience=null"), url)  # another lr: not the same experiment
    with pytest.raises(SpecError, match=r"different train \(patience changed\)"):
        run_search(tiny("old", OLD_WINDOWS, f"train.lr={OLD_LR}"), url)  # early stopping it never had: not the same
    assert len(load_existing_study(url, "old").trials) == 3  # refused before a trial was added
    run_search(tiny("old", OLD_WINDOWS, f"train.lr={OLD_LR}", "train.patience=null", "search.trials=4"), url)
    rebuilt = re.findall(r"lstmexp run --[^\"]*", report_study(url, ["old"], "json", None))  # for the old trials
    assert rebuilt and all(f"-o train.lr={OLD_LR}" in command for command in rebuilt)  # the old lr, not today's


def test_an_old_compact_spec_keeps_the_window_rule_it_ran_with_after_the_lookback_default_moved():
    assert ExperimentSpec().data.lookback is True  # today: val/test windows reach back into the previous split
    compact = schema_1_form(tiny("c"))
    compact["data"].pop("lookback", None)  # written when windows stayed inside their split: left out as default
    assert as_written(compact, None)["data"]["lookback"] is False
    assert as_written(tiny("c").to_dict(), SPEC_SCHEMA)["data"]["lookback"] is True  # a whole spec reads as stored
def test_a_spec_stored_before_early_stopping_existed_reads_without_it():
    whole = ExperimentSpec().to_dict()
    del whole["train"]["patience"]  # what a study stored before train.patience was a field holds
    assert as_written(whole, SPEC_SCHEMA)["train"]["patience"] is None
    assert as_written({}, None)["train"]["patience"] is None  # a compact schema-1 spec too
    assert as_written(ExperimentSpec().to_dict(), SPEC_SCHEMA)["train"]["patience"] == 5
