"""Storage files (SQLite databases, journal logs): proving a file is an Optuna storage before use.

A path given to `--storage` may name anything: another program's database, a journal opened with
the sqlite scheme, a text file, a FIFO. Everything here only reads until the file is proven to be
an Optuna storage; only writing commands may then create, repair or append (see docs/safety.md).
Messages name the file (paths carry no credentials), so this module needs no URL masking.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from lstmexp.errors import StorageError

if TYPE_CHECKING:
    import optuna

# How a file is recognised as an Optuna SQLite storage before anything opens it for writing.
SQLITE_HEADER = b"SQLite format 3\x00"
OPTUNA_TABLES = frozenset({"studies", "trials", "version_info"})
# A journal lock is held for one append and fsync (milliseconds); one older than this was left by a
# killed worker. Optuna's default is 30 s, which would stall every restart after a kill that long.
JOURNAL_LOCK_GRACE_S = 10


def prepare_storage_file(path: Path, shown: str, create: bool) -> None:
    """A SQLite or journal file: a regular file; missing only when creating (then its folder is made)."""
    if path.exists():
        if path.is_dir():
            raise StorageError(f"storage path {path} is a directory; name a file inside it")
        if not path.is_file():
            raise StorageError(f"storage path {path} is not a regular file (a FIFO or device); fix --storage")
        return
    if not create:
        raise StorageError(f"storage {shown!r} does not exist; run `lstmexp search` first or fix --storage")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create folder {path.parent} for storage {path}: {exc.strerror}") from None


def read_only_sqlite_url(path: Path) -> str:
    """SQLAlchemy's URL for SQLite's own read-only mode: no write can happen, even by accident."""
    return f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true"


def check_sqlite_file(path: Path, *, writing: bool) -> bool:
    """Refuse a file that is not an Optuna SQLite storage, reading it only; True when its tables exist.

    Only a writing command may turn a missing or empty file into a new storage.
    """
    if not path.exists() or path.stat().st_size == 0:
        if writing:
            return False
        raise StorageError(
            f"storage {path} is empty, not an Optuna storage; run `lstmexp search` first or fix --storage"
        )
    with path.open("rb") as head:
        start = head.read(len(SQLITE_HEADER))
    if start != SQLITE_HEADER:
        hint = f"it looks like a journal: use journal:///{path}" if start.startswith(b'{"op_code"') else "fix --storage"
        raise StorageError(f"storage {path} is not an Optuna storage (not a SQLite database); {hint}")
    tables = sqlite_tables(path, writing=writing)
    if tables >= OPTUNA_TABLES:
        return True
    if not tables and writing:
        return False
    listed = ", ".join(sorted(tables)[:5]) or "none"
    raise StorageError(
        f"storage {path} is not an Optuna storage (a SQLite database with tables: {listed}); lstmexp leaves "
        "it untouched: pass another --storage"
    )


def sqlite_tables(path: Path, *, writing: bool) -> set[str]:
    """The table names of a SQLite file, read through SQLite's read-only mode.

    A process killed in the middle of a commit leaves a hot journal (`<file>-journal`), which SQLite
    must roll back before anyone can read the file, and a read-only connection cannot. A writing
    command lets SQLite do that rollback (its own crash recovery, which restores the last committed
    state and changes nothing that was committed) and reads again; a reading command never writes,
    so it says how to recover instead."""
    try:
        return read_tables(path)
    except sqlite3.DatabaseError as exc:
        journal = path.with_name(path.name + "-journal")
        if not (isinstance(exc, sqlite3.OperationalError) and journal.exists() and journal.stat().st_size > 0):
            raise unreadable(path, exc) from None
        if not writing:
            raise StorageError(
                f"storage {path} holds a write that a killed process left unfinished ({journal.name}); "
                "lstmexp search with this --storage rolls it back as it resumes (reading commands never write)"
            ) from None
    try:
        with contextlib.closing(sqlite3.connect(path)) as db:  # opening for writing rolls the journal back
            db.execute("SELECT name FROM sqlite_master").fetchall()
        return read_tables(path)
    except sqlite3.DatabaseError as exc:
        raise unreadable(path, exc) from None


def unreadable(path: Path, exc: sqlite3.DatabaseError) -> StorageError:
    return StorageError(f"storage {path} is not a readable SQLite database ({exc}); fix --storage")


def read_tables(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def open_journal(path: Path, shown: str, create: bool) -> optuna.storages.JournalStorage:
    """Optuna's journal file: an append-only log under a file lock, safe for processes on one machine.

    Every record is read before anything is written (`optuna_compat.check_journal`): a file that is
    not a journal, or a journal with a record Optuna cannot replay, is refused untouched. Writers
    then cut a torn last record (a worker killed mid-append) under the lock; readers open the file
    without the lock and with appends refused, so a read-only file reads. No heartbeat:
    `lstmexp.search.liveness.recover_dead_workers` retries the trials of workers that died here.
    """
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock

    from lstmexp.storage.optuna_compat import drop_torn_tail

    prepare_storage_file(path, shown, create)
    try:
        if path.exists() and path.stat().st_size > 0:
            refuse_unreadable_journal(path)
        elif not create:
            raise StorageError(f"storage {path} is empty, not an Optuna journal; run `lstmexp search` first")
        if not create:
            return optuna.storages.JournalStorage(read_only_journal(path))
        lock = JournalFileSymlinkLock(str(path), grace_period=JOURNAL_LOCK_GRACE_S)
        if path.exists():
            drop_torn_tail(path, lock)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path), lock_obj=lock))
    except OSError as exc:
        raise StorageError(f"cannot open journal {path}: {exc.strerror}; check the path") from None


def refuse_unreadable_journal(path: Path) -> None:
    """A one-line StorageError unless every whole record of the file is one Optuna can replay."""
    from lstmexp.storage.optuna_compat import check_journal

    check = check_journal(path)
    if check.bad_line is None:
        return
    if check.bad_line == 1:
        raise StorageError(
            f"storage {path} is not an Optuna journal ({check.problem}); lstmexp leaves it untouched: "
            "a SQLite file needs sqlite:///PATH, otherwise fix --storage"
        )
    raise StorageError(
        f"journal {path} is damaged at line {check.bad_line} ({check.problem}); nothing was written: restore "
        f"a backup, or keep a copy and cut the file before line {check.bad_line}"
    )


def read_only_journal(path: Path) -> optuna.storages.journal.BaseJournalBackend:
    """Optuna's file backend with appends refused: a reader never writes, not even a lock file."""
    from optuna.storages.journal import JournalFileBackend

    class ReadOnlyJournal(JournalFileBackend):
        def append_logs(self, logs: list[dict[str, object]]) -> None:
            raise OSError(errno.EROFS, "journal opened read-only by a reading command")

    return ReadOnlyJournal(str(path))
