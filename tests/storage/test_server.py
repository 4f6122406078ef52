"""lstmexp/storage/server.py: Optuna's tables made in an empty server database, once, by processes started together."""

from __future__ import annotations

import multiprocessing

import optuna
import pytest
import sqlalchemy as sa

from lstmexp.errors import StorageError
from lstmexp.storage.server import OPTUNA_ALL_TABLES, Tables, classify, table_names
from lstmexp.storage.urls import open_storage
from tests.conftest import create_database, drop_database, needs_postgres, new_database_name

PROCESSES = 4
TRIALS_EACH = 3
ROUNDS = 3  # the race is a matter of timing: a few empty databases make a lost race show


def tables_of(url: str) -> set[str]:
    return table_names(url, {})


def open_together_and_optimise(url: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    """One of K processes that open the same empty database at the same moment, then run trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    barrier.wait()
    storage = open_storage(url, create=True)
    study = optuna.create_study(study_name="together", storage=storage, load_if_exists=True)
    study.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0), n_trials=TRIALS_EACH)


def test_the_table_list_is_optunas():
    from optuna.storages._rdb import models  # the test may read the private layout lstmexp mirrors

    assert frozenset(models.BaseModel.metadata.tables) | {"alembic_version"} == OPTUNA_ALL_TABLES


@pytest.mark.parametrize(("tables", "kind"), [
    (set(), Tables.NONE),
    ({"studies", "version_info"}, Tables.NONE),  # a creation cut short: finished by the next writer
    (set(OPTUNA_ALL_TABLES), Tables.OPTUNA),
    ({"studies", "trials", "version_info", "invoices"}, Tables.OPTUNA),  # Optuna's, beside another's
    ({"invoices"}, Tables.FOREIGN),
    ({"studies", "invoices"}, Tables.FOREIGN),
])
def test_a_database_is_classified_by_its_tables(tables, kind):
    assert classify(tables) is kind


@pytest.mark.postgres
@needs_postgres()
def test_processes_started_together_on_an_empty_database_all_succeed_with_exact_counts():
    context = multiprocessing.get_context("spawn")
    for _ in range(ROUNDS):
        name = new_database_name()
        url = create_database(name)
        try:
            barrier = context.Barrier(PROCESSES)
            processes = [context.Process(target=open_together_and_optimise, args=(url, barrier))
                         for _ in range(PROCESSES)]
            for process in processes:
                process.start()
            for process in processes:
                process.join(timeout=120)
            assert [p.exitcode for p in processes] == [0] * PROCESSES
            study = optuna.load_study(study_name="together", storage=url)
            assert len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))) == PROCESSES * TRIALS_EACH
            assert tables_of(url) == OPTUNA_ALL_TABLES
            with sa.create_engine(url).connect() as connection:  # one version row, one schema revision
                assert connection.execute(sa.text("SELECT count(*) FROM version_info")).scalar() == 1
                assert connection.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
        finally:
            drop_database(name)


@pytest.mark.postgres
@needs_postgres()
def test_a_writer_creates_the_tables_of_an_empty_database_and_reopens_them(fresh_postgres):
    assert tables_of(fresh_postgres) == set()
    optuna.create_study(study_name="s", storage=open_storage(fresh_postgres, create=True))
    assert tables_of(fresh_postgres) == OPTUNA_ALL_TABLES
    reopened = open_storage(fresh_postgres, create=True)  # tables there: opened as they are
    assert [s.study_name for s in reopened.get_all_studies()] == ["s"]


@pytest.mark.postgres
@needs_postgres()
def test_readers_refuse_an_empty_database_without_writing(fresh_postgres, cli):
    for command in (("report",), ("studies",)):
        result = cli(*command, "--storage", fresh_postgres)
        assert result.code == 2, (command, result.err)
        assert "no Optuna tables" in result.err and "Traceback" not in result.err
    result = cli("predict", "s", "--trial", "0", "--storage", fresh_postgres)  # refused before or at the storage
    assert result.code == 2 and "Traceback" not in result.err
    with pytest.raises(StorageError, match="no Optuna tables"):
        open_storage(fresh_postgres, create=False)
    assert tables_of(fresh_postgres) == set()


@pytest.mark.postgres
@needs_postgres()
def test_a_database_with_another_programs_tables_is_refused_untouched(fresh_postgres, cli, tiny_spec):
    with sa.create_engine(fresh_postgres).begin() as connection:
        connection.execute(sa.text("CREATE TABLE invoices (id integer PRIMARY KEY)"))
    for create in (True, False):
        with pytest.raises(StorageError, match="tables of another program"):
            open_storage(fresh_postgres, create=create)
    result = cli("search", str(tiny_spec), "--storage", fresh_postgres, "--trials", "1")
    assert result.code == 2 and "tables of another program" in result.err
    assert tables_of(fresh_postgres) == {"invoices"}
