"""Any spec field is searchable: dotted paths, their validation, conditional dropout, config and reproduce."""

from __future__ import annotations

import json
import shlex

import pytest

from lstmexp.errors import SpecError
from lstmexp.search import run_search
from lstmexp.spec import load_spec
from lstmexp.trial.record import trial_figures
from tests.search_specs import tiny, trials_of

LR_AND_LAYERS = [
    "search.space.train.lr={low: 1e-3, high: 1e-2, scale: log}",
    "search.space.model.num_layers=[1,2]",
    "search.space.model.dropout={low: 0.0, high: 0.3}",
    "search.sampler=random",
    "search.trials=6",
]


def test_a_search_over_lr_and_layers_records_them_in_params_config_and_reproduce(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    run_search(tiny("fields", *LR_AND_LAYERS), url, reproduce_base="lstmexp run SPEC")
    trials = trials_of(url, "fields")
    assert len(trials) == 6
    for trial in trials:
        params, attrs = trial.params, trial_figures(trial.user_attrs)
        assert 1e-3 <= params["train.lr"] <= 1e-2
        assert params["model.num_layers"] in (1, 2)
        assert json.loads(attrs["config"]) == params  # the key is every searched value, and only those
        words = shlex.split(attrs["reproduce"])
        assert f"train.lr={json.dumps(params['train.lr'])}" in words
        assert f"model.num_layers={params['model.num_layers']}" in words
        assert f"train.seed={attrs['train_seed']}" in words
        # dropout is sampled only where it applies (between layers), and the skip is recorded
        if params["model.num_layers"] == 1:
            assert "model.dropout" not in params
            assert "num_layers=1" in attrs["not_applied"]["model.dropout"]
        else:
            assert 0.0 <= params["model.dropout"] <= 0.3
        assert attrs["cpu_s"] > 0
    assert {t.params["model.num_layers"] for t in trials} == {1, 2}


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("search.space.train.lr={low: -1, high: 1e-2}", "search.space.train.lr: Input should be greater than 0"),
        ("search.space.model.dropout={low: 0.0, high: 1.5}", "search.space.model.dropout: Input should be less than 1"),
        ("search.space.model.num_layers=[0,1]", "search.space.model.num_layers: Input should be greater than 0"),
        ("search.space.train.lrr=[1e-3]", "search.space.train.lrr: unknown field"),
        ("search.space.train.seed=[1,2]", "search.space.train.seed cannot be searched"),
        ("search.space.data.scaling={low: 1, high: 2}", "search.space.data.scaling: not a number"),
        ("search.space.model.num_layers={low: 1.5, high: 3}", "num_layers: low 1.5 is not a whole number"),
    ],
)
def test_a_bad_bound_on_a_searched_field_is_one_line_naming_it(override, words):
    with pytest.raises(SpecError) as caught:
        load_spec(None, [override])
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_bad_bound_exits_2_with_one_line_on_the_command_line(cli, workdir):
    result = cli("search", "-o", "search.space.train.lr={low: 0, high: 1}")
    assert result.code == 2
    assert result.err.strip().count("\n") == 0
    assert "search.space.train.lr" in result.err and "Traceback" not in result.err


def test_dotted_and_nested_forms_are_the_same_space_and_data_normalization_keeps_its_short_name():
    nested = load_spec(None, ["search.space.train.lr=[0.001, 0.01]"])
    dotted = load_spec(None, []).model_validate(
        {"search": {"space": {"train.lr": [0.001, 0.01], "data.normalization": ["none", "last"]}}}
    )
    assert nested.search.space.fields == dotted.search.space.fields  # the sizes at their default spaces beside
    assert nested.search.space.fields["train.lr"].values == (0.001, 0.01)
    assert dotted.search.space.normalization == ("none", "last")
    assert "data.normalization" not in dotted.search.space.fields


def test_the_reproduce_command_of_a_repeat_trial_reproduces_its_val_loss_exactly(tmp_path, cli, tiny_spec):
    url = f"sqlite:///{tmp_path}/r.db"
    # one configuration searched three times: the repeats train with seeds 0, 1, 2
    overrides = ["search.space.batch_size=[16]", "search.space.time_step=[8]", "search.space.train.lr=[0.003]",
                 "search.trials=2", "search.sampler=random", "train.epochs=2"]
    args = [a for o in overrides for a in ("-o", o)]
    assert cli("search", str(tiny_spec), "--storage", url, "--study", "rep", *args).code == 0
    repeat = trials_of(url, "rep")[1]
    assert trial_figures(repeat.user_attrs)["repeat_of"] == 0 and trial_figures(repeat.user_attrs)["train_seed"] == 1
    words = shlex.split(trial_figures(repeat.user_attrs)["reproduce"])
    assert words[:3] == ["lstmexp", "run", str(tiny_spec)]
    result = cli(*words[1:], "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["val_loss_best"] == trial_figures(repeat.user_attrs)["val_loss_best"]


def test_a_grid_over_a_float_range_is_refused_before_any_storage_is_created(cli, tiny_spec, workdir):
    result = cli("search", str(tiny_spec), "--sampler", "grid", "--storage", "sqlite:///g.db",
                 "-o", "search.space.train.lr={low: 1e-3, high: 1e-2}")
    assert result.code == 2
    assert "grid needs listed values: give search.space.train.lr as [a, b, ...]" in result.err
    assert not (workdir / "g.db").exists()
