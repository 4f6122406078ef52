"""`lstmexp studies`: every study of a storage with its trials, best value and dates.

Registered on the `lstmexp` group by lstmexp.cli.main. Heavy libraries are imported inside the command,
so importing this module keeps `lstmexp --help` instant.
"""

from __future__ import annotations

import click

from lstmexp.cli.helptext import EPILOGS, SHORT_HELP
from lstmexp.cli.launch import CheckedCommand
from lstmexp.storage.urls import DEFAULT_STORAGE

PIPED_WIDTH = 1000  # wide enough that no study name or figure is cut when the output is not a terminal


@click.command(cls=CheckedCommand, epilog=EPILOGS["studies"], short_help=SHORT_HELP["studies"])
@click.option("--storage", default=DEFAULT_STORAGE, show_default=True, metavar="URL", help="Optuna storage URL.")
def studies(storage: str) -> None:
    """List the studies in a storage: trials, best value and dates (read-only)."""
    from rich.table import Table

    from lstmexp.report.studies import study_rows
    from lstmexp.storage.urls import mask_url, open_storage, storage_errors
    from lstmexp.text import SafeConsole

    with storage_errors(storage):
        rows = study_rows(open_storage(storage, create=False))
    table = Table("study", "trials", "complete", "best configuration", "started", "last trial", "stopped by budget",
                  title=f"studies in {mask_url(storage)}", title_justify="left")
    for row in rows:
        table.add_row(*row)
    console = SafeConsole()
    if not console.is_terminal:  # piped: whole names and figures on one line each, for grep and scripts
        console = SafeConsole(width=PIPED_WIDTH)
    console.print(table if rows else f"no studies in {mask_url(storage)}")
