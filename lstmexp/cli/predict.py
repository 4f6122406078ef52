"""`lstmexp predict`: forecast a split with a trial's kept weights, as CSV in the data's own units.

Registered on the `lstmexp` group by lstmexp.cli.main. Heavy libraries are imported inside the command,
so importing this module keeps `lstmexp --help` instant.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from lstmexp.cli.helptext import EPILOGS, SHORT_HELP
from lstmexp.cli.launch import CheckedCommand
from lstmexp.errors import LstmexpError
from lstmexp.storage.safe_write import refuse_overwrite, write_atomic
from lstmexp.storage.urls import DEFAULT_STORAGE


def protected_files(storage: str, study: str, data_path: str | None) -> list[tuple[Path, str]]:
    """The files predict must never replace: the study's storage, its kept weights, the input data."""
    from lstmexp.storage.urls import journal_path, scheme_of, sqlite_path
    from lstmexp.trial.weights import weights_dir

    readers = {"sqlite": sqlite_path, "journal": journal_path}
    reader = readers.get(scheme_of(storage))
    stored = reader(storage) if reader is not None else None
    protected = [(weights_dir(storage, study), "the study's kept weights")]
    if stored is not None:
        protected.append((stored, "the study's storage"))
    if data_path is not None:
        protected.append((Path(data_path), "the --data file"))
    return protected


def check_out_folder(out: Path) -> None:
    """`--out` must go into an existing folder this user may write (checked before forecasting)."""
    folder = out.parent
    if not folder.exists():
        raise LstmexpError(f"--out {out}: the folder {folder} does not exist; create it (mkdir -p {folder}) "
                           "or choose another --out")
    if not folder.is_dir():
        raise LstmexpError(f"--out {out}: {folder} is not a folder; choose another --out")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LstmexpError(f"--out {out}: the folder {folder} is not writable; choose another --out")


@click.command(cls=CheckedCommand, epilog=EPILOGS["predict"], short_help=SHORT_HELP["predict"])
@click.argument("study")
@click.option("--trial", "number", type=click.IntRange(min=0),
              help="Trial number (a kept one) [default: the report's most accurate configuration's trial].")
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False),
              help="CSV/Parquet file to forecast [default: the trial's own data].")
@click.option("--storage", default=DEFAULT_STORAGE, show_default=True, metavar="URL",
              help="The study's storage (the weights are kept beside it).")
@click.option("--split", type=click.Choice(["train", "val", "test"]), default="test", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="CSV file [default: stdout].")
@click.option("--force", is_flag=True, help="Replace an existing --out file lstmexp did not write.")
def predict(study: str, number: int | None, data_path: str | None, storage: str, split: str, out: str | None,
            force: bool) -> None:
    """Forecast every window of a split with the kept weights of trial N, as CSV in the data's own units."""
    from lstmexp.report.studies import best_trial_number
    from lstmexp.trial.predict import forecast

    if out is not None:  # every check before the forecast, the file only after it
        refuse_overwrite(Path(out), protected_files(storage, study, data_path), force)
        check_out_folder(Path(out))
    if number is None:
        number = best_trial_number(storage, study)
        click.echo(f"trial {number}: the most accurate configuration's trial (as the report and studies say)",
                   err=True)
    result = forecast(storage, study, number, data_path, split)
    if out is None:
        result.frame.to_csv(sys.stdout, index=False)
    else:
        try:
            write_atomic(Path(out), lambda stream: result.frame.to_csv(stream, index=False))
        except OSError as exc:  # a full disk, a folder removed meanwhile: nothing of the file is left
            raise LstmexpError(f"--out {out} could not be written ({exc.strerror or type(exc).__name__}); "
                               "free space or choose another --out") from None
    known = result.trial_test_mse is not None and split == "test"
    recorded = f" (search recorded {result.trial_test_mse:.6g})" if known else ""
    click.echo(f"{split} MSE {result.mse:.6g}, MAE {result.mae:.6g} on scaled values{recorded}", err=True)
    if not result.same_scaler:
        click.echo("note: this file's train rows scale differently from the trial's data: a different series", err=True)
