"""A claims study's report: one row per claim C1..C14, each verdict with its reason when not testable."""

from __future__ import annotations

import pandas as pd

from lstmexp.report.claims_section import EFFECT, table_rows
from lstmexp.report.claims_table import design_claims
from lstmexp.search.design import DataFacts, make_design

YEARLY = DataFacts(train_rows=210, horizon=1, input_size=1, stateful_fits=False)
FED = {"batch_size": 4, "time_step": 8, "input_size": 1, "output_size": 1, "horizon": 1, "inputs": [4, 8, 1],
       "targets": [4, 1, 1], "input_columns": ["y"]}


def stored(facts: DataFacts) -> dict[str, object]:
    return {"design": make_design(facts, 0.003, budget_s=600).to_attr(), "fed": FED}


def no_trials() -> pd.DataFrame:
    return pd.DataFrame({"number": [], "state": [], "design_arms": []})


def test_every_claim_gets_a_row_in_order_and_an_arm_that_cannot_run_gives_its_reason():
    claims = design_claims(no_trials(), stored(YEARLY))
    assert [c.code for c in claims] == [f"C{n}" for n in range(1, 15)]
    rows = table_rows(claims).set_index("claim")
    assert rows.loc["C1", "verdict"] == "holds"  # the batch drawn from the data had the documented shape
    why = rows[EFFECT]
    assert rows.loc["C13", "verdict"] == "not testable" and "would make it testable" in why["C13"]
    assert "makes it testable" in why["C14"]
    assert "model.chunk" in why["C12"] or rows.loc["C12", "verdict"] != "not testable"
    undecided = rows[rows["verdict"] == "not testable"]
    assert undecided[EFFECT].str.startswith("why: ").all()
    assert (undecided[EFFECT].str.len() > len("why: ")).all()  # never without a reason


def test_a_batch_of_the_wrong_shape_does_not_hold():
    wrong = {**FED, "inputs": [4, 1, 8]}  # time and features swapped
    claims = design_claims(no_trials(), {"design": make_design(YEARLY, 0.003, 600).to_attr(), "fed": wrong})
    assert claims[0].verdict == "does not hold"


def test_counts_are_checked_on_every_trial():
    trials = pd.DataFrame({
        "number": [0, 1], "state": ["complete", "complete"], "design_arms": [["batch"], ["batch"]],
        "batch_size": [4, 8], "time_step": [4, 4], "stateful": [False, False],
        "train_targets": [206, 206], "train_samples_per_epoch": [206, 206],
        "iterations_per_epoch": [52, 25],  # ceil(206 / 8) is 26: the second trial miscounted
    })
    claims = {c.code: c for c in design_claims(trials, stored(YEARLY))}
    assert claims["C2"].verdict == "holds" and "2 of 2 trials" in claims["C2"].parts[0].note
    assert claims["C3"].verdict == "does not hold" and "1 of 2 trials" in claims["C3"].parts[0].note
