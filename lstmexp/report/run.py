"""`lstmexp report` end to end: open the storage, load each study once, build, render, write files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lstmexp.errors import SpecError
from lstmexp.report.build import Report, build_report
from lstmexp.report.load import load_trials


@dataclass(frozen=True)
class ReportOptions:
    within_pct: float = 10.0
    max_memory: int | None = None


def load_report(storage_url: str, study_name: str | None, options: ReportOptions = ReportOptions()) -> Report:
    """One study's report; with no name, the storage's only study."""
    from lstmexp.storage import ENV_ATTR, SPEC_ATTR, load_existing_study, mask_url, open_storage

    storage = open_storage(storage_url, create=False)
    study = load_existing_study(storage_url, study_name, storage)
    loaded = load_trials(study, storage)
    attrs = study.user_attrs
    return build_report(
        study.study_name, mask_url(storage_url), attrs.get(ENV_ATTR, {}), loaded.frame,
        spec=attrs.get(SPEC_ATTR, {}), curves=loaded.curves, distributions=loaded.distributions,
        within_pct=options.within_pct, max_memory=options.max_memory,
    )


def report_study(
    storage_url: str | list[str], studies: list[str], fmt: str, out_dir: Path | None,
    options: ReportOptions = ReportOptions(),
) -> str:
    """Build the report(s) and return the text for stdout; with `out_dir`, also write the files there."""
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
    # Plots cost about a second (matplotlib): drawn only for the HTML page and the --out files.
    images = make_plots(reports) if fmt == "html" or out_dir is not None else None
    if out_dir is not None:
        write_outputs(shape, out_dir, images or {})
    return render(shape, fmt, images)
