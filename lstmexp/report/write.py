"""`--out DIR`: the report as files (HTML with interactive charts, Markdown, JSON, CSV per section, PNGs).

trials.csv has the report's trial columns, trials_all.csv every figure each trial recorded.

Files are written to a temporary folder next to DIR's files and moved in only when all succeeded,
so a failed report never leaves a half-written set behind.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from lstmexp.errors import StorageError
from lstmexp.report.html import render_html
from lstmexp.report.jsondoc import render_json
from lstmexp.report.outline import Outline
from lstmexp.report.render import render_csv, render_markdown, section_csv

PLOT_DIR = "plots"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def safe_name(key: str) -> str:
    """A file name from a section key (which may contain a study name from any Optuna client)."""
    return _UNSAFE.sub("_", key).lstrip(".") or "section"


def write_outputs(shape: Outline, out_dir: Path, images: dict[str, bytes]) -> list[Path]:
    """Write every file (`images`: plot name -> PNG bytes, from plots.make_plots)."""
    files: dict[str, str | bytes] = {
        "report.html": render_html(shape),  # interactive charts; the PNGs are for report.md
        "report.md": render_markdown(shape, {n: f"{PLOT_DIR}/{safe_name(n)}.png" for n in images}),
        "report.json": render_json(shape),
        "trials.csv": render_csv(shape),
        "trials_all.csv": all_trials_csv(shape.reports),
    }
    files.update({f"{safe_name(section.key)}.csv": section_csv(section) for section in shape.sections})
    files.update({f"{PLOT_DIR}/{safe_name(name)}.png": data for name, data in images.items()})
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".report-", dir=out_dir))
    except OSError as exc:
        raise StorageError(f"cannot write the report to {out_dir}: {exc.strerror}; pick a writable --out") from None
    try:
        for name, content in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
        written = []
        for name in files:
            target = out_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            (staging / name).replace(target)
            written.append(target)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def all_trials_csv(reports: list) -> str:
    """Every recorded figure of every trial (trials.csv has the report's columns only)."""
    import pandas as pd

    frames = [r.all_trials.assign(study=r.study) if len(reports) > 1 else r.all_trials for r in reports]
    return pd.concat(frames, ignore_index=True).to_csv(index=False)
