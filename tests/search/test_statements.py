"""What a search costs the storage: SQL statements per trial (each one a round trip on a database server)."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from lstmexp.search import run_search
from lstmexp.spec import load_spec

SMOKE = Path(__file__).parents[2] / "experiments" / "smoke.yaml"
MAX_STATEMENTS_PER_TRIAL = 80  # a plain Optuna objective with 3 parameters, 2 reports, 3 attributes: about 64


@pytest.fixture
def quiet_optuna():
    """Optuna's log level as the CLI sets it: its INFO line per trial reads the best trial (7 statements)."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(level)


@pytest.fixture
def statements():
    """Every SQL statement any engine sends while the test runs (an SQLAlchemy listener)."""
    sent: list[str] = []

    def count(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    yield sent
    event.remove(Engine, "before_cursor_execute", count)


def test_the_smoke_search_sends_at_most_80_statements_per_trial(tmp_path, quiet_optuna, statements):
    spec = load_spec(SMOKE, ["train.threads=1"])
    summary = run_search(spec, f"sqlite:///{tmp_path}/smoke.db")
    assert summary.ran_now == spec.search.trials == 3
    # Everything counts: creating the tables and the study, the trials, their records and reports.
    assert len(statements) <= MAX_STATEMENTS_PER_TRIAL * summary.ran_now, f"{len(statements)} statements"
    # Each trial's record is written once, not figure by figure.
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO TRIAL_USER_ATTRIBUTES")]
    assert len(inserts) == summary.ran_now * 5  # worker, the record, and three headline figures
