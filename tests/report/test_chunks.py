"""The report on chunked trials: the time_step tables and the time-step claims say which trials were chunked."""

from __future__ import annotations

from lstmexp.report.build import matrices, tradeoff_table
from lstmexp.report.claims import HOLDS, NO_DATA, evaluate_claims
from lstmexp.report.claims_section import part_rows
from lstmexp.report.load import load_trials
from lstmexp.report.sections import matrix_section, tradeoff_section
from tests.report_studies import make_study, make_trial


def chunk_trials(chunked_loss: float = 0.40, per_step_loss: float = 0.50):
    """Per-step and chunk-24 trials at time_step 48 and 96 (three seeds each), with known losses and speeds."""
    trials = []
    for time_step in (48, 96):
        for chunk, loss in ((1, per_step_loss), (24, chunked_loss)):
            for k in range(3):
                trials.append(make_trial(
                    64, time_step, chunk=chunk, lstm_steps=time_step // chunk,
                    val_loss_best=loss * (1 + 0.01 * k) * (1 + time_step / 1000),
                    samples_per_s=1e6 / (time_step / chunk) * (1 + 0.01 * k),
                ))
    return load_trials(make_study(trials)).frame


def claims_of(frame) -> dict:
    return {c.code: c for c in evaluate_claims(frame)}


def test_c12_chunk_part_holds_when_chunked_trials_reach_a_lower_loss_at_the_same_time_step():
    part = claims_of(chunk_trials())["C12"].parts[1]
    assert part.statement.startswith("chunked trials reach a lower best val loss")
    assert part.verdict == HOLDS
    assert abs(part.effect.factor - 0.8) < 0.02  # 0.40 / 0.50
    assert "6 of 12 trials chunked (chunk 24, so the LSTM ran 2, 4 steps" in part.note
    worse = claims_of(chunk_trials(chunked_loss=0.6))["C12"].parts[1]
    assert worse.verdict != HOLDS


def test_c10_chunk_part_holds_when_chunks_speed_training():
    part = claims_of(chunk_trials())["C10"].parts[1]
    assert part.verdict == HOLDS
    assert abs(part.effect.factor - 2.0) < 0.05  # 24x fewer steps: 24x the speed, x2 per doubling of the chunk


def test_chunk_parts_need_both_kinds_of_trial():
    per_step_only = load_trials(make_study([make_trial(64, t, chunk=1, lstm_steps=t) for t in (8, 16)
                                            for _ in range(3)])).frame
    claims = claims_of(per_step_only)
    assert claims["C12"].parts[1].verdict == NO_DATA
    assert "every trial ran per step" in claims["C11"].parts[0].note


def test_time_step_effects_are_compared_within_one_chunk():
    """The time_step parts of C11 stratify by chunk: per-step and chunked trials are never pooled."""
    part = claims_of(chunk_trials())["C11"].parts[0]
    assert "chunk" in part.test
    assert set(part.rows["chunk"]) == {1, 24}


def test_time_step_tables_say_which_trials_were_chunked():
    frame = chunk_trials()
    table = tradeoff_table(frame, "time_step")
    assert list(table["chunk"]) == ["1, 24", "1, 24"]
    assert list(table["T/S steps"]) == ["2, 48", "4, 96"]
    section = tradeoff_section("time_step", table, "tradeoffs", "by time_step")
    assert "T/S steps: the LSTM's steps" in section.caption
    matrix = matrices(frame)["val_loss_best"]
    assert list(matrix.columns) == ["48 (per step)", "48 (S=24: 2 steps)", "96 (per step)", "96 (S=24: 4 steps)"]
    assert "the LSTM ran T/S steps" in matrix_section("val_loss_best", matrix).caption


def test_tables_of_unchunked_studies_are_unchanged():
    frame = load_trials(make_study([make_trial(64, t) for t in (8, 16) for _ in range(2)])).frame
    assert "chunk" not in tradeoff_table(frame, "time_step").columns
    assert list(matrices(frame)["val_loss_best"].columns) == [8, 16]


def test_a_searched_chunk_is_one_stratum_and_each_note_is_said_once():
    trials = [make_trial(64, t, extra={"model.chunk": c}, chunk=c, lstm_steps=t // c,
                         val_loss_best=(0.4 if c > 1 else 0.5) * (1 + 0.01 * k))
              for t in (48, 96) for c in (1, 24) for k in range(3)]
    frame = load_trials(make_study(trials)).frame
    claims = {c.code: c for c in evaluate_claims(frame, ["batch_size", "time_step", "hidden_size", "model.chunk"])}
    part = claims["C11"].parts[0]
    assert "model.chunk" in part.test and ", chunk" not in part.test
    notes: list[str] = []
    part_rows(claims["C11"], notes)
    assert "\n".join(dict.fromkeys(notes)).count("6 of 12 trials chunked") == 1
    assert claims["C12"].parts[1].verdict == HOLDS  # x is the chunk: model.chunk is not held fixed against it


def test_time_step_claims_say_which_trials_had_a_linear_skip_and_never_pool_them():
    trials = [make_trial(64, t, chunk=24, lstm_steps=t // 24, skip=skip,
                         val_loss_best=(0.3 if skip == "linear" else 0.5) * (1 + t / 1000) * (1 + 0.01 * k))
              for t in (48, 96) for skip in ("none", "linear") for k in range(3)]
    part = claims_of(load_trials(make_study(trials)).frame)["C11"].parts[0]
    assert "6 of 12 trials had a linear skip beside the LSTM" in part.note
    assert "skip" in part.test and set(part.rows["skip"]) == {"none", "linear"}
    plain = [make_trial(64, t, chunk=24, lstm_steps=t // 24, skip="none") for t in (48, 96) for _ in range(3)]
    assert "linear skip" not in claims_of(load_trials(make_study(plain)).frame)["C11"].parts[0].note
