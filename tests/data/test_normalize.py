"""Per-window input normalisation in the spec and the `lstmexp datasets` command (the wrapper itself: test_model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from lstmexp.data import Series
from lstmexp.errors import DataError
from lstmexp.spec import load_spec
from lstmexp.training.model import WindowNormalized, build_model
from lstmexp.trial.run import cached_series
from tests.search_specs import sized

CPU = torch.device("cpu")


def test_normalisation_in_the_spec_wraps_the_model_and_needs_targets_among_inputs():
    spec = load_spec(None, ["data.rows=400", "data.normalization=revin", "data.mode=S"])
    series = cached_series(spec.data.model_dump_json(), "cpu")
    assert isinstance(build_model(sized(spec, 16, 8, 8), series), WindowNormalized)
    outside = Series.from_frame(
        pd.DataFrame({"x": np.arange(50.0), "y": np.arange(50.0)}), ["y"], ["x"], (0.6, 0.2, 0.2), "none", CPU
    )
    with pytest.raises(DataError, match=r"needs every target among the inputs"):
        build_model(sized(spec, 16, 8, 8), outside)


def test_normalisation_is_searchable():
    spec = load_spec(None, ["search.space.normalization=[none, last, revin]"])
    assert spec.search.space.normalization == ("none", "last", "revin")
    assert spec.with_normalization("last").data.normalization == "last"


def test_datasets_lists_builtins_and_describes_a_file(cli, workdir):
    listed = cli("datasets")
    assert listed.code == 0
    for name in ("synthetic", "adding", "classify"):
        assert name in listed.out
    (workdir / "d.csv").write_text("date,a,y\n2020-01-01,1,2\n2020-01-02,2,3\n2020-01-03,3,5\n2020-01-04,4,7\n")
    described = cli("datasets", "describe", "d.csv", "-o", "data.split.rows={train: 2, val: 1, test: 1}")
    assert described.code == 0, described.err
    for figure in ("rows", "4", "a, y", "date", "2020-01-01 00:00:00 to 2020-01-04 00:00:00", "rows [2, 3): 1"):
        assert figure in described.out
    missing = cli("datasets", "describe", "nope.csv")
    assert missing.code == 2 and "nope.csv does not exist" in missing.err
    adding = cli("datasets", "describe", "adding")
    assert adding.code == 0 and "6,000 sequences" in adding.out
