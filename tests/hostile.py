"""Helpers of the hostile-input tests: the one-line contract, folder fingerprints, a ready-made study."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from tests.conftest import Result

# A study small enough to make once per test module (one trial of one epoch).
QUICK_SPEC = """\
study: tiny
data: {dataset: synthetic, rows: 400}
train: {epochs: 1, device: cpu, warmup_iters: 1}
search:
  trials: 1
  sampler: random
  pruner: none
  space: {batch_size: [16], time_step: [4], hidden_size: [4]}
"""


def assert_one_line(result: Result, needle: str, code: int = 2) -> str:
    """Exit `code`, stderr exactly one line (no blank line before it), `error: ...` naming `needle`."""
    assert result.code == code, (result.code, result.err)
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.err + result.out
    assert needle in lines[0], lines[0]
    return lines[0]


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file and link under `folder` by relative path, with its content hash (new files show too)."""
    prints = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            prints[str(path.relative_to(folder))] = "link"
        elif path.is_file():
            prints[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            prints[str(path.relative_to(folder)) + "/"] = "dir"
    return prints


def make_studies(folder: Path) -> tuple[Path, Path]:
    """An lstmexp study in a SQLite file and in a journal file, made by a real one-trial search."""
    from lstmexp.search import run_search
    from lstmexp.spec import load_spec

    folder.mkdir(parents=True, exist_ok=True)
    spec_path = folder / "quick.yaml"
    spec_path.write_text(QUICK_SPEC)
    spec = load_spec(spec_path)
    database, journal = folder / "study.db", folder / "study.journal"
    run_search(spec, f"sqlite:///{database}")
    run_search(spec, f"journal:///{journal}")
    return database, journal


def copy_in(source: Path, folder: Path, name: str | None = None) -> Path:
    target = folder / (name or source.name)
    shutil.copyfile(source, target)
    return target
