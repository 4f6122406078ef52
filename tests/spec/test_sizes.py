"""The sizes (train.batch_size, data.time_step, model.hidden_size) are spec fields like every other setting."""

from __future__ import annotations

import json

import pytest

from lstmexp.errors import SpecError
from lstmexp.spec import ExperimentSpec, load_spec
from lstmexp.spec.searchable import one_configuration, param_name, with_values
from lstmexp.spec.stored import as_written


def test_each_size_is_set_in_its_section_and_a_set_size_is_not_searched_over():
    spec = load_spec(None, ["train.batch_size=24", "data.time_step=12", "model.hidden_size=40"])
    assert spec.sizes() == {"batch_size": 24, "time_step": 12, "hidden_size": 40}
    space = spec.search.space
    assert [space.size(name).choices() for name in ("batch_size", "time_step", "hidden_size")] == [[24], [12], [40]]


def test_the_short_name_and_the_dotted_path_are_one_searched_field():
    short = load_spec(None, ["search.space.batch_size=[16, 32]", "search.space.time_step={low: 4, high: 8}"])
    dotted = load_spec(None, ["search.space.train.batch_size=[16, 32]",
                              "search.space.data.time_step={low: 4, high: 8}"])
    assert short.search.space == dotted.search.space
    assert short.search.space.fields["train.batch_size"].values == (16, 32)
    with pytest.raises(SpecError, match=r"batch_size and train.batch_size are the same field; give it once"):
        load_spec(None, ["search.space.batch_size=[16]", "search.space.train.batch_size=[32]"])


def test_a_searched_size_keeps_its_short_optuna_name_and_is_sampled_first():
    """Old studies named them batch_size, time_step, hidden_size: resuming one must see the same parameters."""
    from lstmexp.spec.searchable import ordered_paths

    spec = load_spec(None, ["search.space.train.lr=[0.001, 0.01]", "search.space.model.chunk=[1, 2]"])
    assert [param_name(p) for p in ordered_paths(spec)] == [
        "batch_size", "time_step", "hidden_size", "model.chunk", "train.lr"]


def test_a_misspelt_short_name_is_told_the_size_it_means():
    with pytest.raises(SpecError, match=r"search.space.batchsize: unknown key; did you mean 'batch_size'\?"):
        load_spec(None, ["search.space.batchsize=8"])


def test_a_pow2_range_is_a_field_space_of_whole_numbers_only():
    spec = load_spec(None, ["search.space.model.num_layers={low: 1, high: 6, scale: pow2}"])
    assert spec.search.space.fields["model.num_layers"].choices() == [1, 2, 4]
    with pytest.raises(SpecError, match=r"search.space.train.lr: `scale: pow2` picks whole numbers"):
        load_spec(None, ["search.space.train.lr={low: 0.5, high: 4.0, scale: pow2}"])


def test_one_run_takes_the_sizes_its_spec_sets_and_names_the_fix_otherwise():
    spec = load_spec(None, ["search.space.batch_size=[16, 32]", "train.batch_size=64", "data.time_step=8",
                            "search.space.hidden_size=[8]"])
    assert one_configuration(spec).sizes() == {"batch_size": 64, "time_step": 8, "hidden_size": 8}
    with pytest.raises(SpecError, match=r"--batch-size is required.*\(or -o train.batch_size=64\)"):
        one_configuration(load_spec(None, ["search.space.batch_size=[16, 32]"]))


def test_a_trials_spec_carries_its_sizes():
    trial = with_values(ExperimentSpec(), {"train.batch_size": 8, "data.time_step": 4, "model.hidden_size": 2})
    assert trial.sizes() == {"batch_size": 8, "time_step": 4, "hidden_size": 2}
    fields = trial.search.space.fields  # a trial searches only the values it has set
    assert [fields[path].values for path in ("train.batch_size", "data.time_step", "model.hidden_size")] == [
        (8,), (4,), (2,)]
    assert ExperimentSpec().search.space.fields["data.time_step"].values == (4, 8, 16, 32)  # its spec unchanged


def test_a_spec_stored_before_the_sizes_were_fields_reads_as_the_same_experiment():
    """What a study of the older layout stored (schema 2): the sizes as the space's ranges, none in a section."""
    old = ExperimentSpec().to_dict()
    for section, name in (("train", "batch_size"), ("data", "time_step"), ("model", "hidden_size")):
        del old[section][name]
    old["search"]["space"] = {
        "batch_size": {"values": None, "low": 16, "high": 256, "step": 1, "scale": "pow2"},
        "time_step": {"values": [4, 8, 16, 32], "low": None, "high": None, "step": 1, "scale": "linear"},
        "hidden_size": {"values": [16, 32, 64], "low": None, "high": None, "step": 1, "scale": "linear"},
        "normalization": None, "fields": {},
    }
    assert as_written(old, 2) == ExperimentSpec().to_dict()  # so its resume check compares equal


@pytest.mark.parametrize(("override", "needle"), [
    ("train.batch_size=0", "train.batch_size: Input should be greater than 0"),
    ("data.time_step=abc", "data.time_step: Input should be a valid integer"),
    ("model.hidden_size=4194304", "model.hidden_size: 4194304 is above the bound 1048576"),
])
def test_a_bad_size_is_one_line_naming_the_field_with_exit_2(cli, workdir, override, needle):
    result = cli("search", "-o", override)
    assert result.code == 2
    assert result.err.strip().count("\n") == 0 and needle in result.err and "Traceback" not in result.err


def test_run_trains_the_sizes_given_as_spec_fields(cli, workdir):
    result = cli("run", "-o", "data.rows=400", "-o", "train.epochs=1", "-o", "train.device=cpu", "-o",
                 "train.threads=1", "-o", "train.warmup_iters=1", "-o", "train.batch_size=16", "-o",
                 "data.time_step=4", "-o", "model.hidden_size=4", "--json")
    assert result.code == 0, result.err
    figures = json.loads(result.out)
    assert (figures["batch_size"], figures["time_step"], figures["hidden_size"]) == (16, 4, 4)
    inputs = 5  # the synthetic series' columns: an LSTM of 4 units on 5 inputs, a linear head to 1 target
    assert figures["lstm_steps"] == 4 and figures["param_count"] == 4 * 4 * (inputs + 4) + 2 * 4 * 4 + 4 + 1
