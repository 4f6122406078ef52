"""The vocabulary (lstmexp/vocabulary/choices.py) is what the spec, the CLI, the search and the report accept."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lstmexp.errors import SpecError
from lstmexp.spec import ExperimentSpec, load_spec
from lstmexp.vocabulary.choices import (
    OBJECTIVE_GOALS,
    OBJECTIVES,
    PRUNERS,
    REPORT_FORMATS,
    SAMPLERS,
    SEARCHED_PARAMS,
    SIZE_PATHS,
)


def test_choices_and_units_import_nothing_heavy():
    code = ("import sys, lstmexp.vocabulary.choices, lstmexp.units; "
            "print(','.join(m for m in ('torch', 'optuna', 'pandas', 'pydantic', 'yaml') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_every_objective_says_what_it_reads_and_which_way_is_better():
    assert list(OBJECTIVE_GOALS) == list(OBJECTIVES)
    assert {goal.direction for goal in OBJECTIVE_GOALS.values()} <= {"minimize", "maximize"}


def test_each_size_is_a_field_of_its_section_searched_by_default():
    assert set(SIZE_PATHS) == set(SEARCHED_PARAMS)
    spec = ExperimentSpec()
    for short, path in SIZE_PATHS.items():
        head, _, name = path.partition(".")
        assert name in type(getattr(spec, head)).model_fields, path
        assert spec.search.space.size(short) is spec.search.space.fields[path]


@pytest.mark.parametrize(("field", "names"), [("sampler", SAMPLERS), ("pruner", PRUNERS)])
def test_the_spec_accepts_every_listed_name_and_refuses_others(field, names):
    for name in names:
        assert getattr(load_spec(None, [f"search.{field}={name}"]).search, field) == name
    with pytest.raises(SpecError, match=f"search.{field}: Input should be {names[0]!r}"):
        load_spec(None, [f"search.{field}=nonsense"])


def test_the_spec_accepts_every_objective():
    for name in OBJECTIVES:
        spec = load_spec(None, [f"search.objectives=[{name}]", "search.pruner=none", "train.target_val_loss=0.5"])
        assert spec.search.objectives == (name,)
    assert ExperimentSpec().search.objectives[0] in OBJECTIVES


@pytest.mark.parametrize(("command", "option", "names"), [
    ("search", "--sampler", SAMPLERS), ("search", "--pruner", PRUNERS), ("search", "--objective", OBJECTIVES),
    ("report", "--format", REPORT_FORMATS),
])
def test_the_cli_offers_exactly_the_vocabulary(command, option, names):
    import click

    from lstmexp.cli.main import cli

    params = {opt: p for p in cli.commands[command].params for opt in p.opts}
    choice = params[option].type
    assert isinstance(choice, click.Choice) and tuple(choice.choices) == names
