"""`--out DIR`: the report as files (HTML with interactive charts, Markdown, JSON, CSV per section, PNGs).

trials.csv has the report's trial columns, trials_all.csv every figure each trial recorded.

Files are written to a temporary folder next to DIR's files and moved in only when all succeeded,
so a failed report never leaves a half-written set behind. Only files the report wrote there before
(listed, with their hashes, in DIR's manifest: report/manifest.py) are ever replaced.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from lstmexp.errors import StorageError
from lstmexp.report.html import render_html
from lstmexp.report.jsondoc import render_json
from lstmexp.report.manifest import (
    MANIFEST,
    after_swap,
    content_print,
    during_swap,
    manifest_text,
    read_manifest,
    refuse_foreign,
    save_manifest,
)
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
    files.update({f"{safe_name(section.key)}.csv": section_csv(section) for section in (*shape.lead, *shape.sections)})
    files.update({f"{PLOT_DIR}/{safe_name(name)}.png": data for name, data in images.items()})
    check_targets(out_dir, [MANIFEST, *files])
    old = read_manifest(out_dir) if out_dir.is_dir() else {}
    refuse_foreign(out_dir, files, old)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".report-new-", dir=out_dir))
        backup = Path(tempfile.mkdtemp(prefix=".report-old-", dir=out_dir))
    except OSError as exc:
        raise StorageError(f"cannot write the report to {out_dir}: {exc.strerror}; pick a writable --out") from None
    new = {name: content_print(as_bytes(content)) for name, content in files.items()}
    # the list goes in first, like any file of the set (so a failed swap puts the old list back too)
    staged = {MANIFEST: manifest_text(during_swap(old, new)), **files}
    try:
        stage(staging, staged)
        move_into_place(out_dir, staging, backup, list(staged))
    except OSError as exc:
        raise StorageError(
            f"cannot write the report to {out_dir}: {exc.strerror}; the previous report there is unchanged"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(backup, ignore_errors=True)
    with contextlib.suppress(OSError):  # the list moved in before the swap accepts the new files too
        save_manifest(out_dir, after_swap(out_dir, old, new))
    return [out_dir / name for name in files]


def as_bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8")


def check_targets(out_dir: Path, files: Iterable[str]) -> None:
    """Refuse before writing anything when a file to replace is a folder, or a folder to use is a file."""
    if out_dir.exists() and not out_dir.is_dir():
        raise StorageError(f"--out {out_dir} is a file; pass a folder")
    for name in files:
        target = out_dir / name
        if target.is_dir():
            raise StorageError(f"{target} is a folder where the report writes a file; move it or pick another --out")
        if target.parent != out_dir and target.parent.exists() and not target.parent.is_dir():
            raise StorageError(
                f"{target.parent} is a file where the report writes its {target.parent.name}/ folder; "
                "move it away or pick another --out"
            )


def stage(staging: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(as_bytes(content))


def move_into_place(out_dir: Path, staging: Path, backup: Path, names: list[str]) -> None:
    """Swap each staged file in (a rename: atomic per file); on any failure put every old file back."""
    moved: list[str] = []
    try:
        for name in names:
            target, kept = out_dir / name, backup / name
            target.parent.mkdir(parents=True, exist_ok=True)
            kept.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                target.replace(kept)
            moved.append(name)
            (staging / name).replace(target)
    except OSError:
        for name in reversed(moved):
            target, kept = out_dir / name, backup / name
            target.unlink(missing_ok=True)
            if kept.exists():
                kept.replace(target)
        raise


def all_trials_csv(reports: list) -> str:
    """Every recorded figure of every trial (trials.csv has the report's columns only)."""
    import pandas as pd

    frames = [r.all_trials.assign(study=r.study) if len(reports) > 1 else r.all_trials for r in reports]
    return pd.concat(frames, ignore_index=True).to_csv(index=False)
