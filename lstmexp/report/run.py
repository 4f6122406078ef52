"""`lstmexp report` end to end: open the storage, load each study once, build, render, write files.

A SQLite storage is read straight from its file, read-only, without importing Optuna or touching
its storage machinery (`load.load_sqlite`): most of a report's time used to be importing Optuna
and initialising its RDB storage. Other storages, and a SQLite file this reader declines (no such
study, an unknown schema), go through Optuna, which also gives the user's error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstmexp.errors import SpecError
from lstmexp.report.build import Report, build_report
from lstmexp.report.load import LoadedTrials, load_trials

if TYPE_CHECKING:
    import pandas as pd

    from lstmexp.storage.optuna_compat import StoredStudy


@dataclass(frozen=True)
class ReportOptions:
    within_pct: float = 10.0
    max_memory: int | None = None


def load_report(storage_url: str, study_name: str | None, options: ReportOptions = ReportOptions()) -> Report:
    """One study's report; with no name, the storage's only study."""
    from lstmexp.storage.urls import load_existing_study, open_storage

    fast = read_sqlite(storage_url, study_name)
    if fast is not None:
        return fast_report(storage_url, fast, options)
    storage = open_storage(storage_url, create=False)
    study = load_existing_study(storage_url, study_name, storage)
    return report_of(storage_url, study.study_name, study.user_attrs, load_trials(study, storage), options)


def read_sqlite(storage_url: str, study_name: str | None) -> StoredStudy | None:
    from lstmexp.storage.optuna_compat import read_sqlite_study
    from lstmexp.storage.urls import check_url, sqlite_path

    if check_url(storage_url) != "sqlite":
        return None
    path = sqlite_path(storage_url)
    return read_sqlite_study(path, study_name) if path is not None else None


def fast_report(storage_url: str, stored: StoredStudy, options: ReportOptions) -> Report:
    from lstmexp.report.load import load_sqlite

    return report_of(storage_url, stored.name, stored.user_attrs, load_sqlite(stored), options)


def report_of(storage_url: str, name: str, attrs: dict[str, Any], loaded: LoadedTrials,
              options: ReportOptions) -> Report:
    from lstmexp.spec.stored import SPEC_SCHEMA_ATTR, as_written
    from lstmexp.storage.urls import ENV_ATTR, SPEC_ATTR, mask_url

    attrs = masked(attrs)  # an older search stored passwords in reproduce commands: no report shows one
    stored = attrs.get(SPEC_ATTR)  # read as written: reproduce commands must not pick up today's defaults
    spec = as_written(stored, attrs.get(SPEC_SCHEMA_ATTR)) if isinstance(stored, dict) else {}
    return build_report(
        name, mask_url(storage_url), attrs.get(ENV_ATTR, {}), masked_frame(loaded.frame),
        spec=spec, curves=loaded.curves, distributions=loaded.distributions or None,
        distribution_json=loaded.distribution_json,
        within_pct=options.within_pct, max_memory=options.max_memory, ranges=loaded.ranges, study_attrs=attrs,
    )


def masked(value: Any) -> Any:
    """`value` with every credential in its strings (at any depth) replaced by ***."""
    from lstmexp.storage.urls import mask_text

    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(masked(item) for item in value)
    return value


def masked_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The trials with every text column masked (reproduce commands, failure details, any user attribute)."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    shown = frame.copy()
    for column in [c for c in frame.columns if is_object_dtype(frame[c]) or is_string_dtype(frame[c])]:
        shown[column] = frame[column].map(masked)
    return shown


def report_study(
    storage_url: str | list[str], studies: list[str], fmt: str, out_dir: Path | None,
    options: ReportOptions = ReportOptions(), detail: bool = True,
) -> str:
    """Build the report(s) and return the text for stdout; with `out_dir`, also write the files there.

    `detail` False: the terminal table is the brief one (`lstmexp report` without --detail)."""
    from lstmexp.report.compare import compare
    from lstmexp.report.outline import outline
    from lstmexp.report.plots import make_plots
    from lstmexp.report.render import render
    from lstmexp.report.write import write_outputs

    urls = storage_url if isinstance(storage_url, list) else [storage_url]
    names: list[str | None] = list(studies) or [None]
    if len(urls) not in (1, len(names)):
        raise SpecError(f"--storage given {len(urls)} times for {len(names)} studies; give it once or once per --study")
    paired = urls * len(names) if len(urls) == 1 else urls
    reports = [load_report(url, name, options) for url, name in zip(paired, names, strict=True)]
    shape = outline(reports[0] if len(reports) == 1 else compare(reports))
    # PNG plots cost about a second (matplotlib): drawn only for the --out files (report.md shows them);
    # the HTML page draws its own interactive charts.
    images = make_plots(reports) if out_dir is not None else None
    if out_dir is not None:
        write_outputs(shape, out_dir, images or {})
    return render(shape, fmt, detail=detail)
