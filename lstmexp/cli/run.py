"""`lstmexp run`: train one configuration without a study and print its measured figures.

Registered on the `lstmexp` group by lstmexp.cli.main. Heavy libraries are imported inside the command,
so importing this module keeps `lstmexp --help` instant.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from lstmexp.cli.helptext import EPILOGS, SHORT_HELP
from lstmexp.cli.launch import CheckedCommand, bounded
from lstmexp.cli.options import load_spec_with_flags, spec_argument, training_options
from lstmexp.vocabulary.names import FAILURE_DETAIL, FAILURE_REASON


@click.command(cls=CheckedCommand, epilog=EPILOGS["run"], short_help=SHORT_HELP["run"])
@spec_argument
@click.option("--batch-size", type=bounded("train.batch_size"),
              help="Batch size, train.batch_size (required if the spec searches several and sets none).")
@click.option("--time-step", type=bounded("data.time_step"), help="Window length T, data.time_step.")
@click.option("--hidden-size", type=bounded("model.hidden_size"), help="LSTM hidden units, model.hidden_size.")
@click.option("--epochs", type=bounded("train.epochs"), help="Epochs (overrides train.epochs).")
@training_options
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
def run(
    spec: str | None,
    batch_size: int | None,
    time_step: int | None,
    hidden_size: int | None,
    epochs: int | None,
    device: str | None,
    seed: int | None,
    repeats: int | None,
    overrides: tuple[str, ...],
    as_json: bool,
) -> None:
    """Train one configuration without a study and print its measured figures."""
    from lstmexp.errors import TrialFailure
    from lstmexp.spec.searchable import one_configuration
    from lstmexp.trial.record import plain
    from lstmexp.trial.run import check_spec_runs, run_trial

    experiment = one_configuration(load_spec_with_flags(
        spec, overrides, epochs=epochs, device=device, seed=seed, repeats=repeats, batch_size=batch_size,
        time_step=time_step, hidden_size=hidden_size,
    ))
    check_spec_runs(experiment, one_run=True)
    sizes = experiment.sizes()
    try:
        metrics: dict[str, Any] = {"state": "complete", **sizes, **run_trial(experiment).figures()}
    except TrialFailure as failure:
        metrics = {"state": "fail", **sizes, FAILURE_REASON: failure.reason, FAILURE_DETAIL: failure.detail}
    if as_json:
        click.echo(json.dumps(plain(metrics), default=str, allow_nan=False))
    else:
        print_metrics(metrics)
    if metrics["state"] != "complete":
        sys.exit(1)


def print_metrics(metrics: dict[str, Any]) -> None:
    from rich.table import Table

    from lstmexp.text import SafeConsole

    table = Table("figure", "value", title="lstmexp run", title_justify="left")
    for key, value in metrics.items():
        if isinstance(value, list):
            value = ", ".join(f"{v:.4g}" for v in value)
        elif isinstance(value, float):
            value = f"{value:.6g}"
        table.add_row(key, str(value))
    SafeConsole().print(table)
