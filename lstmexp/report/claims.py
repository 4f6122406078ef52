"""Verdicts on the documents' claims C5..C14 (../shared/claims.md), each from a stated test.

A claim is split into parts that a study's recorded metrics can test. Each part names its test:
the metric y, the population (losses, best epoch and gradient norms from completed trials only: a
pruned trial stopped after a few epochs and those figures are not comparable; speed and memory
from completed and pruned trials, which measured them validly), the regressor, the strata that
keep everything else equal, and the direction that supports the claim.
`evidence.within_strata_effect` gives the effect with a bootstrap interval. A part's verdict:

    holds          the whole 95% interval lies on the claim's side of "no effect" (factor 1)
    does not hold  the whole interval lies on the other side, or inside ±5% of no effect
    mixed          the interval straddles no effect (the data leans neither way clearly)
    not enough data  fewer than 4 usable trials, or x never varies inside a stratum, or too few distinct
                   trials for an interval (evidence.percentile_interval says which)
    not testable here  the figure is flat because the study cannot vary it (every trial's best
                   epoch was its last; every trial recorded the same value): never "does not hold"

Speed statements use uncontended trials only (`noise.quiet`); the count left out is in the note.

A claim's verdict combines its tested parts: all hold -> holds, none holds -> does not hold,
otherwise mixed; parts without data or not testable are listed but do not vote. A claim with no testable part
points to the experiment that tests it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lstmexp.report.evidence import MIN_ROWS, Effect, effect_or_reason
from lstmexp.report.noise import SPEED_METRICS, format_number, left_out_note, quiet
from lstmexp.vocabulary.choices import SEARCHED_PARAMS
from lstmexp.vocabulary.names import (
    BEST_EPOCH,
    CHANNELS,
    CHUNK,
    DEVICE,
    EPOCHS_RUN,
    FAILURE_REASON,
    GRAD_NORM_MAX,
    GRAD_NORM_MEAN,
    HEAD,
    HORIZON,
    LSTM_STEPS,
    MODE,
    NORMALIZATION,
    PEAK_MEM_BYTES,
    SAMPLES_PER_S,
    SKIP,
    STATEFUL,
    STUDY_BUDGET_CUT,
    TRAIN_LOSS_FINAL,
    TRAIN_S_PER_EPOCH,
    VAL_LOSS_BEST,
)

HOLDS, FAILS, MIXED, NO_DATA = "holds", "does not hold", "mixed", "not enough data"
NOT_TESTABLE = "not testable here"
# Claims about batch size whose answer depends on the learning rate (tested at each batch size's best lr too).
LR_CLAIMS = ("C5", "C6", "C7", "C8", "C9")
LR_PARAM = "train.lr"
NEGLIGIBLE = 1.05  # an effect inside ×1/1.05..×1.05 counts as no effect
# Settings every trial's record holds (how the data was fed, the device); trials differing in them are never
# compared. The data itself is fixed per study unless searched, and searched fields stratify as parameters.
# chunk, channels, head and skip change what one time step costs and how far back the model reaches, so a
# chunked trial is only compared with trials chunked the same way (the chunk parts compare across chunks).
CONTEXT_COLUMNS = (STATEFUL, MODE, HORIZON, NORMALIZATION, DEVICE, CHUNK, CHANNELS, HEAD, SKIP)
# Claims about the time step: their notes say which trials were chunked.
TIME_STEP_CLAIMS = ("C10", "C11", "C12")
SMALL_BATCH = 8  # C8: "very small" batches
SHORT_TIME_STEP = 32  # C12: the documents' 10, 20, 30, rounded up to the power of two lstmexp searches


@dataclass(frozen=True)
class Part:
    """One testable statement: y changes with z in `direction` ('up' or 'down'), other things equal."""

    statement: str
    y: str
    x: str  # the searched setting the statement is about (for the rows behind it)
    regressor: Callable[[pd.DataFrame], dict[str, pd.Series]]
    direction: str
    completed_only: bool  # losses, epochs, gradient norms; False: speed and memory (pruned trials count too)
    unit: str
    subset: Callable[[pd.DataFrame], pd.DataFrame] = lambda frame: frame
    precondition: Callable[[pd.DataFrame], str | None] = lambda frame: None
    # A reason the study cannot vary y (the part is then "not testable here"), or None.
    testable: Callable[[pd.DataFrame], str | None] = lambda frame: None


@dataclass(frozen=True)
class Claim:
    code: str
    text: str
    parts: tuple[Part, ...]
    experiment: str  # the spec that tests it when a study cannot


@dataclass
class PartResult:
    statement: str
    verdict: str
    effect: Effect | None
    unit: str
    test: str
    rows: pd.DataFrame
    note: str = ""


@dataclass
class ClaimResult:
    code: str
    text: str
    verdict: str
    parts: list[PartResult] = field(default_factory=list)
    experiment: str = ""
    context: str = ""  # what the test leaves out but the claim mentions (e.g. C5's out-of-memory end)
    arm: str = ""  # the designed experiment's arm behind it (claims studies)
    trials: int = 0  # trials behind the verdict (claims studies)
    seeds: int = 0  # distinct seeds among them


def log2_of(column: str) -> Callable[[pd.DataFrame], dict[str, pd.Series]]:
    return lambda frame: {f"log2 {column}": np.log2(pd.to_numeric(frame[column], errors="coerce"))}


def indicator(name: str, test: Callable[[pd.DataFrame], pd.Series]) -> Callable[[pd.DataFrame], dict[str, pd.Series]]:
    return lambda frame: {name: test(frame).astype(float)}


def is_power_of_two(values: pd.Series) -> pd.Series:
    ints = pd.to_numeric(values, errors="coerce").fillna(0).astype(int)
    return (ints > 0) & ((ints & (ints - 1)) == 0)


def pow2_with_size_control(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """C9: powers of two against their neighbours, with the smooth trend in batch size taken out."""
    return {"power of two": is_power_of_two(frame["batch_size"]).astype(float),
            "log2 batch_size": np.log2(pd.to_numeric(frame["batch_size"], errors="coerce"))}


def needs_both(column: str, test: Callable[[pd.Series], pd.Series], what: str) -> Callable[[pd.DataFrame], str | None]:
    def check(frame: pd.DataFrame) -> str | None:
        flags = test(frame[column]) if column in frame.columns else pd.Series(dtype=bool)
        return None if flags.any() and (~flags).any() else what

    return check


def is_chunk(values: pd.Series) -> pd.Series:
    """Trials that fed the window in chunks (chunk > 1)."""
    return pd.to_numeric(values, errors="coerce").fillna(1) > 1


def chunk_note(data: pd.DataFrame) -> str:
    """Which of the tested trials were chunked, and so how many steps their LSTM ran."""
    if CHUNK not in data.columns or data.empty:
        return ""
    chunked = data[is_chunk(data[CHUNK])]
    if chunked.empty:
        return "every trial ran per step (chunk 1)"
    chunks = ", ".join(str(c) for c in sorted(set(pd.to_numeric(chunked[CHUNK]).astype(int))))
    steps = ""
    if LSTM_STEPS in chunked.columns:
        counts = sorted(set(pd.to_numeric(chunked[LSTM_STEPS], errors="coerce").dropna().astype(int)))
        steps = f", so the LSTM ran {', '.join(str(c) for c in counts)} steps (time_step/chunk)"
    return f"{len(chunked)} of {len(data)} trials chunked (chunk {chunks}{steps}); chunks are compared only with " \
           "the same chunk unless the statement is about the chunk"


def skip_note(data: pd.DataFrame) -> str:
    """How many of the tested trials forecast with a linear map of the window beside the LSTM."""
    if SKIP not in data.columns or data.empty:
        return ""
    skipped = int((data[SKIP] == "linear").sum())
    if not skipped:
        return ""
    return f"{skipped} of {len(data)} trials had a linear skip beside the LSTM (model.skip=linear: part of their " \
           "forecast is a linear map of the window), compared only with trials that had it"


def stateful_only(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame[STATEFUL].astype(bool)] if STATEFUL in frame.columns else frame.iloc[0:0]


def some_converged(frame: pd.DataFrame) -> str | None:
    """C7 compares epochs to the best val loss: meaningless when every trial was best at its last epoch."""
    if {BEST_EPOCH, EPOCHS_RUN} <= set(frame.columns) and (frame[BEST_EPOCH] < frame[EPOCHS_RUN]).any():
        return None
    return ("every trial was still improving at its last epoch (best_epoch = epochs_run), so epochs to the best "
            "cannot vary here: train more epochs with early stopping (-o train.epochs=40 -o train.patience=5)")


def at_most(column: str, limit: int, others: str, statement: str, y: str, direction: str) -> Part:
    """An accuracy statement comparing trials with `column` ≤ limit against the rest (C8, C12)."""
    label = f"{column} ≤{limit}"

    def small(values: pd.Series) -> pd.Series:
        return pd.to_numeric(values, errors="coerce") <= limit

    missing = f"needs trials with {label} and {others}"
    return Part(statement, y, column, indicator(label, lambda frame: small(frame[column])), direction, True,
                f"{label} vs {others}", precondition=needs_both(column, small, missing))


CLAIMS: tuple[Claim, ...] = (
    Claim("C5", "Larger batches run faster (up to out-of-memory).", (
        Part("samples/s rises with batch_size", SAMPLES_PER_S, "batch_size", log2_of("batch_size"), "up", False,
             "per 2× batch_size"),
    ), "experiments/batch_sweep.yaml"),
    Claim("C6", "Smaller batches need less memory but make training take longer.", (
        Part("peak memory rises with batch_size", PEAK_MEM_BYTES, "batch_size", log2_of("batch_size"), "up",
             False, "per 2× batch_size"),
        Part("seconds per epoch fall as batch_size grows", TRAIN_S_PER_EPOCH, "batch_size",
             log2_of("batch_size"), "down", False, "per 2× batch_size"),
    ), "experiments/batch_sweep.yaml"),
    Claim("C7", "Larger batches need more epochs to reach the same result (steadier gradient).", (
        Part("epochs to the best val loss rise with batch_size", BEST_EPOCH, "batch_size", log2_of("batch_size"),
             "up", True, "per 2× batch_size", testable=some_converged),
        Part("gradient norm falls as batch_size grows (less gradient noise)", GRAD_NORM_MEAN, "batch_size",
             log2_of("batch_size"), "down", True, "per 2× batch_size"),
    ), "experiments/batch_sweep.yaml"),
    Claim("C8", f"Very small batches (≤{SMALL_BATCH}) converge with difficulty and can underfit.", (
        at_most("batch_size", SMALL_BATCH, "larger", f"batch_size ≤{SMALL_BATCH} ends with a higher best val loss",
                VAL_LOSS_BEST, "up"),
        at_most("batch_size", SMALL_BATCH, "larger",
                f"batch_size ≤{SMALL_BATCH} ends with a higher train loss (underfits)", TRAIN_LOSS_FINAL, "up"),
    ), "experiments/batch_sweep.yaml"),
    Claim("C9", "Powers of two are the efficient batch sizes.", (
        Part("powers of two run faster than their neighbours", SAMPLES_PER_S, "batch_size",
             pow2_with_size_control, "up", False, "power of two vs not",
             precondition=needs_both("batch_size", is_power_of_two,
                                     "needs batch sizes that are powers of two and some that are not")),
    ), "experiments/batch_sweep.yaml"),
    Claim("C10", "A larger time step costs more computation per sample and slows training.", (
        Part("samples/s fall as time_step grows", SAMPLES_PER_S, "time_step", log2_of("time_step"), "down",
             False, "per 2× time_step"),
        Part("chunks speed training: samples/s rise with the chunk length at the same time_step", SAMPLES_PER_S,
             CHUNK, log2_of(CHUNK), "up", False, "per 2× chunk",
             precondition=needs_both(CHUNK, is_chunk, "needs chunked and per-step trials (model.chunk)")),
    ), "experiments/time_step_sweep.yaml"),
    Claim("C11", "A larger time step uses longer history but makes gradients vanish or explode.", (
        Part("best val loss falls as time_step grows (longer history helps)", VAL_LOSS_BEST, "time_step",
             log2_of("time_step"), "down", True, "per 2× time_step"),
        Part("largest gradient norm rises with time_step (exploding gradients)", GRAD_NORM_MAX, "time_step",
             log2_of("time_step"), "up", True, "per 2× time_step"),
    ), "experiments/time_step_sweep.yaml or experiments/adding.yaml"),
    Claim("C12", f"Prefer small time steps (10-30; here ≤{SHORT_TIME_STEP}); split long sequences into chunks.", (
        at_most("time_step", SHORT_TIME_STEP, "longer",
                f"time_step ≤{SHORT_TIME_STEP} reaches a lower best val loss than longer steps", VAL_LOSS_BEST,
                "down"),
        Part("chunked trials reach a lower best val loss than per-step trials of the same time_step",
             VAL_LOSS_BEST, CHUNK, indicator("chunked", lambda frame: is_chunk(frame[CHUNK])), "down", True,
             "chunked vs per step",
             precondition=needs_both(CHUNK, is_chunk, "needs chunked and per-step trials (model.chunk)")),
    ), "experiments/time_step_sweep.yaml with -o 'search.space.model.chunk=[1,4]'"),
    Claim("C13", "Short sequences: larger batch, smaller time step; long sequences: the reverse.", (),
          "studies of a short and a long series (experiments/etth1_s96.yaml, experiments/etth1_m24.yaml) "
          "compared with --study A --study B"),
    Claim("C14", "A stateful LSTM with batch_size > 1 can cost accuracy where order matters.", (
        Part("in stateful trials, best val loss rises with batch_size", VAL_LOSS_BEST, "batch_size",
             log2_of("batch_size"), "up", True, "per 2× batch_size",
             subset=stateful_only,
             precondition=lambda f: None if STATEFUL in f.columns and f[STATEFUL].astype(bool).any()
             else "needs stateful trials (`stateful` recorded)"),
    ), "experiments/stateful.yaml"),
)


def evaluate_claims(trials: pd.DataFrame, params: list[str] | None = None) -> list[ClaimResult]:
    """Every claim, other searched settings (`params`, default the three sizes) held equal."""
    searched = params or SEARCHED_PARAMS
    # a recorded setting that is also searched (chunk as model.chunk) is one stratum, not two
    context = [c for c in CONTEXT_COLUMNS if f"model.{c}" not in searched]
    strata = tuple(dict.fromkeys((*searched, *context)))
    return [evaluate_claim(claim, trials, strata) for claim in CLAIMS]


def evaluate_at_best_lr(trials: pd.DataFrame, params: list[str]) -> list[ClaimResult]:
    """C5-C9 on the trials at each batch size's best learning rate (lr co-tuned studies)."""
    chosen = best_lr_trials(trials, [p for p in params if p != LR_PARAM])
    strata = tuple(dict.fromkeys((*[p for p in params if p != LR_PARAM], *CONTEXT_COLUMNS)))
    results = []
    for claim in CLAIMS:
        if claim.code in LR_CLAIMS:
            result = evaluate_claim(claim, chosen, strata)
            result.code = f"{claim.code}@best lr"
            results.append(result)
    return results


def best_lr_trials(trials: pd.DataFrame, others: list[str]) -> pd.DataFrame:
    """Trials whose train.lr is the one with the lowest mean best val loss among trials sharing every other setting."""
    if LR_PARAM not in trials.columns or VAL_LOSS_BEST not in trials.columns or not others:
        return trials.iloc[0:0]
    complete = trials[trials["state"] == "complete"].dropna(subset=[VAL_LOSS_BEST])
    means = complete.groupby([*others, LR_PARAM], dropna=False)[VAL_LOSS_BEST].mean().reset_index()
    best = means.loc[means.groupby(others, dropna=False)[VAL_LOSS_BEST].idxmin(), [*others, LR_PARAM]]
    return trials.merge(best, on=[*others, LR_PARAM], how="inner")


def evaluate_claim(claim: Claim, trials: pd.DataFrame, strata: tuple[str, ...] = SEARCHED_PARAMS) -> ClaimResult:
    parts = [evaluate_part(part, trials, strata) for part in claim.parts]
    if claim.code in TIME_STEP_CLAIMS:
        for part, tested in zip(claim.parts, parts, strict=True):
            tested_trials = part.subset(population(trials, part.completed_only))
            notes = (tested.note, chunk_note(tested_trials), skip_note(tested_trials))
            tested.note = "; ".join(n for n in notes if n)
    verdict = combined_verdict(parts)
    result = ClaimResult(claim.code, claim.text, verdict, parts, claim.experiment if verdict == NO_DATA else "")
    if claim.code == "C5":  # "... up to the point where memory runs out": the out-of-memory failures
        result.context = out_of_memory_note(trials)
    return result


def combined_verdict(parts: list[PartResult]) -> str:
    """All voting parts hold -> holds, none holds -> does not hold, else mixed; parts without data do not vote."""
    votes = [p.verdict for p in parts if p.verdict not in (NO_DATA, NOT_TESTABLE)]
    if not votes:
        return NOT_TESTABLE if any(p.verdict == NOT_TESTABLE for p in parts) else NO_DATA
    if all(v == HOLDS for v in votes):
        return HOLDS
    if all(v == FAILS for v in votes):
        return FAILS
    return MIXED


def out_of_memory_note(trials: pd.DataFrame) -> str:
    if FAILURE_REASON not in trials.columns or "batch_size" not in trials.columns:
        return ""
    oom = trials[trials[FAILURE_REASON] == "oom"]
    if oom.empty:
        return "no trial ran out of memory"
    counts = oom["batch_size"].value_counts().sort_index()
    return "out of memory at batch_size " + ", ".join(
        f"{b} ({n} trials)" for b, n in zip(counts.index.astype(int), counts, strict=True)
    )


def population(trials: pd.DataFrame, completed_only: bool) -> pd.DataFrame:
    """The trials a statement reads: completed ones for losses, epochs and gradients (not the one the
    study's CPU budget cut short: it trained less than its configuration asks), pruned ones too for
    speed and memory (which they measured validly)."""
    if "state" not in trials.columns:
        return trials.iloc[0:0]
    if not completed_only:
        return trials[trials["state"].isin(("complete", "pruned"))]
    cut = trials[STUDY_BUDGET_CUT].eq(True) if STUDY_BUDGET_CUT in trials.columns else False
    return trials[(trials["state"] == "complete") & ~cut]


def evaluate_part(part: Part, trials: pd.DataFrame, candidates: tuple[str, ...] = SEARCHED_PARAMS) -> PartResult:
    data = part.subset(population(trials, part.completed_only))
    left_out = 0
    if part.y in SPEED_METRICS:  # a speed measured on a busy machine is noise, not evidence
        data, left_out = quiet(data, part.y)
    # Settings that vary among the trials, other than x itself: comparisons stay inside one value of each.
    # (a recorded setting, e.g. chunk, is also the searched field model.chunk: both are x)
    same_as_x = (part.x, f"model.{part.x}")
    strata = [c for c in candidates if c not in same_as_x and c in data.columns and data[c].nunique(dropna=False) > 1]
    test = describe_test(part, strata)
    missing = next((c for c in (part.y, part.x) if c not in data.columns), None)
    reason = f"no {missing} recorded" if missing else part.precondition(data)
    if reason:
        return PartResult(part.statement, NO_DATA, None, part.unit, test, data.iloc[0:0], joined(reason, left_out))
    flat = part.testable(data) or flat_reason(data, part.y) or unmoved_reason(data, part, strata)
    if flat:
        return PartResult(part.statement, NOT_TESTABLE, None, part.unit, test, data.iloc[0:0], flat)
    effect = effect_or_reason(data, part.y, part.regressor(data), strata)
    rows = rows_behind(data, part, strata)
    if not isinstance(effect, Effect):  # no estimate, or one the data cannot put an interval on (said why)
        same = f" (same {', '.join(strata)})" if strata else ""
        note = effect or f"fewer than {MIN_ROWS} trials, or {part.x} never varies among comparable trials{same}"
        return PartResult(part.statement, NO_DATA, None, part.unit, test, rows, joined(note, left_out))
    if effect.low == effect.high == 1.0:  # y never moves among comparable trials: nothing to test
        return PartResult(part.statement, NOT_TESTABLE, None, part.unit, test, rows,
                          joined(unmoved_note(part.y), left_out))
    verdict = verdict_of(effect, part.direction)
    return PartResult(part.statement, verdict, effect, part.unit, test, rows, joined("", left_out))


def joined(note: str, left_out: int) -> str:
    return "; ".join(n for n in (note, left_out_note(left_out)) if n)


def flat_reason(data: pd.DataFrame, y: str) -> str | None:
    """Every usable trial recorded the same y: the study cannot vary it, so nothing can be said."""
    values = pd.to_numeric(data[y], errors="coerce").dropna()
    if len(values) >= MIN_ROWS and values.nunique() == 1:
        return f"every trial recorded the same {y} ({format_number(float(values.iloc[0]))}): the study cannot vary it"
    return None


def unmoved_reason(data: pd.DataFrame, part: Part, strata: list[str]) -> str | None:
    """y is the same across x in every group of comparable trials: the study cannot vary it there."""
    values = pd.to_numeric(data[part.y], errors="coerce")
    usable = data.assign(**{part.y: values})[values.notna()]
    if len(usable) < MIN_ROWS:
        return None
    groups = usable.groupby(strata, dropna=False) if strata else [((), usable)]
    compared = [group for _, group in groups if group[part.x].nunique(dropna=False) > 1]
    if compared and all(group[part.y].nunique() == 1 for group in compared):
        return unmoved_note(part.y)
    return None


def unmoved_note(y: str) -> str:
    return f"{y} is the same in every group of comparable trials: the study cannot vary it"


def verdict_of(effect: Effect, direction: str) -> str:
    low, high = (effect.low, effect.high) if direction == "up" else (1 / effect.high, 1 / effect.low)
    if high <= NEGLIGIBLE and low >= 1 / NEGLIGIBLE:
        return FAILS
    if low > 1:
        return HOLDS
    if high < 1:
        return FAILS
    return MIXED


def describe_test(part: Part, strata: list[str]) -> str:
    who = "completed trials" if part.completed_only else "completed and pruned trials"
    same = f"trials with the same {', '.join(strata)}" if strata else "all trials"
    regressors = ", ".join(part.regressor(pd.DataFrame({part.x: [1]})))
    return f"log2 {part.y} on {regressors}, within {same}; {who}; stratified bootstrap (seed 0)"


def rows_behind(data: pd.DataFrame, part: Part, strata: list[str]) -> pd.DataFrame:
    """Per stratum and value of x: trial count and median y (the numbers the effect is fitted on)."""
    keys = [*strata, part.x]
    usable = data.dropna(subset=[part.y])
    table = usable.groupby(keys, dropna=False)[part.y].agg(trials="size", median="median").reset_index()
    return table.rename(columns={"median": f"median {part.y}"})
