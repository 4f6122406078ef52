"""Shared fixtures: tiny specs, a working directory per test, and in-process CLI invocation."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from lstmexp.cli import main

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

TINY_SPEC = """\
study: tiny
data: {dataset: synthetic, rows: 800}
train: {epochs: 2, device: cpu, warmup_iters: 2}
search:
  trials: 3
  sampler: random
  pruner: none
  space:
    batch_size: [16, 32]
    time_step: [4, 8]
    hidden_size: [8]
"""


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def tiny_spec(workdir: Path) -> Path:
    path = workdir / "tiny.yaml"
    path.write_text(TINY_SPEC)
    return path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run `lstmexp ARGS` in-process; returns exit code, stdout and stderr."""

    def invoke(*args: str) -> Result:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def needs_shared_data() -> pytest.MarkDecorator:
    present = (SHARED_DATA / "ETTh1.csv").exists()
    if not present and os.environ.get("CI") == "true":
        raise RuntimeError(f"CI=true but {SHARED_DATA} is missing: the shared dataset must be there in CI")
    return pytest.mark.skipif(not present, reason=f"{SHARED_DATA}/ETTh1.csv is absent (../shared not mounted)")


POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_available(url: str = POSTGRES_URL) -> str | None:
    """None when the PostgreSQL test server answers, else the reason it does not."""
    try:
        import sqlalchemy as sa

        with sa.create_engine(url, connect_args={"connect_timeout": 3}).connect() as connection:
            connection.execute(sa.text("select 1"))
    except Exception as exc:  # any failure means: no usable server here
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return None


def needs_postgres() -> pytest.MarkDecorator:
    """Skip with the reason when PostgreSQL is unreachable, except under CI=true, where it must be there."""
    reason = postgres_available()
    if reason is not None and os.environ.get("CI") == "true":
        raise RuntimeError(f"CI=true but PostgreSQL at {POSTGRES_URL} is unreachable: {reason}")
    return pytest.mark.skipif(reason is not None, reason=f"PostgreSQL at {POSTGRES_URL} unreachable: {reason}")
