"""The experiment specs: the ETT univariate and multivariate benchmarks and the lr-co-tuned batch-size grid."""

from __future__ import annotations

import shutil

import pytest

from lstmexp.search import run_search
from lstmexp.search.registry import grid_points
from lstmexp.spec import load_spec
from lstmexp.storage.urls import load_existing_study
from lstmexp.trial.run import check_spec_runs
from lstmexp.vocabulary.choices import SIZE_PATHS
from tests.conftest import REPO, SHARED_DATA, needs_shared_data
from tests.search_specs import tiny

ETT = REPO / "experiments" / "ett_univariate.yaml"
ETT_M = REPO / "experiments" / "ett_multivariate.yaml"


def test_the_ett_spec_searches_chunked_lstms_within_a_cpu_budget():
    spec = load_spec(ETT)
    assert spec.data.path == "../shared/data/ETTh1.csv"  # relative to the repo root, as the make target runs
    assert spec.data.split.rows is not None and spec.data.lookback and spec.data.mode == "S"
    assert set(spec.search.space.fields) == {"train.lr", "model.chunk", "model.head", "model.head_dropout",
                                             "model.skip", *SIZE_PATHS.values()}
    assert spec.search.space.size("time_step").highest == 720 and spec.data.normalization == "last"
    assert spec.train.lr_decay == 0.5
    assert spec.search.objectives == ("val_loss",)  # selection by val loss only
    assert spec.search.max_cpu_minutes is not None and spec.search.max_cpu_minutes <= 20


def test_the_multivariate_spec_is_segrnns_recipe_within_a_cpu_budget():
    spec = load_spec(ETT_M)
    assert spec.data.mode == "M" and spec.data.split.rows is not None and spec.data.lookback
    assert (spec.model.channels, spec.data.normalization) == ("independent", "last")
    assert {"model.head", "model.skip", "model.head_dropout"} <= set(spec.search.space.fields)
    assert spec.search.objectives == ("val_loss",)
    assert spec.search.max_cpu_minutes is not None and spec.search.max_cpu_minutes <= 20


@needs_shared_data()
@pytest.mark.parametrize("path", [ETT, ETT_M], ids=["S", "M"])
@pytest.mark.parametrize("horizon", [96, 720])
def test_the_ett_specs_fit_the_benchmark_split_at_the_longest_look_back(path, horizon):
    spec = load_spec(path, [f"data.path={SHARED_DATA / 'ETTh1.csv'}", f"data.horizon={horizon}"])
    check_spec_runs(spec)  # raises when a 720-step window plus the horizon does not fit a split


@needs_shared_data()
@pytest.mark.parametrize("path", [ETT, ETT_M], ids=["S", "M"])
def test_the_same_specs_run_on_another_ett_hourly_file_by_changing_data_path_only(tmp_path, path):
    other = tmp_path / "ETTh2.csv"  # same columns and length as ETTh1 (a stand-in: ETTh2 is not shipped here)
    shutil.copy(SHARED_DATA / "ETTh1.csv", other)
    spec = load_spec(path, [f"data.path={other}"])
    check_spec_runs(spec)
    assert spec.model_dump(exclude={"data"}) == load_spec(path).model_dump(exclude={"data"})


def test_the_batch_lr_grid_crosses_batch_sizes_with_learning_rates_and_says_lr_is_cotuned(tmp_path):
    spec = load_spec(REPO / "experiments" / "batch_lr.yaml")
    points = grid_points(spec)
    assert len(points["batch_size"]) >= 3 and len(points["train.lr"]) >= 3
    assert spec.train.lr in points["train.lr"]  # the fixed-lr slice (batch_sweep's lr) is in the grid
    url = f"sqlite:///{tmp_path}/g.db"
    run_search(tiny("cotuned", "search.sampler=grid", "search.trials=4", "search.space.time_step=[4]",
                    "search.space.train.lr=[0.001,0.01]"), url)
    study = load_existing_study(url, "cotuned")
    assert study.user_attrs["lr_cotuned"] is True
    assert {(t.params["batch_size"], t.params["train.lr"]) for t in study.trials} == {
        (16, 0.001), (16, 0.01), (32, 0.001), (32, 0.01)
    }
