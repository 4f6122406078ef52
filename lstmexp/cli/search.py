"""`lstmexp search`: run or resume a study over a spec, with its progress display and summary.

Registered on the `lstmexp` group by lstmexp.cli.main. Heavy libraries are imported inside the command,
so importing this module keeps `lstmexp --help` instant.
"""

from __future__ import annotations

import os
import shlex
from typing import Any

import click

from lstmexp.cli.helptext import EPILOGS, SHORT_HELP
from lstmexp.cli.launch import REPRODUCE_ENV, CheckedCommand, bounded
from lstmexp.cli.options import load_spec_with_flags, spec_argument, training_options
from lstmexp.storage.urls import DEFAULT_STORAGE, DEFAULT_WORKERS_STORAGE, mask_text
from lstmexp.vocabulary.choices import LOG_TARGETS, OBJECTIVES, PRUNERS, SAMPLERS


@click.command(cls=CheckedCommand, epilog=EPILOGS["search"], short_help=SHORT_HELP["search"])
@spec_argument
@click.option("--trials", type=bounded("search.trials"), help="Target number of finished trials in the study.")
@click.option("--study", help="Study name (overrides the spec's `study`).")
@click.option("--storage", help=f"Optuna storage URL [default: the spec's, else {DEFAULT_STORAGE}; "
              f"with --workers: {DEFAULT_WORKERS_STORAGE}].")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes on this machine, each with cores/K torch threads.")
@click.option("--sampler", type=click.Choice(SAMPLERS), help="Overrides search.sampler.")
@click.option("--timeout", type=bounded("search.max_minutes"), metavar="MINUTES",
              help="Stop between trials after this many wall minutes (search.max_minutes).")
@click.option("--pruner", type=click.Choice(PRUNERS), help="Overrides search.pruner.")
@click.option("--objective", "objectives", multiple=True, type=click.Choice(OBJECTIVES),
              help="Objective (repeat for a multi-objective Pareto search); overrides search.objectives.")
@training_options
@click.option("--log-to", type=click.Choice(LOG_TARGETS),
              help="Also log each trial's parameters, loss curves and figures to MLflow or TensorBoard "
                   "(pip install 'lstmexp[mlflow]' or 'lstmexp[tensorboard]').")
def search(
    spec: str | None,
    trials: int | None,
    study: str | None,
    storage: str | None,
    workers: int,
    sampler: str | None,
    timeout: float | None,
    pruner: str | None,
    objectives: tuple[str, ...],
    device: str | None,
    seed: int | None,
    repeats: int | None,
    overrides: tuple[str, ...],
    log_to: str | None,
) -> None:
    """Run (or resume) a study over SPEC (a YAML file; default: the built-in defaults)."""
    from lstmexp.cli.launch import check_worker_count, worker_process
    from lstmexp.cli.progress import say_summary
    from lstmexp.cli.startup import prepare, run_shown
    from lstmexp.storage.urls import check_url, mask_url
    from lstmexp.text import SafeConsole

    experiment = load_spec_with_flags(
        spec, overrides, trials=trials, study=study, device=device, seed=seed, sampler=sampler, pruner=pruner,
        objectives=list(objectives) or None, repeats=repeats, timeout=timeout,
    )
    check_worker_count(workers)
    experiment, storage_url, start_lines = prepare(experiment, workers, storage)
    check_url(storage_url)
    console = SafeConsole(stderr=True, soft_wrap=True)
    # every trial's reproduce command starts with this; spawned workers inherit it (worker_process)
    base = os.environ[REPRODUCE_ENV] = reproduce_base(spec, overrides, device=device, repeats=repeats)
    summary = run_shown(experiment, storage_url, workers, log_to, start_lines, console, worker_process, base)
    say_summary(console, summary, mask_url(storage_url))


def reproduce_base(spec: str | None, overrides: tuple[str, ...], **flags: Any) -> str:
    """`lstmexp run SPEC -o ...`: what every trial's reproduce command starts with (the search's own overrides)."""
    words = ["lstmexp", "run", *([spec] if spec else [])]
    for override in overrides:
        # `lstmexp run` never opens a storage: its URL (and a password in it) has no place in the command
        if override.partition("=")[0].strip() != "storage":
            words += ["-o", override]
    for name, value in flags.items():
        if value is not None:
            words += ["--" + name, str(value)]
    return mask_text(shlex.join(words))  # a credential in any other value: hidden like everywhere else
