"""The claims as every format says them: one row per claim, in one wording, that the report opens with.

Each row gives the verdict (holds / does not hold / mixed / not testable: why), the effect with its
interval, and the trials and seeds behind it; a claims study adds the arm and how the design was
chosen and sized. The part-by-part rows behind each verdict (`claim_part_sections`) follow in the
HTML and Markdown and under `--detail`; they use the same words and never restate a verdict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from lstmexp.report.claims import FAILS, HOLDS, NO_DATA, NOT_TESTABLE, ClaimResult, PartResult
from lstmexp.report.evidence import MORE
from lstmexp.report.people import format_number
from lstmexp.report.sections import Section
from lstmexp.vocabulary.attrs import DESIGN_ATTR
from lstmexp.vocabulary.names import (
    BEST_EPOCH,
    GRAD_NORM_MAX,
    GRAD_NORM_MEAN,
    PEAK_MEM_BYTES,
    SAMPLES_PER_S,
    TRAIN_LOSS_FINAL,
    TRAIN_S_PER_EPOCH,
    TRAIN_SEED,
    VAL_LOSS_BEST,
)

if TYPE_CHECKING:
    from lstmexp.report.build import Report

UNDECIDED = (NOT_TESTABLE, NO_DATA)
BEST_LR = "(each batch size at its best lr)"  # the statement of a part tested at each batch size's best lr
NOT_TESTABLE_WORD = "not testable"  # one word for both: the study cannot vary it, or has too few trials
EFFECT = "effect, or why not testable"
# The figure each part tests, in a word or two (the row names it before its effect).
FIGURES = {SAMPLES_PER_S: "samples/s", PEAK_MEM_BYTES: "peak memory", TRAIN_S_PER_EPOCH: "s/epoch",
           "epoch_s_probe": "s/epoch", "step_s": "s/step", BEST_EPOCH: "epochs to best",
           GRAD_NORM_MEAN: "grad norm", GRAD_NORM_MAX: "max grad norm", VAL_LOSS_BEST: "val loss",
           TRAIN_LOSS_FINAL: "train loss"}
CAPTION = ("effect: the factor on the tested figure, other settings held equal, with its 95% interval over "
           "trials and seeds (bootstrap, or the t interval where wider; 'exact': its trials agree, there is no spread)")


def figure_of(part: PartResult, claim: ClaimResult) -> str:
    """The tested figure's short name, from the part's test ('log2 samples_per_s on ...')."""
    column = part.test.split(" on ")[0].removeprefix("log2 ") if part.test else ""
    return FIGURES.get(column, column or claim.code)


def part_effect(part: PartResult, claim: ClaimResult) -> str:
    """One part's evidence: its effect with the interval, a checked count, or why it has none."""
    figure = figure_of(part, claim) + (" at each batch size's best lr" if BEST_LR in part.statement else "")
    if part.effect is not None:
        return f"{figure} {part.effect.text(part.unit)}"
    if part.verdict in (HOLDS, FAILS):  # checked on every trial (C1..C3): the count is the evidence
        return part.note
    return f"{figure} {part.unit}: not tested (--detail)"


def effect_text(claim: ClaimResult) -> str:
    """The evidence behind a decided claim, each tested part once; for one not testable, why."""
    if claim.verdict in UNDECIDED:
        return f"why: {why_not(claim)}"
    return "; ".join(dict.fromkeys(part_effect(p, claim) for p in claim.parts))


def why_not(claim: ClaimResult) -> str:
    """Why a claim is not testable here and what would make it testable, never empty."""
    # a part's note opens with its reason; what follows (contended trials left out, chunking) is detail.
    # Parts without an interval are named by their figure, and what would give one is said once.
    notes = [p.note.split("; ")[0] for p in claim.parts if p.note]
    hint = [n for n in notes if n.endswith(f": {MORE}")]
    if hint:
        notes = [f"{figure_of(p, claim)} {n.removesuffix(f': {MORE}')}" if n in hint else n
                 for p, n in zip([p for p in claim.parts if p.note], notes, strict=True)] + [MORE]
    notes += [claim.context] if claim.context and claim.arm else []  # a designed arm's reason (else: a fact)
    if claim.experiment:
        notes.append(f"run {claim.experiment}")
    return "; ".join(dict.fromkeys(notes)) or "no trial tested it"


def verdict_text(claim: ClaimResult) -> str:
    """The claim's verdict in the report's one wording: holds / does not hold / mixed / not testable (the
    effect column then says why)."""
    return NOT_TESTABLE_WORD if claim.verdict in UNDECIDED else claim.verdict


def behind(claim: ClaimResult, seeds: int) -> tuple[int | None, int | None]:
    """The trials and seeds behind a verdict: the claims study's counts, else the largest tested part's trials."""
    if claim.trials:
        return claim.trials, claim.seeds
    rows = [p.effect.rows for p in claim.parts if p.effect is not None]
    return (max(rows), seeds) if rows else (None, None)


def table_rows(claims: list[ClaimResult], seeds: int = 0, arms: bool = True) -> pd.DataFrame:
    """One row per claim: verdict (with the reason when not testable), effect, trials and seeds (and arm)."""
    rows = []
    for claim in claims:
        trials, seed_count = behind(claim, seeds)
        row: dict[str, Any] = {"claim": claim.code, "verdict": verdict_text(claim), EFFECT: effect_text(claim),
                               "trials": trials, "seeds": seed_count}
        if arms:
            row["arm"] = claim.arm
        rows.append(row)
    return pd.DataFrame(rows)


def design_lines(stored: dict[str, Any], trials: pd.DataFrame) -> list[str]:
    """How the design was chosen and sized, and how many targets each split scores."""
    design = stored["design"]
    lines = ["centre: " + "; ".join(design["why_centre"]),
             f"{design['seeds']} seeds per setting, {design['epochs']} epochs per trial; estimated "
             f"{format_number(design['estimate_cpu_s'] / 60)} of {format_number(design['budget_cpu_s'] / 60)} "
             "CPU-minutes"]
    lines += [f"budget: {note}" for note in design["notes"]]
    counts = [f"{split} {int(trials[f'{split}_targets'].max()):,}" for split in ("val", "test")
              if f"{split}_targets" in trials.columns and trials[f"{split}_targets"].notna().any()]
    if counts:
        lines.append("targets scored by every trial: " + ", ".join(counts) + " (the same for every time_step)")
    return lines


def seeds_in(trials: pd.DataFrame) -> int:
    """Distinct training seeds among the trials that ran (a search study's claims stand on all of them)."""
    if trials.empty or "state" not in trials.columns:
        return 0
    ran = trials[trials["state"].isin(("complete", "pruned"))]
    return int(ran[TRAIN_SEED].nunique()) if TRAIN_SEED in ran.columns and ran[TRAIN_SEED].notna().any() else 1


def lead_sections(report: Report) -> list[Section]:
    """The one row per claim every report opens with (a claims study's with its arms and design)."""
    if not report.claims:
        return []
    stored = report.study_attrs.get(DESIGN_ATTR)
    designed = isinstance(stored, dict)
    title = "Claims C1..C14 (designed experiment, one arm per claim)" if designed else "Claims of the source documents"
    lines = design_lines(stored, report.all_trials) if isinstance(stored, dict) else []
    if report.claims_best_lr:
        lines.append("learning rate co-tuned: the rows test C5-C9 at equal train.lr; each batch size at its own "
                     "best lr: 'Cn@best lr' in the part-by-part table (--detail, HTML)")
    caption = CAPTION + ("; speed figures say which clock they came from (samples_per_s_clock)" if designed else "")
    return [Section("claims", title, table_rows(report.claims, seeds_in(report.all_trials), designed),
                    caption, lines, read="one row per claim: the verdict, its effect and interval, and the trials "
                                         "and seeds behind it")]


def part_rows(claim: ClaimResult, notes: list[str]) -> list[dict[str, object]]:
    """The claim's tested parts, one row each: the statement, the part's own verdict and its evidence."""
    rows: list[dict[str, object]] = []
    for index, part in enumerate(claim.parts):
        rows.append({"claim": claim.code if index == 0 else "", "tested statement": part.statement,
                     "its verdict": NOT_TESTABLE_WORD if part.verdict in UNDECIDED else part.verdict,
                     EFFECT: part_effect(part, claim) if part.verdict not in UNDECIDED else f"why: {part.note}",
                     "trials": part.effect.rows if part.effect else None})
        if part.verdict not in UNDECIDED:  # parts share notes (contended trials, chunking): each said once
            notes += [f"{claim.code}: {piece}" for piece in part.note.split("; ") if piece]
    if claim.context and not (claim.arm and claim.verdict in UNDECIDED):  # not the reason the row gives
        notes.append(f"{claim.code}: {claim.context}")
    return rows


def claim_part_sections(report: Report) -> list[Section]:
    """Each claim part by part (how each verdict was reached), then the rows behind each part's effect."""
    rows: list[dict[str, object]] = []
    details: list[Section] = []
    notes: list[str] = []
    for claim in (*report.claims, *report.claims_best_lr):
        rows += part_rows(claim, notes)
        for index, part in enumerate(claim.parts):
            if not part.rows.empty:
                caption = f"{claim.code} ({claim.text}) {part.statement}. Test: {part.test}."
                details.append(Section(f"claim_{safe_code(claim.code)}_{index}", f"{claim.code}: {part.statement}",
                                       part.rows, caption, detail=True,
                                       read="the medians each part's effect is fitted on"))
    caption = "each claim's tested statements: a claim holds when all its tested parts hold, does not hold when " \
              "none does, else is mixed; untested parts do not vote"
    if report.claims_best_lr:
        caption += "; Cn@best lr: tested at each batch size's best learning rate"
    parts = Section("claim_parts", "Claims part by part (how each verdict was reached)", pd.DataFrame(rows),
                    caption, list(dict.fromkeys(notes)), read="the statements behind each row of the claims table")
    return [parts, *details]


def safe_code(code: str) -> str:
    return code.replace("@best lr", "_best_lr")
