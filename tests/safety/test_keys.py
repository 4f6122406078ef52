"""Smaller hostile inputs, each refused in one line before anything is written: unknown keys listed with
the keys that are known there, a key given twice in YAML, empty flag and override values; and a Ctrl-C
that reaches a storage call is a Ctrl-C (exit 130), never a storage failure."""

from __future__ import annotations

import optuna
import pytest
import sqlalchemy.exc

import lstmexp.report.studies as study_list
import lstmexp.search.run as search_run
from lstmexp.storage.urls import opening_errors, storage_errors
from tests.hostile import QUICK_SPEC, assert_one_line, fingerprint

PG_URL = "postgresql://postgres@127.0.0.1:5432/lstmexp_nowhere"


@pytest.mark.parametrize(
    ("override", "field", "known"),
    [
        ("search.space.model.num_layers={low: 1, high: 3, extra: 5}", "search.space.model.num_layers.extra",
         "high, low, scale, step, values"),
        ("search.space.train.lr={low: 0.001, high: 0.01, sclae: log}", "search.space.train.lr.sclae",
         "did you mean 'scale'? known keys here: high, low, scale, step, values"),
        ("data.split.rows={train: 100, val: 10, test: 10, extra: 5}", "data.split.rows.extra", "test, train, val"),
        ("data.split.dates={val: '2017-01-01', test: '2017-06-01', extra: 5}", "data.split.dates.extra",
         "end, test, val"),
    ],
)
def test_an_unknown_key_lists_the_keys_known_there(cli, workdir, override, field, known):
    line = assert_one_line(cli("search", "-o", override), f"{field}: unknown key")
    assert line.endswith(known), line


@pytest.mark.parametrize(
    ("text", "key", "lines"),
    [
        ("study: a\ntrain: {epochs: 1}\nstudy: b\n", "'study'", "lines 1 and 3"),
        ("train:\n  epochs: 1\n  lr: 0.01\n  epochs: 2\n", "'epochs'", "lines 2 and 4"),
        ("search:\n  space:\n    batch_size: {low: 16, high: 64, low: 8}\n", "'low'", "lines 3 and 3"),
        ("data:\n  rows: 400\ndata:\n  rows: 800\n", "'data'", "lines 1 and 3"),
    ],
)
def test_a_key_given_twice_is_refused_naming_it_and_its_lines(cli, workdir, text, key, lines):
    (workdir / "spec.yaml").write_text(text)
    before = fingerprint(workdir)
    line = assert_one_line(cli("search", "spec.yaml"), f"key {key} is given twice, at {lines}")
    assert "spec.yaml" in line
    assert fingerprint(workdir) == before


def test_a_yaml_merge_may_still_be_overridden_by_the_keys_beside_it(workdir):
    """A guard for the duplicate-key refusal (it passes before it too): merged keys are not duplicates."""
    from lstmexp.spec import load_spec

    (workdir / "spec.yaml").write_text("train:\n  <<: {epochs: 1, lr: 0.01}\n  epochs: 2\n")
    assert load_spec(workdir / "spec.yaml").train.epochs == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["report", "--max-memory", ""], "--max-memory is empty"),
        (["report", "--study", ""], "--study is empty"),
        (["search", "--study", ""], "--study is empty"),
        (["studies", "--storage", " "], "--storage is empty"),
        (["search", "--device", ""], "--device is empty"),
        (["run", "--device", ""], "--device is empty"),
        (["search", ""], "SPEC is empty"),
        (["datasets", "describe", ""], "NAME_OR_PATH is empty"),
        (["predict", "x", "--trial", "0", "--out", ""], "--out is empty"),
        (["search", "-o", "train.epochs="], "override 'train.epochs=' has no value"),
        (["search", "-o", "search.constraints.max_memory="], "has no value"),
        (["run", "-o", "train.threads= "], "has no value"),
    ],
)
def test_an_empty_value_is_refused_not_read_as_not_given(cli, workdir, args, needle):
    assert_one_line(cli(*args), needle)
    assert not (workdir / "results").exists()


def ctrl_c_inside(error: type[BaseException]) -> BaseException:
    """The error a database driver raises while a KeyboardInterrupt unwinds through it."""
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            if error is sqlalchemy.exc.OperationalError:
                raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connection closed")) from None
            raise error("the connection was closed") from None
    except BaseException as raised:
        return raised
    raise AssertionError("unreachable")


@pytest.mark.parametrize("error", [sqlalchemy.exc.OperationalError, optuna.exceptions.StorageInternalError])
def test_a_storage_error_raised_by_ctrl_c_is_a_ctrl_c(error):
    with pytest.raises(KeyboardInterrupt), storage_errors(PG_URL):
        raise ctrl_c_inside(error)
    with pytest.raises(KeyboardInterrupt), opening_errors(PG_URL):
        raise ctrl_c_inside(error)


def test_ctrl_c_while_opening_the_storage_exits_130_without_a_storage_message(cli, workdir, monkeypatch):
    (workdir / "quick.yaml").write_text(QUICK_SPEC)

    def interrupted_open(*args, **kwargs):
        raise ctrl_c_inside(optuna.exceptions.StorageInternalError)

    monkeypatch.setattr(search_run, "open_storage", interrupted_open)
    result = cli("search", "quick.yaml", "--storage", f"sqlite:///{workdir / 's.db'}")
    assert result.code == 130, result.err
    assert "interrupted" in result.err and "storage" not in result.err.split("interrupted")[0]
    assert "failed" not in result.err and "KeyboardInterrupt" not in result.err


def test_ctrl_c_inside_a_reading_command_exits_130(cli, workdir, monkeypatch):
    from tests.hostile import make_studies

    database, _ = make_studies(workdir / "made")

    def interrupted_rows(*args, **kwargs):
        raise ctrl_c_inside(RuntimeError)

    monkeypatch.setattr(study_list, "study_rows", interrupted_rows)
    monkeypatch.setattr("lstmexp.report.studies.study_rows", interrupted_rows)
    result = cli("studies", "--storage", f"sqlite:///{database}")
    assert result.code == 130, result.err
    assert "internal error" not in result.err and "KeyboardInterrupt" not in result.err
