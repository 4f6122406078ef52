"""A claims study's report: one row per claim C1..C14, each verdict with its reason when not testable."""

from __future__ import annotations

import pandas as pd

from lstmexp.report.claims_section import EFFECT, table_rows
from lstmexp.report.claims_table import design_claims
from lstmexp.search.design import DataFacts, make_design

YEARLY = DataFacts(train_rows=210, horizon=1, input_size=1, stateful_fits=False)
TINY = DataFacts(train_rows=30, horizon=1, input_size=1, stateful_fits=False)
FED = {"batch_size": 4, "time_step": 8, "input_size": 1, "output_size": 1, "horizon": 1, "inputs": [4, 8, 1],
       "targets": [4, 1, 1], "input_columns": ["y"]}


def stored(facts: DataFacts) -> dict[str, object]:
    return {"design": make_design(facts, 0.003, budget_s=600).to_attr(), "fed": FED}


def no_trials() -> pd.DataFrame:
    return pd.DataFrame({"number": [], "state": [], "design_arms": []})


def test_every_claim_gets_a_row_in_order_and_an_arm_that_cannot_run_gives_its_reason():
    claims = design_claims(no_trials(), stored(TINY))
    assert [c.code for c in claims] == [f"C{n}" for n in range(1, 15)]
    rows = table_rows(claims).set_index("claim")
    assert rows.loc["C1", "verdict"] == "holds"  # the batch drawn from the data had the documented shape
    why = rows[EFFECT]
    assert rows.loc["C13", "verdict"] == "not testable" and "would make it testable" in why["C13"]
    assert "makes it testable" in why["C14"]
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


def chunks_arm_trials(chunked_loss: float) -> pd.DataFrame:
    """The chunks arm's three settings over three seeds: T=16 in chunks of 4, T=16 per step, T=4 per step."""
    rows = []
    for seed in range(3):
        for time_step, chunk, loss in ((16, 4, chunked_loss), (16, 1, 0.40), (4, 1, 0.45)):
            rows.append({"number": len(rows), "state": "complete", "design_arms": ["chunks"], "batch_size": 2,
                         "time_step": time_step, "hidden_size": 32, "train.lr": 0.003, "train.stateful": False,
                         "model.chunk": chunk, "chunk": chunk, "lstm_steps": time_step // chunk, "train_seed": seed,
                         "val_loss_best": loss * (1 + 0.01 * seed),
                         "samples_per_s": 1000.0 * chunk * (1 + 0.01 * seed)})
    return pd.DataFrame(rows)


def test_c12_gets_its_verdict_from_the_chunks_arm():
    better = {c.code: c for c in design_claims(chunks_arm_trials(0.30), stored(YEARLY))}
    c12 = better["C12"]
    chunk_part = next(p for p in c12.parts if "chunked" in p.statement)
    assert chunk_part.verdict == "holds" and chunk_part.effect.high < 1  # chunks 25% lower than per step
    assert c12.verdict == "holds" and "chunks" in c12.arm  # the time_step half has no trials: it does not vote
    assert better["C10"].verdict == "holds"  # 4× chunk ran 4× the samples/s at the same time_step
    worse = {c.code: c for c in design_claims(chunks_arm_trials(0.50), stored(YEARLY))}
    assert worse["C12"].verdict == "does not hold"
    short_steps = c12.parts[0]  # 210 rows: the time_step arm stops at 16, below the documents' range
    assert short_steps.verdict == "not enough data" and "train rows would give it time_step 64" in short_steps.note


def test_the_chunk_half_is_not_testable_with_the_arms_reason_when_the_arm_cannot_run():
    c12 = {c.code: c for c in design_claims(no_trials(), stored(TINY))}["C12"]
    chunk_part = next(p for p in c12.parts if "chunked" in p.statement)
    assert chunk_part.verdict == "not testable here" and "would make it testable" in chunk_part.note
