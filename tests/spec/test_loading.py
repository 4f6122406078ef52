from pathlib import Path

import pytest

from lstmexp.errors import SpecError
from lstmexp.spec import ExperimentSpec, FieldSpace, apply_override, load_spec

REPO = Path(__file__).resolve().parents[2]


def test_default_spec_file_matches_the_built_in_defaults():
    assert load_spec(REPO / "experiments" / "default.yaml") == ExperimentSpec()


def test_smoke_spec_is_valid_and_small():
    spec = load_spec(REPO / "experiments" / "smoke.yaml")
    assert spec.search.trials <= 3 and spec.train.epochs <= 2


@pytest.mark.parametrize(
    ("raw", "grid"),
    [
        (64, [64]),
        ([16, 32, 64], [16, 32, 64]),
        ({"low": 4, "high": 10, "step": 3}, [4, 7, 10]),
        ({"low": 10, "high": 300, "scale": "pow2"}, [16, 32, 64, 128, 256]),
        ({"low": 1, "high": 4, "scale": "log"}, [1, 2, 3, 4]),
    ],
)
def test_size_space_forms(raw, grid):
    assert FieldSpace.model_validate(raw).grid() == grid


def test_overrides_are_parsed_as_yaml_and_nest():
    spec = load_spec(None, ["train.epochs=3", "train.lr=1e-2", "search.space.time_step=[5, 10]", "study=x1"])
    assert spec.train.epochs == 3
    assert spec.train.lr == pytest.approx(0.01)
    assert spec.search.space.size("time_step").grid() == [5, 10]
    assert spec.study == "x1"


def test_override_refines_a_short_form():
    raw = {"search": {"space": {"batch_size": 64}}}
    apply_override(raw, "search.space.batch_size.scale=pow2")
    assert raw["search"]["space"]["batch_size"] == {"values": [64], "scale": "pow2"}


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("train.epoch=3", "train.epoch: unknown key; did you mean 'epochs'?"),
        ("bogus=1", "bogus: unknown key"),
        ("train.epochs=0", "train.epochs: Input should be greater than 0"),
        ("train.epochs=-2", "train.epochs: Input should be greater than 0"),
        ("train.epochs=abc", "train.epochs: Input should be a valid integer"),
        ("train.epochs=2.5", "train.epochs: Input should be a valid integer"),
        ("train.lr=true", "train.lr: Input should be a valid number"),
        ("train.lr=0", "train.lr: Input should be greater than 0"),
        ("train.device=gpu", "train.device: unknown device 'gpu'"),
        ("search.space.batch_size={low: 64, high: 8}", "search.space.batch_size: range is inverted"),
        ("search.space.batch_size=0", "search.space.batch_size: Input should be greater than 0"),
        ("search.space.batch_size=[]", "search.space.batch_size: `values` is empty"),
        ("search.space.time_step=[8, 8]", "search.space.time_step: `values` has duplicates"),
        ("search.space.hidden_size={low: 3, high: 3, scale: pow2}", "no power of two lies in [3, 3]"),
        ("search.space.hidden_size={low: 3, high: 9, scale: log, step: 2}", "`scale: log` needs low > 0 and no `step`"),
        ("search.space.hidden_size={low: 3}", "give `values: [...]` or both `low` and `high`"),
        ("search.sampler=annealing", "search.sampler: Input should be 'tpe', 'random', 'grid', 'gp', 'nsga2' or 'qmc'"),
        ("data.split.train=0.9", "data.split: train + val + test must sum to 1"),
        ("model.dropout=1.5", "model.dropout: Input should be less than 1"),
        ("study=bad name!", "study: String should match pattern"),
        ("train=3", "train: Input should be a valid dictionary"),
    ],
)
def test_validation_errors_name_the_field(override, needle):
    with pytest.raises(SpecError) as caught:
        load_spec(None, [override])
    message = str(caught.value)
    assert needle in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "is empty"),
        ("train: [1, 2\n", "is not valid YAML at line"),
        ("- a\n- b\n", "must be a YAML mapping"),
        ("train:\n  epochs: 3\n  epochs_typo: 1\n", "train.epochs_typo: unknown key"),
    ],
)
def test_bad_spec_files(tmp_path, text, needle):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match=None) as caught:
        load_spec(path)
    assert needle in str(caught.value)


def test_missing_spec_file(tmp_path):
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "nope.yaml")


@pytest.mark.parametrize("override", ["noequals", "=3", "train.epochs.deeper=1"])
def test_malformed_overrides(override):
    with pytest.raises(SpecError):
        load_spec(None, [override])
