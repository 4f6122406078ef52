"""Shared fixtures: tiny specs, a working directory per test, and in-process CLI invocation."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lstmexp.cli.main import main

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


# PostgreSQL for the tests: CI hands over a throwaway database made for the run (.ci/run); elsewhere the
# server's maintenance database. Tests never write there: each gets a new empty database of its own
# (`fresh_postgres`), named after it so that CI's clean-up finds any that a killed run left behind.
POSTGRES_ENV = "LSTMEXP_TEST_POSTGRES_URL"
POSTGRES_URL = os.environ.get(POSTGRES_ENV, "postgresql://postgres@127.0.0.1:5432/postgres")


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
        raise RuntimeError(f"CI=true but PostgreSQL at {POSTGRES_URL} ({POSTGRES_ENV}) is unreachable: {reason}")
    return pytest.mark.skipif(reason is not None, reason=f"PostgreSQL at {POSTGRES_URL} unreachable: {reason}")


def create_database(name: str) -> str:
    """A new empty database on the test server; its URL."""
    import sqlalchemy as sa

    admin = sa.engine.make_url(POSTGRES_URL)
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")  # CREATE DATABASE runs outside a transaction
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(sa.engine.make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:  # FORCE: a worker's pooled connection must not keep it alive
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def new_database_name() -> str:
    import sqlalchemy as sa

    base = sa.engine.make_url(POSTGRES_URL).database or "lstmexp"
    prefix = base if base.startswith("lstmexp_ci_") else "lstmexp_test"
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test whatever its outcome."""
    name = new_database_name()
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)
