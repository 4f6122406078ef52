"""The one door to Optuna's internals: every private Optuna name or format lstmexp relies on.

Each function here uses something Optuna does not promise to keep (a private attribute, a private
logger name, the RDB table layout, the journal file format, a patched study method). They were
checked against the versions in CHECKED_OPTUNA; `tests/test_optuna_compat.py` fails when another
Optuna is installed, and exercises each function against real studies, so an Optuna upgrade breaks
this file and its test, loudly, instead of a search or report somewhere else.

Optuna is imported inside the functions: `lstmexp.cli` imports this module at start-up.
"""

from __future__ import annotations

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

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

# The Optuna versions every function below was checked against (PEP 440 specifiers, all must hold).
CHECKED_OPTUNA = (">=5.0", "<5.1")


def optimize_logger() -> logging.Logger:
    """The logger `study.optimize` warns on (with a traceback) for every trial failure it catches."""
    return logging.getLogger("optuna.study._optimize")


# --------------------------------------------------------------------------------------------
# Failing a trial from outside its worker (a worker that died while training it)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Reading trials straight from Optuna's RDB tables (optuna/storages/_rdb/models.py)
# --------------------------------------------------------------------------------------------

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
# Optuna stores infinities as a value type next to a NULL value.
STORED_INFINITY = {"INF_POS": float("inf"), "INF_NEG": float("-inf")}


@dataclass
class StoredTrialRows:
    """A study's trials as rows, keyed by Optuna's trial id (unique within the storage)."""

    trials: list[tuple[int, int, str, float | None]]  # trial id, number, state name (lower case), duration s
    params: list[tuple[int, str, float, str]]  # trial id, name, internal value, distribution JSON
    attrs: list[tuple[int, str, Any]]  # trial id, user attribute key, decoded value
    values: list[tuple[int, int, float]]  # trial id, objective index, value (infinities restored)


def read_rdb_trials(storage: object, study_name: str) -> StoredTrialRows | None:
    """Four plain SELECTs on an RDBStorage (much faster than building FrozenTrials on large studies).

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
            trials, params, attrs, values = (
                connection.execute(text(sql), {"study": study_id}).fetchall()
                for sql in (TRIALS_SQL, PARAMS_SQL, ATTRS_SQL, VALUES_SQL)
            )
    except sqlalchemy.exc.SQLAlchemyError:
        return None
    return StoredTrialRows(
        trials=[(tid, number, str(state).lower(), seconds_between(start, end))
                for tid, number, state, start, end in trials],
        params=[(tid, name, internal, dist) for tid, name, internal, dist in params],
        attrs=decode_attrs(attrs),
        values=[(tid, objective, STORED_INFINITY.get(str(kind), value)) for tid, objective, value, kind in values],
    )


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


# --------------------------------------------------------------------------------------------
# Parameter importance over trials already in memory
# --------------------------------------------------------------------------------------------


def importances_over(trials: list[FrozenTrial], direction: str, params: list[str]) -> dict[str, float]:
    """`optuna.importance.get_param_importances` on these COMPLETE trials, without storing them.

    The evaluators read trials through `study.get_trials()`; serving the already-built trials from
    here skips `add_trials()`, which deep-copies every trial into the in-memory storage (most of the
    report's time on a 1,000-trial study).
    """
    import optuna

    study = optuna.create_study(direction=optuna.study.StudyDirection[direction.upper()])

    def stored(deepcopy: bool = True, states: Any = None) -> list[FrozenTrial]:
        return [t for t in trials if states is None or t.state in states]

    study.get_trials = stored  # type: ignore[method-assign]
    return optuna.importance.get_param_importances(study, params=params)


# --------------------------------------------------------------------------------------------
# The journal file: one JSON record per line, appended under the journal's file lock
# --------------------------------------------------------------------------------------------


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
