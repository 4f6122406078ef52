"""Verdicts on C1..C14 from a claims study: each claim tested on the trials of the arm designed for it.

C1..C3 are checked on the run itself (the shapes of a batch fed, each trial's window and iteration
counts against N-T-h+1 and ceil(N/B)); C4..C14 are statements tested as in `lstmexp.report.claims`
(within-strata regression, bootstrap interval over trials and seeds), restricted to their arm. A
claim whose arm could not run on the data is "not testable here" with the arm's reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from lstmexp.report.claims import (
    CLAIMS,
    FAILS,
    HOLDS,
    NO_DATA,
    NOT_TESTABLE,
    SHORT_TIME_STEP,
    ClaimResult,
    Part,
    PartResult,
    best_lr_trials,
    combined_verdict,
    evaluate_part,
    log2_of,
)
from lstmexp.report.noise import quiet
from lstmexp.vocabulary.attrs import DESIGN_ARMS_ATTR
from lstmexp.vocabulary.names import (
    CHUNK,
    ITERATIONS_PER_EPOCH,
    SAMPLES_PER_S,
    STATEFUL,
    TRAIN_SAMPLES_PER_EPOCH,
    TRAIN_SEED,
    TRAIN_TARGETS,
    VAL_LOSS_BEST,
)

ARMS_COLUMN = DESIGN_ARMS_ATTR
EXPECTED = "expected"  # a checked claim's rows: what the claim's formula gives, beside the recorded figure
STRATA = ("batch_size", "time_step", "hidden_size", "train.lr", "train.stateful", "data.train_last_rows", "model.chunk")
TEXTS = {
    "C1": "A batch has shape [batch_size, time_step, input_size].",
    "C2": "N rows cut into windows of T give N-T+1 windows (N-T-h+1 with h targets after them).",
    "C3": "Iterations per epoch = ceil(samples / batch_size).",
    "C4": "Time steps run one after another: time per step grows with time_step.",
}
BY_CODE = {claim.code: claim for claim in CLAIMS}


def arm_trials(trials: pd.DataFrame, arm: str) -> pd.DataFrame:
    if ARMS_COLUMN not in trials.columns:
        return trials.iloc[0:0]
    return trials[trials[ARMS_COLUMN].map(lambda arms: isinstance(arms, list) and arm in arms)]


def with_derived(trials: pd.DataFrame) -> pd.DataFrame:
    """Time per step and per epoch from the probe's samples/s (which survives a busy machine)."""
    def column(name: str) -> pd.Series:
        values = trials[name] if name in trials.columns else pd.Series(np.nan, index=trials.index)
        return pd.to_numeric(values, errors="coerce")

    speed = column(SAMPLES_PER_S)
    return trials.assign(step_s=column("batch_size") / speed, epoch_s_probe=column(TRAIN_SAMPLES_PER_EPOCH) / speed)


def short_series(frame: pd.DataFrame) -> pd.Series:
    """1 for the short series' trials, 0 for the whole series' (describe_test probes with a frame without it)."""
    if "data.train_last_rows" not in frame.columns:
        return pd.Series(0.0, index=frame.index)
    rows = pd.to_numeric(frame["data.train_last_rows"], errors="coerce")
    return (rows < rows.max()).astype(float)


def interaction(column: str) -> Callable[[pd.DataFrame], dict[str, pd.Series]]:
    """C13: how much more log2 y changes per doubling of `column` on the short series than on the whole."""
    def regress(frame: pd.DataFrame) -> dict[str, pd.Series]:
        z = np.log2(pd.to_numeric(frame[column], errors="coerce"))
        short = short_series(frame)
        return {f"short series × log2 {column}": short * z, "short series": short, f"log2 {column}": z}

    return regress


DERIVED_SPEED = ("step_s", "epoch_s_probe")  # speed figures turned into times, per step and per epoch
C4_PART = Part("time per step grows with time_step", "step_s", "time_step", log2_of("time_step"), "up", False,
               "per 2× time_step")
C6_EPOCH = Part("seconds per epoch fall as batch_size grows (from the probe's samples/s)", "epoch_s_probe",
                "batch_size", log2_of("batch_size"), "down", False, "per 2× batch_size")
C13_PARTS = (
    Part("on the short series larger batches do relatively better (val loss, vs the whole series)", VAL_LOSS_BEST,
         "batch_size", interaction("batch_size"), "down", True, "per 2× batch_size, short vs whole"),
    Part("on the short series longer time steps do relatively worse (val loss, vs the whole series)", VAL_LOSS_BEST,
         "time_step", interaction("time_step"), "up", True, "per 2× time_step, short vs whole"),
)


def counted(result: ClaimResult, data: pd.DataFrame) -> ClaimResult:
    """The trials and seeds behind a verdict: the largest part's rows, the seeds of the arm's trials."""
    rows = [p.effect.rows for p in result.parts if p.effect is not None]
    result.trials = max(rows) if rows else len(data)
    result.seeds = int(data[TRAIN_SEED].nunique()) if TRAIN_SEED in data.columns else 0
    return result


def tested(code: str, text: str, arm: str, data: pd.DataFrame, parts: list[PartResult],
           context: str = "") -> ClaimResult:
    return counted(ClaimResult(code, text, combined_verdict(parts), parts, context=context, arm=arm), data)


def statement_parts(parts: tuple[Part, ...], data: pd.DataFrame, strata: tuple[str, ...] = STRATA) -> list[PartResult]:
    """Each part's verdict on the arm's trials (speed turned into times without the contended trials).

    Speed is not blocked by round (seed) although the rounds would allow it: at small budgets, with
    contended trials left out, a block of a round holds two or three trials, and the bootstrap then
    has too few distinct draws to give C4 or C10 an interval at all; the alternating order of the
    rounds already spreads a steady drift over every setting."""
    out = []
    for part in parts:
        usable = quiet(data)[0] if part.y in DERIVED_SPEED else data
        out.append(evaluate_part(part, usable, strata))
    return out


def check_part(statement: str, good: int, total: int, what: str, rows: pd.DataFrame) -> PartResult:
    verdict = HOLDS if total and good == total else FAILS
    note = f"{good:,} of {total:,} trials {what}" if total else "no trial to check"
    return PartResult(statement, verdict if total else NOT_TESTABLE, None, "trials", "checked on every trial",
                      rows, note)


def checked_rows(done: pd.DataFrame, x: str, y: str, expected: pd.Series) -> pd.DataFrame:
    """Per value of x: trial count, the median recorded y and the median the claim's formula gives."""
    frame = done.assign(**{EXPECTED: list(expected)})
    table = frame.groupby(x)[[y, EXPECTED]].agg(trials=(y, "size"), median=(y, "median"),
                                                expected=(EXPECTED, "median"))
    return table.reset_index().rename(columns={"median": f"median {y}"})


def shape_claim(fed: dict[str, Any], trials: pd.DataFrame) -> ClaimResult:
    expected = [fed["batch_size"], fed["time_step"], fed["input_size"]]
    ok = fed["inputs"] == expected and fed["targets"] == [fed["batch_size"], fed["horizon"], fed["output_size"]]
    rows = pd.DataFrame({"dimension": ["batch_size", "time_step", "input_size"], "trials": 1,
                         "median size": fed["inputs"], EXPECTED: expected})
    part = PartResult("a batch drawn from the train windows", HOLDS if ok else FAILS, None, "shape",
                      "a real batch of the study's data", rows,
                      f"inputs {fed['inputs']} = [batch_size, time_step, input_size] with {fed['input_size']} input "
                      f"column(s); targets {fed['targets']} = [batch_size, horizon, output_size]")
    return ClaimResult("C1", TEXTS["C1"], part.verdict, [part], arm="every trial", trials=1, seeds=1)


def counting_claims(trials: pd.DataFrame, facts: dict[str, Any]) -> list[ClaimResult]:
    """C2 and C3 on every completed stateless trial's own counts."""
    stateful = trials[STATEFUL].astype(bool) if STATEFUL in trials.columns else False
    done = trials[(trials["state"] == "complete") & ~stateful] if "state" in trials.columns else trials.iloc[0:0]
    needed = {TRAIN_TARGETS, "time_step", ITERATIONS_PER_EPOCH, TRAIN_SAMPLES_PER_EPOCH, "batch_size"}
    if done.empty or not needed <= set(done.columns):
        reason = "no completed stateless trial recorded its window counts"
        return [ClaimResult(c, TEXTS[c], NOT_TESTABLE, context=reason, arm="every trial") for c in ("C2", "C3")]
    used = done["data.train_last_rows"] if "data.train_last_rows" in done.columns else pd.Series(np.nan, done.index)
    rows = pd.to_numeric(used, errors="coerce").fillna(facts["train_rows"])
    windows = rows - done["time_step"] - facts["horizon"] + 1
    c2 = check_part("train samples = N - T - h + 1", int((done[TRAIN_TARGETS] == windows).sum()), len(done),
                    "had N - T - h + 1 train samples", checked_rows(done, "time_step", TRAIN_TARGETS, windows))
    iterations = [math.ceil(n / b) for n, b in zip(done[TRAIN_SAMPLES_PER_EPOCH], done["batch_size"], strict=True)]
    c3 = check_part("iterations per epoch = ceil(N / B)", int((done[ITERATIONS_PER_EPOCH] == iterations).sum()),
                    len(done), "ran ceil(samples / batch_size) iterations per epoch",
                    checked_rows(done, "batch_size", ITERATIONS_PER_EPOCH, pd.Series(iterations)))
    return [counted(ClaimResult(code, TEXTS[code], part.verdict, [part], arm="every trial"), done)
            for code, part in (("C2", c2), ("C3", c3))]


def at_best_lr(parts: tuple[Part, ...], data: pd.DataFrame) -> list[PartResult]:
    others = [c for c in STRATA if c not in ("train.lr", "batch_size") and c in data.columns]
    chosen = best_lr_trials(data, ["batch_size", *others])
    results = statement_parts(parts, chosen, tuple(c for c in STRATA if c != "train.lr"))
    for result in results:
        result.statement += " (each batch size at its best lr)"
    return results


def pending(arms: dict[str, dict[str, Any]], name: str) -> str:
    arm = arms.get(name, {})
    return str(arm.get("pending", "")) if arm else f"the design has no {name} arm"


def design_claims(trials: pd.DataFrame, stored: dict[str, Any]) -> list[ClaimResult]:
    """C1..C14 from a claims study's trials and its stored design, in order."""
    arms = {arm["name"]: arm for arm in stored["design"]["arms"]}
    trials = with_derived(trials)
    batch, lr_arm = arm_trials(trials, "batch"), arm_trials(trials, "batch_lr")
    steps, sequence, stateful = (arm_trials(trials, n) for n in ("time_step", "sequence", "stateful"))

    def on(code: str, arm: str, data: pd.DataFrame, parts: tuple[Part, ...], extra: list[PartResult] | None = None,
           context: str = "") -> ClaimResult:
        return tested(code, BY_CODE[code].text, arm, data, statement_parts(parts, data) + (extra or []), context)

    chunks = arm_trials(trials, "chunks")
    chunk_parts = chunked_parts(pending(arms, "chunks"), chunks)
    return [
        shape_claim(stored["fed"], trials),
        *counting_claims(trials, stored["design"]["facts"]),
        tested("C4", TEXTS["C4"], "time_step", steps, statement_parts((C4_PART,), steps)),
        on("C5", "batch", batch, BY_CODE["C5"].parts),
        on("C6", "batch", batch, (BY_CODE["C6"].parts[0], C6_EPOCH)),
        on("C7", "batch, batch_lr", batch, BY_CODE["C7"].parts, at_best_lr(BY_CODE["C7"].parts[:1], lr_arm)),
        on("C8", "batch, batch_lr", batch, BY_CODE["C8"].parts, at_best_lr(BY_CODE["C8"].parts, lr_arm)),
        on("C9", "batch", batch, BY_CODE["C9"].parts),
        on("C10", "time_step, chunks", steps, BY_CODE["C10"].parts[:1], chunk_parts("C10")),
        on("C11", "time_step", steps, BY_CODE["C11"].parts),
        tested("C12", BY_CODE["C12"].text, "time_step, chunks", steps,
               [*short_steps_part(steps, arms.get("time_step", {}), stored["design"]["facts"]), *chunk_parts("C12")]),
        arm_claim("C13", "sequence", sequence, pending(arms, "sequence"), lambda: [
            evaluate_part(p, sequence, ("time_step" if p.x == "batch_size" else "batch_size",)) for p in C13_PARTS]),
        arm_claim("C14", "stateful", stateful, pending(arms, "stateful"),
                  lambda: statement_parts(BY_CODE["C14"].parts, stateful)),
    ]


def short_steps_part(steps: pd.DataFrame, arm: dict[str, Any], facts: dict[str, Any]) -> list[PartResult]:
    """C12's first half; when the series is too short for a time step above the documents' range, says so."""
    result = statement_parts(BY_CODE["C12"].parts[:1], steps)
    longest = max((s["time_step"] for s in arm.get("settings", [])), default=0)
    if result[0].verdict == NO_DATA and longest <= SHORT_TIME_STEP:
        longer = 2 * SHORT_TIME_STEP
        rows = f"{facts['train_rows']:,}"
        result[0].note = (f"the time_step arm stops at {longest} (time steps up to an eighth of the {rows} train "
                          f"rows): about {8 * longer:,} train rows would give it time_step {longer} and make it "
                          "testable")
    return result


def chunked_parts(why_not: str, chunks: pd.DataFrame) -> Callable[[str], list[PartResult]]:
    """The chunk half of C10 and C12, on the chunks arm: a long window in chunks against the same window per step.

    When the arm could not run on the data, the part says why (and does not vote)."""
    def parts(code: str) -> list[PartResult]:
        found = [p for p in BY_CODE[code].parts if p.x == CHUNK]
        if not why_not:
            return statement_parts(tuple(found), chunks)
        return [PartResult(p.statement, NOT_TESTABLE, None, p.unit, "the chunks arm", pd.DataFrame(), why_not)
                for p in found]

    return parts


def arm_claim(code: str, arm: str, data: pd.DataFrame, why_not: str,
              parts: Callable[[], list[PartResult]]) -> ClaimResult:
    """A claim whose arm may not have run on this data: then not testable, with the arm's reason."""
    if why_not:
        return ClaimResult(code, BY_CODE[code].text, NOT_TESTABLE, context=why_not, arm=arm)
    return tested(code, BY_CODE[code].text, arm, data, parts())

