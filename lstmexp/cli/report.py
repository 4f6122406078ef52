"""`lstmexp report` and `lstmexp compare`: a study's report (or several side by side), printed or written.

Registered on the `lstmexp` group by lstmexp.cli.main. Heavy libraries are imported inside the commands,
so importing this module keeps `lstmexp --help` instant.
"""

from __future__ import annotations

import click

from lstmexp.cli.helptext import EPILOGS, SHORT_HELP
from lstmexp.cli.launch import CheckedCommand, finite_flag
from lstmexp.errors import LstmexpError
from lstmexp.storage.urls import DEFAULT_STORAGE
from lstmexp.text import printable
from lstmexp.vocabulary.choices import REPORT_FORMATS

MAX_REPORT_MEMORY = 2**60  # --max-memory beyond 1 EiB describes no machine (and overflows SQL integers)


@click.command(cls=CheckedCommand, epilog=EPILOGS["report"], short_help=SHORT_HELP["report"])
@click.option("--study", "studies", multiple=True,
              help="Study name [default: the storage's only study]. Repeat to compare studies side by side.")
@click.option("--storage", "storages", multiple=True, metavar="URL",
              help=f"Optuna storage URL [default: {DEFAULT_STORAGE}]. Once, or once per --study.")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=str),
              help="Write report.html (plots embedded), report.md, report.json, CSVs and PNGs to this folder "
                   "(and print only where).")
@click.option("--max-memory", metavar="SIZE", help="Recommend the most accurate trial under this peak memory (512MiB).")
@click.option("--within", "within_pct", type=click.FloatRange(min=0, max=1000), default=10.0, show_default=True,
              callback=lambda ctx, param, value: finite_flag(value, "--within"),
              help="'Fastest within X% of the best loss' recommendation: X.")
@click.option("--detail", is_flag=True, help="Terminal: every table, not only the answer and top configurations.")
def report(
    studies: tuple[str, ...], storages: tuple[str, ...], fmt: str, out_dir: str | None, max_memory: str | None,
    within_pct: float, detail: bool,
) -> None:
    """Trade-offs, Pareto front, claim verdicts and recommendations for a study (or several, side by side)."""
    print_report(studies, storages, fmt, out_dir, max_memory, within_pct, detail)


@click.command(cls=CheckedCommand, epilog=EPILOGS["compare"], short_help=SHORT_HELP["compare"])
@click.argument("studies", nargs=-1, required=True)
@click.option("--storage", "storages", multiple=True, metavar="URL",
              help=f"Optuna storage URL [default: {DEFAULT_STORAGE}]. Once, or once per study.")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=str),
              help="Write the comparison's report.html, report.md, report.json, CSVs and PNGs to this folder.")
@click.option("--detail", is_flag=True, help="Terminal: every table, not only the answers and top configurations.")
def compare(studies: tuple[str, ...], storages: tuple[str, ...], fmt: str, out_dir: str | None, detail: bool) -> None:
    """Studies side by side: each one's answer, configurations and claim verdicts (report --study A --study B)."""
    if len(studies) < 2:
        raise click.UsageError(f"compare needs two or more studies, got {len(studies)}; "
                               f"for one study: lstmexp report --study {studies[0]}")
    print_report(studies, storages, fmt, out_dir, None, 10.0, detail)


def print_report(studies: tuple[str, ...], storages: tuple[str, ...], fmt: str, out_dir: str | None,
                 max_memory: str | None, within_pct: float, detail: bool) -> None:
    """What `report` and `compare` print: the text on stdout, or with --out only where the files went."""
    from pathlib import Path

    from lstmexp.report.run import ReportOptions, report_study
    from lstmexp.storage.locate import pointing_elsewhere
    from lstmexp.units import parse_memory_flag

    limit = parse_memory_flag(max_memory, "--max-memory") if max_memory is not None else None
    if limit is not None and limit > MAX_REPORT_MEMORY:
        raise LstmexpError(f"--max-memory {max_memory} is beyond any machine; give a size below 1 EiB")
    options = ReportOptions(within_pct, limit)
    with pointing_elsewhere(list(studies), list(storages) or [DEFAULT_STORAGE]):  # a missing study: where is it?
        text = report_study(list(storages) or [DEFAULT_STORAGE], list(studies), fmt,
                            Path(out_dir) if out_dir else None, options, detail)
    if out_dir:  # the files are the output: a page of megabytes on the terminal helps no one
        click.echo(f"report written to {out_dir}/report.html (and report.md, report.json, *.csv, plots/)")
    else:
        click.echo(printable(text, keep="\n\t"), nl=False)
