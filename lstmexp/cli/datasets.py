"""`lstmexp datasets` and `lstmexp datasets describe`: the built-in datasets, and what a dataset or file holds.

Registered on the `lstmexp` group by lstmexp.cli.main. Heavy libraries are imported inside the commands,
so importing this module keeps `lstmexp --help` instant.
"""

from __future__ import annotations

import json

import click

from lstmexp.cli.helptext import EPILOGS, SHORT_HELP
from lstmexp.cli.launch import CheckedGroup
from lstmexp.cli.options import override_option


@click.group(cls=CheckedGroup, invoke_without_command=True, epilog=EPILOGS["datasets"],
             short_help=SHORT_HELP["datasets"])
@click.pass_context
def datasets(ctx: click.Context) -> None:
    """List the built-in datasets (one line each); `datasets describe` shows one dataset or file."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from lstmexp.data.describe import list_datasets
    from lstmexp.text import SafeConsole

    table = Table("dataset", "what it is", title="built-in datasets (or data.path: a CSV/Parquet file)",
                  title_justify="left")
    for name, description in list_datasets():
        table.add_row(name, description)
    SafeConsole().print(table)


@datasets.command("describe", epilog=EPILOGS["describe"], short_help=SHORT_HELP["describe"])
@click.argument("name_or_path")
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False), help="Take the data section from this spec.")
@override_option
def datasets_describe(name_or_path: str, spec_path: str | None, overrides: tuple[str, ...]) -> None:
    """Rows, columns, time range and split sizes of a built-in dataset NAME or a CSV/Parquet PATH."""
    from rich.table import Table

    from lstmexp.data.describe import describe, is_file_reference
    from lstmexp.spec import load_spec
    from lstmexp.text import SafeConsole

    field = "data.path" if is_file_reference(name_or_path) else "data.dataset"
    chosen = f"{field}={json.dumps(name_or_path)}"
    # describe needs no target: mode M keeps the spec valid when the user has not chosen one yet.
    experiment = load_spec(spec_path, ["data.mode=M", *overrides, chosen])
    table = Table("figure", "value", title=f"lstmexp datasets describe {name_or_path}", title_justify="left")
    for figure, value in describe(experiment.data):
        table.add_row(figure, value)
    SafeConsole().print(table)
