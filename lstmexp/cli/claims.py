"""`lstmexp claims`: the designed experiment for every claim, as an ordinary study, then its claims report.

Registered on the `lstmexp` group by lstmexp.cli.main. Heavy libraries are imported inside the command,
so importing this module keeps `lstmexp --help` instant.
"""

from __future__ import annotations

import json
import math
import os

import click

from lstmexp.cli.helptext import EPILOGS, SHORT_HELP
from lstmexp.storage.urls import DEFAULT_STORAGE, DEFAULT_WORKERS_STORAGE

DEFAULT_CPU_MINUTES = 10.0


def claims_study_name(data_path: str | None) -> str:
    """`claims`, or `claims-<file stem>`: never the name a plain search of the same data gets."""
    from pathlib import Path

    return "claims" if data_path is None else f"claims-{Path(data_path).stem}"[:100]


def finite_minutes(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number", param_hint="--max-cpu-minutes")
    return value


@click.command(epilog=EPILOGS["claims"], short_help=SHORT_HELP["claims"])
@click.argument("spec", required=False, type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a spec field, e.g. -o data.path=my.csv -o data.target=y. Repeatable.")
@click.option("--storage", help=f"Optuna storage URL [default: the spec's, else {DEFAULT_STORAGE}; "
              f"with --workers: {DEFAULT_WORKERS_STORAGE}].")
@click.option("--study", help="Study name [default: claims, or claims-<data file name>].")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes on this machine (each takes the next waiting trial).")
@click.option("--max-cpu-minutes", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_CPU_MINUTES,
              show_default=True, callback=finite_minutes,
              help="CPU budget of the whole design: fewer seeds, epochs and settings to fit (stated in the report).")
def claims(spec: str | None, overrides: tuple[str, ...], storage: str | None, study: str | None, workers: int,
           max_cpu_minutes: float) -> None:
    """Run (or resume) a designed experiment for every claim C1..C14 on SPEC's data, then report the verdicts."""
    from lstmexp.cli.launch import REPRODUCE_ENV, check_worker_count, worker_process
    from lstmexp.cli.search import reproduce_base
    from lstmexp.cli.startup import prepare, run_shown
    from lstmexp.report.run import report_study
    from lstmexp.search.claims_study import open_claims_study
    from lstmexp.spec import load_spec
    from lstmexp.storage.urls import check_url
    from lstmexp.text import SafeConsole, printable

    experiment = load_spec(spec, overrides)
    name = study or (None if "study" in experiment.model_fields_set else claims_study_name(experiment.data.path))
    if name is not None:
        experiment = load_spec(spec, [*overrides, f"study={json.dumps(name)}"])
    check_worker_count(workers)
    experiment, storage_url, lines = prepare(experiment, workers, storage)
    check_url(storage_url)
    console = SafeConsole(stderr=True, soft_wrap=True)
    study_spec, design = open_claims_study(experiment, storage_url, max_cpu_minutes)
    lines.append(f"claims design: {design.trials} trials ({len(design.settings())} settings × {design.seeds} seeds, "
                 f"{design.epochs} epochs), estimated {design.estimate_cpu_s / 60:.1f} of {max_cpu_minutes:g} "
                 "CPU-minutes")
    base = os.environ[REPRODUCE_ENV] = reproduce_base(spec, overrides)
    run_shown(study_spec, storage_url, workers, None, lines, console, worker_process, base)
    text = report_study(storage_url, [study_spec.study], "table", None)
    click.echo(printable(text, keep="\n\t"), nl=False)
