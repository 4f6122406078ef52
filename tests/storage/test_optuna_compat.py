"""The Optuna door (lstmexp/storage/optuna_compat.py) against the installed Optuna, on real studies."""

from __future__ import annotations

import logging
import math

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock
from optuna.trial import TrialState
from packaging.specifiers import SpecifierSet

from lstmexp.storage import optuna_compat as compat


def test_installed_optuna_is_the_version_the_compat_module_was_checked_against():
    checked = SpecifierSet(",".join(compat.CHECKED_OPTUNA))
    assert optuna.__version__ in checked, (
        f"Optuna {optuna.__version__} is installed but lstmexp/storage/optuna_compat.py was checked against "
        f"{checked}: re-check every function in that one file against the new Optuna's source (private "
        "attributes, the optimize logger name, the RDB tables, the journal format), run this test file, "
        "then widen CHECKED_OPTUNA"
    )


def test_the_optimize_logger_is_the_one_that_warns_about_caught_failures(caplog):
    def fails(trial: optuna.Trial) -> float:
        raise ValueError("data, not a bug")

    study = optuna.create_study()
    with caplog.at_level(logging.WARNING, logger=compat.optimize_logger().name):  # the CLI may have raised it
        study.optimize(fails, n_trials=1, catch=(ValueError,))
    warned = [r for r in caplog.records if "data, not a bug" in r.getMessage()]
    assert warned and {r.name for r in warned} == {compat.optimize_logger().name}


@pytest.mark.parametrize("url", ["memory", "sqlite"])
def test_fail_running_trial_fails_it_once_and_returns_the_stored_trial(tmp_path, url):
    storage = None if url == "memory" else f"sqlite:///{tmp_path}/s.db"
    study = optuna.create_study(storage=storage)
    running = study.ask()
    running.suggest_int("x", 1, 4)
    frozen = study.get_trials(states=(TrialState.RUNNING,))[0]
    lost = compat.fail_running_trial(study, frozen, "lost", "worker died")
    assert lost is not None and lost.state == TrialState.FAIL and lost.user_attrs == {"lost": "worker died"}
    assert lost.params == frozen.params
    assert study.get_trials()[0].state == TrialState.FAIL
    assert compat.fail_running_trial(study, frozen, "lost", "again") is None  # already finished: left alone
    assert study.get_trials()[0].user_attrs == {"lost": "worker died"}


def make_rdb_study(url: str) -> optuna.Study:
    study = optuna.create_study(study_name="s", storage=url)
    study.optimize(lambda t: t.suggest_categorical("b", [16, 32]) / 10, n_trials=2)
    study.enqueue_trial({"b": 16})
    trial = study.ask()
    trial.suggest_categorical("b", [16, 32])
    trial.set_user_attr("curve_val", [0.5, 0.25])
    study.tell(trial, math.inf)
    return study


def test_read_rdb_trials_matches_the_study_trials(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    study = make_rdb_study(url)
    optuna.create_study(study_name="other", storage=url).optimize(lambda t: 1.0, n_trials=1)
    rows = compat.read_rdb_trials(optuna.storages.RDBStorage(url), "s")
    assert rows is not None
    trials = study.get_trials()
    assert sorted(number for _, number, _, _ in rows.trials) == [t.number for t in trials]  # not "other"'s
    assert {state for _, _, state, _ in rows.trials} == {"complete"}
    assert all(duration is not None and duration >= 0 for *_, duration in rows.trials)
    assert sorted(value for _, _, value in rows.values) == sorted(t.value for t in trials)  # inf restored
    assert [(key, value) for _, key, value in rows.attrs] == [("curve_val", [0.5, 0.25])]
    distribution = CategoricalDistribution([16, 32])
    decoded = sorted(distribution.to_external_repr(internal) for _, _, internal, _ in rows.params)
    assert decoded == sorted(t.params["b"] for t in trials)


def test_read_rdb_trials_declines_other_storages_and_unknown_schemas(tmp_path, monkeypatch):
    assert compat.read_rdb_trials(optuna.storages.InMemoryStorage(), "s") is None
    url = f"sqlite:///{tmp_path}/s.db"
    make_rdb_study(url)
    monkeypatch.setattr(compat, "VALUES_SQL", compat.VALUES_SQL.replace("value_type", "no_such_column"))
    assert compat.read_rdb_trials(optuna.storages.RDBStorage(url), "s") is None


def test_constraint_values_are_read_from_the_tables_as_optuna_reads_them(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    study = optuna.create_study(study_name="s", storage=url)
    trial = study.ask()
    trial.set_constraint("max_memory", 12.5)  # Optuna 5: one system attribute per name
    trial.set_constraint("min_samples_per_s", -3.0)
    study.tell(trial, 1.0)
    # older Optuna (constraints_func): one list
    study.add_trial(optuna.trial.create_trial(value=2.0, system_attrs={"constraints": [1.0, -2.0]}))
    rows = compat.read_rdb_trials(optuna.storages.RDBStorage(url), "s")
    by_trial: dict[int, dict] = {}
    for trial_id, key, value in rows.constraints:
        by_trial.setdefault(trial_id, {})[key] = value
    read = [compat.constraint_values(attrs) for _, attrs in sorted(by_trial.items())]
    assert read == [t.constraints for t in study.trials]
    assert read == [{"max_memory": 12.5, "min_samples_per_s": -3.0}, {"0": 1.0, "1": -2.0}]


def test_importances_over_in_memory_trials_equal_optuna_on_a_stored_study():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_int("a", 0, 10) ** 2 + t.suggest_int("b", 0, 10) * 0.1, n_trials=30)
    trials = study.get_trials(states=(TrialState.COMPLETE,))
    served = compat.importances_over(trials, "minimize", ["a", "b"])
    assert served == pytest.approx(optuna.importance.get_param_importances(study, params=["a", "b"]))
    assert served["a"] > served["b"]


def test_drop_torn_tail_cuts_half_a_record_and_the_journal_reads_again(tmp_path):
    path = tmp_path / "s.journal"
    lock = JournalFileSymlinkLock(str(path))
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(path), lock_obj=lock))
    optuna.create_study(study_name="s", storage=storage).optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"op_code": 5, "half')  # a writer killed mid-append
    compat.drop_torn_tail(path, lock)
    assert path.read_bytes() == whole
    compat.drop_torn_tail(path, lock)  # a whole journal is left as it is
    assert path.read_bytes() == whole
    reopened = optuna.storages.JournalStorage(JournalFileBackend(str(path), lock_obj=lock))
    assert len(optuna.load_study(study_name="s", storage=reopened).trials) == 2


def journal_with_trials(path):
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    optuna.create_study(study_name="s", storage=storage).optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    return path.read_bytes()


@pytest.mark.parametrize(
    ("damage", "line", "problem"),
    [
        (lambda w: w.replace(b"\n", b"\ngarbage\n", 1), 2, "not a JSON record"),
        (lambda w: w + b"[1, 2]\n", None, "no op_code"),
        (lambda w: w + b'{"op_code": 99, "worker_id": "x"}\n', None, "unknown op_code"),
        (lambda w: b"SQLite format 3\x00" + w, 1, "not a JSON record"),
    ],
)
def test_check_journal_names_the_first_unreadable_line(tmp_path, damage, line, problem):
    path = tmp_path / "s.journal"
    whole = journal_with_trials(path)
    path.write_bytes(damage(whole))
    check = compat.check_journal(path)
    assert check.bad_line == (line or whole.count(b"\n") + 1)
    assert problem in check.problem
    assert not check.torn


def test_drop_torn_tail_never_touches_a_file_that_is_not_a_journal(tmp_path):
    path = tmp_path / "notes.txt"
    for text in (b"line one\nline two without newline", b"no newline at all", b'{"op_code": 0}\nhalf'):
        path.write_bytes(text)
        assert compat.drop_torn_tail(path, JournalFileSymlinkLock(str(path))) is False
        assert path.read_bytes() == text


def test_the_fast_sqlite_reader_knows_the_installed_optunas_schema(tmp_path):
    """An Optuna upgrade that migrates the tables makes this fail: re-check the SQL in optuna_compat."""
    import sqlite3

    url = f"sqlite:///{tmp_path}/s.db"
    optuna.create_study(study_name="s", storage=url)
    with sqlite3.connect(tmp_path / "s.db") as db:
        (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    db.close()
    assert revision in compat.KNOWN_SCHEMA_REVISIONS
    assert compat.read_sqlite_study(tmp_path / "s.db", "s") is not None
