"""The one door to Optuna's internals: every private Optuna name or format lstmexp relies on.

Each function here uses something Optuna does not promise to keep (a private attribute, a private
logger name, the RDB table layout, the journal file format, a patched study method). They were
checked against the versions in CHECKED_OPTUNA; `tests/test_optuna_compat.py` fails when another
Optuna is installed, and exercises each function against real studies, so an Optuna upgrade breaks
this file and its test, loudly, instead of a search or report somewhere else.

Optuna is imported inside the functions: `lstmexp.cli.main` imports this module at start-up.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstmexp.interrupt import reraise_interrupt

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

# The Optuna versions every function below was checked against (PEP 440 specifiers, all must hold).
# 5.1.0 re-checked against its source: Study._storage, FrozenTrial._trial_id, the
# "optuna.study._optimize" logger, the RDB tables of storages/_rdb/models.py (same columns), the
# alembic head revision v3.2.0.a, JournalOperation's op codes 0-10, and the importance evaluators
# reading trials through study.get_trials (importance/_base.py _get_filtered_trials).
CHECKED_OPTUNA = (">=5.0", "<5.2")


def optimize_logger() -> logging.Logger:
    """The logger `study.optimize` warns on (with a traceback) for every trial failure it catches."""
    return logging.getLogger("optuna.study._optimize")


# ---- Failing a trial from outside its worker (a worker that died while training it) ----


def fail_running_trial(study: optuna.Study, trial: FrozenTrial, key: str, note: str) -> FrozenTrial | None:
    """Note why on the RUNNING trial and set it FAIL; return it as stored, or None when it had finished.

    Optuna's own stale-trial handling (heartbeats) works on the study's storage and trial id the
    same way; neither is public on Study / FrozenTrial. The returned copy can be handed to
    `RetryHeartbeatStaleTrialCallback` to retry the trial once.
    """
    import optuna

    storage = study._storage
    try:
        storage.set_trial_user_attr(trial._trial_id, key, note)
        if not storage.set_trial_state_values(trial._trial_id, state=optuna.trial.TrialState.FAIL):
            return None
    except optuna.exceptions.UpdateFinishedTrialError:
        return None  # another process failed (or finished) it first
    return copy.deepcopy(storage.get_trial(trial._trial_id))


# ---- Reading trials straight from Optuna's RDB tables (optuna/storages/_rdb/models.py) ----

TRIALS_SQL = "SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials WHERE study_id = :study"
PARAMS_SQL = (
    "SELECT p.trial_id, p.param_name, p.param_value, p.distribution_json FROM trial_params p "
    "JOIN trials t ON t.trial_id = p.trial_id WHERE t.study_id = :study"
)
ATTRS_SQL = (
    "SELECT a.trial_id, a.key, a.value_json FROM trial_user_attributes a "
    "JOIN trials t ON t.trial_id = a.trial_id WHERE t.study_id = :study"
)
VALUES_SQL = (
    "SELECT v.trial_id, v.objective, v.value, v.value_type FROM trial_values v "
    "JOIN trials t ON t.trial_id = v.trial_id WHERE t.study_id = :study"
)
CONSTRAINTS_KEY = "constraints"  # trial system attributes "constraints:NAME" (set_constraint); a list in old Optuna
CONSTRAINTS_SQL = ATTRS_SQL.replace("user_attributes", "system_attributes") + f" AND a.key LIKE '{CONSTRAINTS_KEY}%'"
# Optuna stores infinities as a value type next to a NULL value.
STORED_INFINITY = {"INF_POS": float("inf"), "INF_NEG": float("-inf")}


@dataclass
class StoredTrialRows:
    """A study's trials as rows, keyed by Optuna's trial id (unique within the storage)."""

    trials: list[tuple[int, int, str, float | None]]  # trial id, number, state name (lower case), duration s
    params: list[tuple[int, str, float, str]]  # trial id, name, internal value, distribution JSON
    attrs: list[tuple[int, str, Any]]  # trial id, user attribute key, decoded value
    values: list[tuple[int, int, float]]  # trial id, objective index, value (infinities restored)
    constraints: list[tuple[int, str, Any]]  # trial id, system attribute key, value (`constraint_values` reads them)


def as_frozen(trial: optuna.Trial) -> FrozenTrial:
    """A running trial as Optuna holds it in memory (its params, attributes and constraints as set), no read."""
    return copy.deepcopy(trial._cached_frozen_trial)


def read_rdb_trials(storage: object, study_name: str) -> StoredTrialRows | None:
    """Five plain SELECTs on an RDBStorage (much faster than building FrozenTrials on large studies).

    None when `storage` is not an RDBStorage or its schema is not the one this reader knows: the
    caller then reads through `study.get_trials`.
    """
    import optuna
    import sqlalchemy.exc
    from sqlalchemy import text

    if not isinstance(storage, optuna.storages.RDBStorage):
        return None
    try:
        study_id = storage.get_study_id_from_name(study_name)
        with storage.engine.connect() as connection:
            rows = [connection.execute(text(sql), {"study": study_id}).fetchall() for sql in study_rows_sql()]
    except sqlalchemy.exc.SQLAlchemyError as exc:
        reraise_interrupt(exc)
        return None
    return stored_rows(*rows)


def study_rows_sql() -> tuple[str, ...]:
    """In `stored_rows`' order, read at each call (a test swaps one for another schema's)."""
    return TRIALS_SQL, PARAMS_SQL, ATTRS_SQL, VALUES_SQL, CONSTRAINTS_SQL


def stored_rows(trials: Sequence[Any], params: Sequence[Any], attrs: Sequence[Any], values: Sequence[Any],
                system_attrs: Sequence[Any]) -> StoredTrialRows:
    """The rows of `study_rows_sql()`, decoded."""
    return StoredTrialRows(
        trials=[(tid, number, str(state).lower(), seconds_between(start, end))
                for tid, number, state, start, end in trials],
        params=[(tid, name, internal, dist) for tid, name, internal, dist in params],
        attrs=decode_attrs(attrs),
        values=[(tid, objective, STORED_INFINITY.get(str(kind), value)) for tid, objective, value, kind in values],
        constraints=decode_attrs(system_attrs),
    )


def constraint_values(system_attrs: dict[str, Any]) -> dict[str, float]:
    """A trial's constraint values by name, read from its system attributes as `FrozenTrial.constraints` does."""
    found = {str(index): float(value) for index, value in enumerate(system_attrs.get(CONSTRAINTS_KEY) or [])}
    return found | {key.split(":", 1)[1]: float(value) for key, value in system_attrs.items()
                    if key.startswith(CONSTRAINTS_KEY + ":")}


def decode_attrs(attrs: Sequence[Any]) -> list[tuple[int, str, Any]]:
    """Attribute values are JSON texts: decode them all in one `json.loads` call (one per value is ~4x slower)."""
    decoded = json.loads("[" + ",".join(value_json for _, _, value_json in attrs) + "]")
    return [(tid, key, value) for (tid, key, _), value in zip(attrs, decoded, strict=True)]


def seconds_between(start: datetime | str | None, end: datetime | str | None) -> float | None:
    if start is None or end is None:
        return None
    if isinstance(start, str) or isinstance(end, str):  # some drivers hand back ISO strings
        start, end = datetime.fromisoformat(str(start)), datetime.fromisoformat(str(end))
    return (end - start).total_seconds()


# ---- Reading a SQLite study without Optuna at all (the read-only, fast path of `lstmexp report`) ----

STUDY_SQL = "SELECT study_id FROM studies WHERE study_name = ?"
STUDY_ATTRS_SQL = "SELECT key, value_json FROM study_user_attributes WHERE study_id = ?"
DIRECTIONS_SQL = "SELECT direction FROM study_directions WHERE study_id = ? ORDER BY objective"


@dataclass
class StoredStudy:
    """One study read straight from a SQLite file: its attributes, directions and trial rows."""

    name: str
    user_attrs: dict[str, Any]
    directions: list[str]  # "minimize" / "maximize", one per objective
    rows: StoredTrialRows


def read_sqlite_study(path: Path, study_name: str | None) -> StoredStudy | None:
    """The study in a SQLite file, opened read-only with the standard library's sqlite3 (no Optuna import).

    None when the file, the study or the schema is not what this reader knows (no name and several
    studies, too): the caller then takes the standard path, which also gives the user's errors.
    """
    import sqlite3

    if not path.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            return read_open_sqlite(connection, study_name)
    except sqlite3.Error:
        return None


# The schema revision (alembic) of Optuna 5.0's and 5.1's RDB tables, the layout the SQL above was checked
# against. Another revision (an older Optuna's file) goes the standard way, which names the fix.
KNOWN_SCHEMA_REVISIONS = frozenset({"v3.2.0.a"})


def read_open_sqlite(connection: Any, study_name: str | None) -> StoredStudy | None:
    revisions = {row[0] for row in connection.execute("SELECT version_num FROM alembic_version").fetchall()}
    if not revisions or not revisions <= KNOWN_SCHEMA_REVISIONS:
        return None
    if study_name is None:
        names = connection.execute("SELECT study_name FROM studies").fetchall()
        if len(names) != 1:
            return None
        study_name = names[0][0]
    found = connection.execute(STUDY_SQL, (study_name,)).fetchone()
    if found is None:
        return None
    study_id = found[0]
    attrs = dict(connection.execute(STUDY_ATTRS_SQL, (study_id,)).fetchall())
    directions = [str(d).split(".")[-1].lower() for (d,) in connection.execute(DIRECTIONS_SQL, (study_id,))]
    stored = stored_rows(*(connection.execute(sql.replace(":study", "?"), (study_id,)).fetchall()
                           for sql in study_rows_sql()))
    return StoredStudy(study_name, {k: json.loads(v) for k, v in attrs.items()}, directions, stored)


def external_value(distribution: dict[str, Any], internal: float) -> Any:
    """A stored parameter value as the objective saw it, from the distribution's JSON (Optuna's
    `to_external_repr` without importing Optuna): categorical index -> choice, int -> int."""
    kind, attributes = distribution["name"], distribution["attributes"]
    if kind == "CategoricalDistribution":
        return attributes["choices"][int(internal)]
    if kind in ("IntDistribution", "IntUniformDistribution", "IntLogUniformDistribution"):
        return int(internal)
    return float(internal)


def searched_range(distribution: dict[str, Any]) -> tuple[Any, Any] | None:
    """(low, high) of a numeric distribution's JSON; numeric categorical choices give their min and max."""
    attributes = distribution["attributes"]
    if "low" in attributes:
        return attributes["low"], attributes["high"]
    numbers = [c for c in attributes.get("choices", []) if isinstance(c, int | float) and not isinstance(c, bool)]
    return (min(numbers), max(numbers)) if len(numbers) >= 2 else None


# ---- Parameter importance over trials already in memory ----


def importances_over(trials: list[FrozenTrial], direction: str, params: list[str]) -> dict[str, float]:
    """`optuna.importance.get_param_importances` on these COMPLETE trials, without storing them.

    The evaluators read trials through `study.get_trials()`; serving the already-built trials from
    here skips `add_trials()`, which deep-copies every trial into the in-memory storage (most of the
    report's time on a 1,000-trial study).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "A new study created in memory" line per call
    study = optuna.create_study(direction=optuna.study.StudyDirection[direction.upper()])

    def stored(deepcopy: bool = True, states: Any = None) -> list[FrozenTrial]:
        return [t for t in trials if states is None or t.state in states]

    study.get_trials = stored  # type: ignore[method-assign]
    return optuna.importance.get_param_importances(study, params=params)


# ---- The journal file: one JSON record per line, appended under the journal's file lock ----


def drop_torn_tail(path: Path, lock: Any) -> bool:
    """Cut a last record that has no newline: its writer died mid-append (kill -9, full disk).

    Optuna appends whole newline-terminated records under the lock, so a tail without a newline was
    never acknowledged to its writer; left in place, the next append would glue onto it and make the
    whole journal unreadable. Done under the same lock, so a live writer's append is never cut, and
    only after every record before the tail was read as an Optuna record (`check_journal`): a file
    that is not provably a journal is never touched. True when something was cut.
    """
    lock.acquire()
    try:
        check = check_journal(path)
        if not check.torn:
            return False
        with path.open("rb+") as log:
            log.truncate(check.whole_end)
            log.flush()
            os.fsync(log.fileno())
        return True
    finally:
        lock.release()


# The first bytes of every record Optuna writes (json.dumps of a dict whose first key is op_code).
JOURNAL_RECORD_START = b'{"op_code":'


@dataclass(frozen=True)
class JournalCheck:
    """What a scan of a journal file found: where its whole records end, and the first bad record."""

    whole_end: int  # offset just after the last whole, readable record
    size: int
    bad_line: int | None = None  # 1-based number of the first record that cannot be read
    problem: str = ""

    @property
    def torn(self) -> bool:
        return self.bad_line is None and self.whole_end < self.size


def check_journal(path: Path) -> JournalCheck:
    """Read every record of a journal file as Optuna would replay it, without changing the file.

    A record is one JSON object per line with a known `op_code` (optuna/storages/journal/_storage.py,
    JournalOperation) and a `worker_id`. A last line without its newline is a torn append (its writer
    died); any other unreadable line makes the file something this reader cannot vouch for.
    """
    end = 0
    with path.open("rb") as log:
        size = os.fstat(log.fileno()).st_size
        for number, line in enumerate(log, start=1):
            if end + len(line) > size:
                break  # appended after we looked: not ours to judge
            if not line.endswith(b"\n"):
                if number == 1 and not line.startswith(JOURNAL_RECORD_START):
                    return JournalCheck(end, size, number, "it does not start with an Optuna journal record")
                break
            problem = journal_record_problem(line)
            if problem:
                return JournalCheck(end, size, number, problem)
            end += len(line)
    return JournalCheck(end, size)


def journal_record_problem(line: bytes) -> str:
    """Why one journal line is not a record Optuna can replay ('' when it is)."""
    try:
        record = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "not a JSON record"
    if not isinstance(record, dict) or "op_code" not in record or "worker_id" not in record:
        return "not an Optuna journal record (no op_code and worker_id)"
    if record["op_code"] not in journal_op_codes():
        return f"unknown op_code {str(record['op_code'])[:20]!r}"
    return ""


@functools.cache
def journal_op_codes() -> frozenset[int]:
    from optuna.storages.journal._storage import JournalOperation

    return frozenset(op.value for op in JournalOperation)


def optuna_table_names() -> frozenset[str]:
    """Every table Optuna's RDB storage creates, with alembic's bookkeeping table beside them."""
    from optuna.storages._rdb import models

    return frozenset(models.BaseModel.metadata.tables) | {"alembic_version"}
