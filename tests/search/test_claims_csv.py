"""The claims design on a user's own CSV of the shapes real series have: a weekly one with missing weeks
and a yearly one of about 300 rows. Every arm that can run does, and an arm that cannot says why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmexp.report.claims_table import design_claims
from lstmexp.search.claims_study import data_facts, design_spec
from lstmexp.search.design import make_design
from lstmexp.spec import load_spec
from lstmexp.spec.searchable import with_values

UNDECIDABLE = ("not testable here", "not enough data")


def write_csv(path, dates: pd.DatetimeIndex, seed: int) -> str:
    rng = np.random.default_rng(seed)
    t = np.arange(len(dates))
    values = 50 + 40 * np.sin(2 * np.pi * t / 11) + rng.normal(0, 5, len(t))  # a sunspot-like cycle
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "y": values.round(2)}).to_csv(path, index=False)
    return str(path)


@pytest.fixture
def weekly(tmp_path) -> str:
    dates = pd.date_range("1958-03-29", periods=2284, freq="7D")
    gaps = np.random.default_rng(1).choice(len(dates), 59, replace=False)  # 59 missing weeks, as Mauna Loa CO2
    return write_csv(tmp_path / "weekly.csv", dates.delete(gaps), 1)


@pytest.fixture
def yearly(tmp_path) -> str:
    return write_csv(tmp_path / "yearly.csv", pd.date_range("1700-01-01", periods=309, freq="YS"), 2)


def design_of(path: str):
    spec = load_spec(None, [f"data.path={path}", "data.target=y", "train.device=cpu"])
    facts, fed = data_facts(spec)
    design = make_design(facts, spec.train.lr, budget_s=600)
    design_spec(spec, design, 10)  # the study's spec validates: every searched chunk divides every time_step
    return design, fed


def test_every_setting_of_the_design_gives_a_valid_trial_spec(yearly):
    """A stateful trial (chunk 1) and a chunked one (chunk 4) of one study: each trial's rules see its own values."""
    spec = load_spec(None, [f"data.path={yearly}", "data.target=y", "train.device=cpu"])
    facts, _ = data_facts(spec)
    design = make_design(facts, spec.train.lr, budget_s=600)
    study_spec = design_spec(spec, design, 10)
    settings = [s for s, _ in design.settings().values()]
    assert any(s.stateful for s in settings) and any(s.chunk > 1 for s in settings)
    for setting in settings:
        fields = {k: v for k, v in setting.params(facts.train_rows, True, True).items() if "." in k}
        trial = with_values(study_spec, fields)
        assert (trial.train.stateful, trial.model.chunk) == (setting.stateful, setting.chunk)


@pytest.mark.parametrize("series", ["weekly", "yearly"])
def test_every_arm_runs_on_a_real_shaped_series(series, request):
    design, _ = design_of(request.getfixturevalue(series))
    arms = {arm.name: arm for arm in design.arms}
    assert all(arm.settings and not arm.pending for arm in arms.values()), {n: a.pending for n, a in arms.items()}
    assert any(s.chunk > 1 for s in arms["chunks"].settings)
    assert design.estimate_cpu_s <= 600


def test_the_yearly_series_says_why_each_claim_it_cannot_decide_cannot_be_decided(yearly):
    design, fed = design_of(yearly)
    claims = design_claims(pd.DataFrame({"number": [], "state": [], "design_arms": []}),
                           {"design": design.to_attr(), "fed": fed})
    for claim in claims:
        if claim.verdict in UNDECIDABLE:
            reasons = [claim.context, *(p.note for p in claim.parts)]
            assert any(reasons), claim.code  # never "not testable" without its reason
    c12 = next(c for c in claims if c.code == "C12")
    assert "train rows would give it time_step 64" in c12.parts[0].note  # a yearly series is too short for T=64
