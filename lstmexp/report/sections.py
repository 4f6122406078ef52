"""A report as an ordered list of titled sections: what every output format shows, in one place.

Renderers (terminal, Markdown, HTML, CSV files, JSON) only format these; they never choose content.
`outline.outline` puts them together with the title and summary lines for a report or a comparison.
A section is a table with a caption, optionally followed by lines (commands, notes). Sections
marked `detail` (the rows behind each claim, every trial of a large study) are left out of the
terminal, which must stay readable at 100 columns. Each section says in one sentence what to read
from it (`read`); sections without rows are left out, and a caption names only what its table has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from lstmexp.report.build import COST_METRICS
from lstmexp.report.configs import RANK_RULE, fewer_seeds_note, tie_note
from lstmexp.units import MIB
from lstmexp.vocabulary.names import (
    ACHIEVED_GFLOPS,
    BEST_EPOCH,
    EPOCHS_RUN,
    GRAD_NORM_MEAN,
    HW_EFFICIENCY_PCT,
    ITERATIONS_PER_EPOCH,
    PEAK_MEM_BYTES,
    SAMPLES_PER_S,
    TEST_ACCURACY,
    TEST_SKILL,
    TIME_STEPS_PER_S,
    TIME_TO_TARGET_S,
    TORCH_THREADS,
    TRAIN_S_PER_EPOCH,
    VAL_ACCURACY,
    VAL_LOSS_BEST,
)

if TYPE_CHECKING:
    from lstmexp.report.build import Report

TERMINAL_TRIAL_ROWS = 40
MATRIX_TITLES = {
    VAL_LOSS_BEST: "Median best val loss (completed trials)",
    SAMPLES_PER_S: "Median samples/s (completed and pruned trials, uncontended)",
    PEAK_MEM_BYTES: "Median peak memory in MiB (completed and pruned trials)",
}
MATRIX_READS = {
    VAL_LOSS_BEST: "lower is better: where the accurate corner of batch_size × time_step lies",
    SAMPLES_PER_S: "higher is faster: how speed moves along each axis",
    PEAK_MEM_BYTES: "lower fits smaller machines: memory grows along both axes",
}
# Columns of the time_step trade-off table that say how the window was fed, not a measured figure.
FEEDING = ("chunk", "T/S steps")
OPTIONAL_NAMES = {ACHIEVED_GFLOPS: "GFLOP/s", HW_EFFICIENCY_PCT: "hardware efficiency",
                  TIME_TO_TARGET_S: "time to target", VAL_ACCURACY: "accuracy", TEST_ACCURACY: "accuracy"}


@dataclass
class Section:
    key: str  # file-name-safe identifier (CSV file names, JSON keys)
    title: str
    frame: pd.DataFrame
    caption: str = ""
    lines: list[str] = field(default_factory=list)
    detail: bool = False
    read: str = ""  # one sentence: what to read from this table


def summary_lines(report: Report) -> list[str]:
    states = ", ".join(f"{n:,} {s}" for s, n in sorted(report.states.items())) or "no trials"
    env = report.environment
    machine = f"{env.get('cpu_model', '?')}, {env.get('gpu') or 'no GPU'}, torch {env.get('torch', '?')}"
    lines = [f"study {report.study} in {report.storage}", f"trials: {states}", f"machine: {machine}"]
    # The threads the trials used (recorded per trial), not the reporting machine's default.
    threads = report.threads or (f"{env[TORCH_THREADS]} (machine default; trials did not record theirs)"
                                 if env.get(TORCH_THREADS) else "")
    if env.get("hostname") or threads:
        lines.append(f"host: {env.get('hostname', '?')}, torch threads used by the trials: {threads or '?'}")
    if report.contended:
        count = report.contended
        lines.append(f"contended: {count:,} trial{'' if count == 1 else 's'} measured speed on a busy machine "
                     "(flagged, left out of speed figures and verdicts)")
    if report.failures:
        lines.append("failures: " + ", ".join(f"{n} {r}" for r, n in report.failures.items()))
    improving = still_improving_line(report.all_trials)
    if improving:
        lines.append(improving)
    compute = report.compute
    if "trial_seconds" in compute:
        epochs = f", {compute['epochs']:,.0f} epochs" if "epochs" in compute else ""
        lines.append(f"compute used: {compute['trial_seconds'] / 60:,.1f} min of trial time{epochs}")
    return lines


def still_improving_line(trials: pd.DataFrame) -> str:
    """The share of completed trials whose best val loss came at their last epoch: training cut short."""
    if trials.empty or not {BEST_EPOCH, EPOCHS_RUN, "state"} <= set(trials.columns):
        return ""
    complete = trials[trials["state"] == "complete"]
    best = pd.to_numeric(complete[BEST_EPOCH], errors="coerce")
    last = pd.to_numeric(complete[EPOCHS_RUN], errors="coerce")
    measured = best.notna() & last.notna()
    if not measured.any():
        return ""
    improving = int((best[measured] >= last[measured]).sum())
    share = f"{improving:,} of {int(measured.sum()):,} completed trials ({improving / measured.sum():.0%})"
    if improving == 0:
        return f"convergence: {share} were still improving at their last epoch"
    cap = int(last[measured].max())
    return (f"convergence: {share} were still improving at their last epoch (best epoch = last): their loss "
            f"is not their best; raise the cap (-o train.epochs={2 * cap}) and keep early stopping "
            "(-o train.patience=5)")


def report_sections(report: Report) -> list[Section]:
    only = ", feasible" if report.feasibility.checked else ""  # constraints: infeasible trials left out
    parts = [config_section(report), recommendation_section(report),
             Section("best", f"Best trials (lowest best val loss, completed{only} trials)", report.best,
                     read="single trials, luckiest seed first: compare with the configurations' means above")]
    parts += [tradeoff_section(param, table, "tradeoffs", f"Trade-offs by {param} (medians)")
              for param, table in report.tradeoffs.items()]
    parts += [tradeoff_section(param, table, "tradeoffs_extra", f"{optional_title(table)} by {param} (medians)")
              for param, table in report.extra_tradeoffs.items()]
    parts += [matrix_section(metric, table) for metric, table in report.matrices.items()]
    parts.append(Section(
        "pareto", "Pareto front: best val loss vs samples/s vs peak memory", report.pareto,
        f"completed, uncontended{only} trials that no other beats on all three figures",
        read="every row is a defensible choice: pick by what you can afford in time and memory",
    ))
    if not report.importance.empty:
        parts.append(Section(
            "importance", "Parameter importance (Optuna PED-ANOVA, completed trials)", report.importance,
            "share of each figure's variation among good trials explained by each parameter (columns sum to 1)",
            read="the parameters worth searching further for each figure; near 0: leave at any value",
        ))
    many = len(report.trials) > TERMINAL_TRIAL_ROWS
    parts.append(Section("trials", "All trials", report.trials,
                         "in the terminal only up to 40 trials: use --format csv or --out" if many else "",
                         detail=many, read="every trial as recorded; contended: speed measured on a busy machine"))
    return [p for p in parts if not p.frame.empty or p.lines]


def config_section(report: Report) -> Section:
    notes = [note for note in (tie_note(report.configs), fewer_seeds_note(report.configs)) if note]
    return Section(
        "configurations", "Configurations ranked by mean best val loss over seeds", report.configs,
        f"{RANK_RULE}; sd beside the mean; speed (uncontended) and memory: medians; "
        "trial: the completed seed closest to the mean, the one a reproduce command shows"
        + ("; feasible trials only" if report.feasibility.checked else ""),
        notes,
        read="rank 1 is the recommendation; a sd wider than the gap to the next rank means a tie",
    )


def optional_title(table: pd.DataFrame) -> str:
    names = list(dict.fromkeys(OPTIONAL_NAMES[c] for c in table.columns if c in OPTIONAL_NAMES))
    title = ", ".join(names)
    return title[0].upper() + title[1:] if names else "Other figures"


def figure_names(metrics: list[str]) -> list[str]:
    """Metrics in words, by kind ('speed', 'memory', 'loss', ...), so a caption outlives hidden columns."""
    words = {SAMPLES_PER_S: "speed", TRAIN_S_PER_EPOCH: "speed", ITERATIONS_PER_EPOCH: "speed",
             TIME_STEPS_PER_S: "speed", VAL_LOSS_BEST: "loss", TEST_SKILL: "skill",
             GRAD_NORM_MEAN: "gradient norm", TIME_TO_TARGET_S: "time to target"}
    return list(dict.fromkeys(
        "memory" if "mem" in m else words.get(m, OPTIONAL_NAMES.get(m, m)) for m in metrics))


def tradeoff_section(param: str, table: pd.DataFrame, prefix: str, title: str) -> Section:
    metrics = [c for c in table.columns if c not in (param, "trials", "complete", "contended trials", *FEEDING)
               and not str(c).endswith("_iqr")]
    costs = figure_names([m for m in metrics if m in COST_METRICS])
    others = figure_names([m for m in metrics if m not in COST_METRICS])
    said = ["median and interquartile range (iqr, as % of the median) per value"]
    if costs:
        quiet = " (speed without contended trials)" if "speed" in costs else ""
        said.append(f"{', '.join(costs)} over completed and pruned trials{quiet}")
    if others:
        said.append(f"{', '.join(others)} over completed trials only")
    if FEEDING[0] in table.columns:
        said.append("chunk: the chunk lengths S this time_step ran with (1: per step); T/S steps: the LSTM's steps")
    return Section(f"{prefix}_{param}", title, table, "; ".join(said),
                   read=f"how each figure moves as {param} changes, other settings mixed")


def recommendation_section(report: Report) -> Section:
    rows, lines = [], []
    for rec in report.recommendations:
        config = rec.config or {}
        rows.append({"goal": rec.goal, "trial": config.get("trial"), **{p: config.get(p) for p in report.params},
                     "seeds": config.get("seeds"), VAL_LOSS_BEST: config.get(VAL_LOSS_BEST),
                     "val_loss_best_sd": config.get("val_loss_best_sd"),
                     SAMPLES_PER_S: config.get(SAMPLES_PER_S), PEAK_MEM_BYTES: config.get(PEAK_MEM_BYTES)})
        lines.append(f"{rec.goal} ({rec.why})" + (":" if rec.command else ""))
        lines += [f"  warning: {w}" for w in rec.warnings]
        if rec.command:
            lines.append(f"  {rec.command}")
    caption = "val loss: mean over seeds; speed, memory: medians; each pick's why, warnings and command follow"
    return Section("recommendations", "Recommended configurations", pd.DataFrame(rows), caption, lines,
                   read="figures are the configuration's mean (val loss) and medians over its seeds")


def matrix_section(metric: str, table: pd.DataFrame) -> Section:
    shown = table / MIB if metric == PEAK_MEM_BYTES else table
    shown = shown.rename(columns=lambda t: f"T={t}").rename_axis(columns=None).reset_index()
    chunked = any("steps)" in str(c) or "per step" in str(c) for c in table.columns)
    caption = "rows: batch_size; columns: time_step (T); empty: no trial"
    if chunked:
        caption += "; S: chunk length, so the LSTM ran T/S steps (per step: S=1)"
    return Section(f"matrix_{metric}", f"{MATRIX_TITLES[metric]}: batch_size × time_step", shown,
                   caption, read=MATRIX_READS[metric])


