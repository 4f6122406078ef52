"""Storage URLs: validation, password masking, and opening Optuna storages safely.

SQLite under results/ is the default; PostgreSQL (or MySQL) lets workers on several machines share
one study. Nothing here ever prints a password: every message goes through `mask_url`.
"""

from __future__ import annotations

import contextlib
import errno
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from lstmexp.errors import StorageError, StudyNotFoundError

if TYPE_CHECKING:
    import optuna

DEFAULT_STORAGE = "sqlite:///results/lstmexp.db"
# Study user attributes lstmexp writes: the spec (to resume and reproduce) and the machine.
SPEC_ATTR = "lstmexp_spec"
ENV_ATTR = "lstmexp_environment"
SUPPORTED_SCHEMES = ("sqlite", "postgresql", "mysql", "journal")
# Several worker processes on one machine write to one study: SQLite serialises writers with a
# database-wide lock and fails them with "database is locked" under load (optuna/optuna#820,
# #4994; Optuna's FAQ advises against it), so `--workers K` uses Optuna's journal file instead.
CONCURRENT_SCHEMES = ("postgresql", "mysql", "journal")
DEFAULT_WORKERS_STORAGE = "journal:///results/lstmexp.journal"
# Heartbeats let a restarted search fail the trial a killed worker left RUNNING and retry it once.
HEARTBEAT_INTERVAL_S = 10
HEARTBEAT_GRACE_S = 30
# A journal lock is held for one append and fsync (milliseconds); one older than this was left by a
# killed worker. Optuna's default is 30 s, which would stall every restart after a kill that long.
JOURNAL_LOCK_GRACE_S = 10
_PASSWORD_IN_URL = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^@\s]*)(?P<tail>@)", re.I)


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***; safe to print, log or store."""
    return _PASSWORD_IN_URL.sub(lambda m: f"{m['head']}***{m['tail']}", url)


def mask_text(text: str) -> str:
    """Mask every URL password inside a longer text (error messages, tracebacks)."""
    return mask_url(text)


def scheme_of(url: str) -> str:
    head, sep, _ = url.partition("://")
    if not sep or not head:
        raise StorageError(
            f"storage URL {mask_url(url)!r} has no scheme; use e.g. {DEFAULT_STORAGE} "
            "or postgresql://user@host/db"
        )
    return head.split("+", 1)[0].lower()


def sqlite_path(url: str) -> Path | None:
    """The database file of a sqlite URL (None for an in-memory database)."""
    rest = url.split("://", 1)[1]
    if rest in ("", "/", "/:memory:"):
        return None
    if not rest.startswith("/"):
        raise StorageError(f"sqlite URL {url!r} needs three slashes: sqlite:///relative/path.db")
    return Path(rest[1:])


def journal_path(url: str) -> Path:
    """The log file of a journal URL: journal:///relative/file.journal or journal:////absolute/file."""
    rest = url.split("://", 1)[1]
    if not rest.startswith("/") or rest in ("/", "//"):
        raise StorageError(f"journal URL {url!r} needs three slashes and a file: journal:///results/study.journal")
    return Path(rest[1:])


def allows_concurrent_writers(url: str) -> bool:
    return check_url(url) in CONCURRENT_SCHEMES


def check_url(url: str) -> str:
    """Raise StorageError unless the URL's scheme is one lstmexp can use; return the scheme."""
    scheme = scheme_of(url)
    if scheme not in SUPPORTED_SCHEMES:
        raise StorageError(
            f"unsupported storage scheme {scheme!r} in {mask_url(url)!r}; "
            f"use one of: {', '.join(SUPPORTED_SCHEMES)}"
        )
    if scheme == "sqlite":
        sqlite_path(url)
    if scheme == "journal":
        journal_path(url)
    return scheme


def open_storage(url: str, *, create: bool) -> optuna.storages.BaseStorage:
    """Open an Optuna RDB storage with heartbeats and retry of stale trials (or a journal file).

    `create=False` (report, inspection) refuses to create a missing SQLite file: a typo in a path
    must not leave an empty database behind.
    """
    import optuna
    import sqlalchemy.exc

    scheme = check_url(url)
    if scheme == "journal":
        return open_journal(url, create)
    engine_kwargs: dict[str, object] = {}
    if scheme == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            prepare_storage_file(path, url, create)
        # Wait for a busy database instead of failing at once with "database is locked".
        engine_kwargs["connect_args"] = {"timeout": 60}
    else:
        engine_kwargs["pool_pre_ping"] = True
    try:
        # Heartbeats are experimental in Optuna 5 (the CLI silences that warning once, at start) but
        # are its documented answer to stale trials.
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=HEARTBEAT_INTERVAL_S,
            grace_period=HEARTBEAT_GRACE_S,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1),
        )
    except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError) as exc:
        reason = mask_text(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        raise StorageError(f"cannot open storage {mask_url(url)!r}: {reason}; check the URL and server") from None


@contextlib.contextmanager
def storage_errors(url: str) -> Iterator[None]:
    """Turn a storage that stops accepting writes (disk full, read-only) into a one-line StorageError.

    Every trial finished before the failure is already committed, so the message can promise that.
    Optuna wraps SQL errors in StorageInternalError: the cause chain says what really happened.
    """
    import optuna
    import sqlalchemy.exc

    try:
        yield
    except (sqlalchemy.exc.OperationalError, optuna.exceptions.StorageInternalError, OSError) as exc:
        message = storage_failure_message(url, exc)
        if message is None:
            raise
        raise StorageError(message) from None


def storage_failure_message(url: str, exc: BaseException) -> str | None:
    """The one-line message for a storage write failure, or None when it is not one we recognise."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(str(e) for e in chain).lower()
    codes = {getattr(e, "errno", None) for e in chain}
    where = repr(mask_url(url))
    if codes & {errno.ENOSPC, errno.EDQUOT} or "disk is full" in text or "no space left" in text:
        return (f"storage {where} ran out of disk space; finished trials are kept: free space and run the "
                "same command to resume")
    if codes & {errno.EROFS, errno.EACCES, errno.EPERM} or "readonly" in text or "read-only" in text:
        return (f"storage {where} is read-only; finished trials are kept: make it writable or pass "
                "--storage with a writable path")
    if any(isinstance(e, OSError) for e in chain[:1]):
        return None  # some other OS error: not a storage condition we can explain
    reason = mask_text(str(chain[-1]).strip().splitlines()[0] if str(chain[-1]).strip() else type(chain[-1]).__name__)
    return f"storage {where} failed: {reason}; check the server or file"


def open_journal(url: str, create: bool) -> optuna.storages.JournalStorage:
    """Optuna's journal file: an append-only log under a file lock, safe for processes on one machine.

    It has no heartbeat; `lstmexp.search.liveness.recover_dead_workers` fails and retries the trials of
    workers that died on this machine instead. A lock left by a killed worker is broken after
    JOURNAL_LOCK_GRACE_S, and a record it left half-written is cut off before anyone appends.
    """
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock

    from lstmexp.optuna_compat import drop_torn_tail

    path = journal_path(url)
    prepare_storage_file(path, url, create)
    lock = JournalFileSymlinkLock(str(path), grace_period=JOURNAL_LOCK_GRACE_S)
    try:
        if path.exists():
            drop_torn_tail(path, lock)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path), lock_obj=lock))
    except OSError as exc:
        raise StorageError(f"cannot open journal {path}: {exc.strerror}; check the path") from None


def prepare_storage_file(path: Path, url: str, create: bool) -> None:
    """A SQLite or journal file: not a directory; missing only when creating (then its folder is made)."""
    if path.exists():
        if path.is_dir():
            raise StorageError(f"storage path {path} is a directory; name a .db file inside it")
        return
    if not create:
        raise StorageError(f"storage {mask_url(url)!r} does not exist; run `lstmexp search` first or fix --storage")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create folder {path.parent} for {url!r}: {exc.strerror}") from None


def load_existing_study(
    storage_url: str, study_name: str | None, storage: optuna.storages.BaseStorage | None = None
) -> optuna.Study:
    """Load a study for reading; with no name, the storage's only study (or an error listing them).

    Pass `storage` when it is already open. Names come from `get_all_studies()`, which reads no
    trials (`get_all_study_summaries` reads every trial of every study: seconds on large studies).
    Here rather than in search.py so that reading a study (lstmexp report) never imports torch.
    """
    import optuna

    storage = storage or open_storage(storage_url, create=False)
    names = [s.study_name for s in storage.get_all_studies()]
    if study_name is None:
        if len(names) != 1:
            listed = ", ".join(names) if names else "none"
            raise StudyNotFoundError(
                f"storage {mask_url(storage_url)!r} holds {len(names)} studies ({listed}); pick one with --study"
            )
        study_name = names[0]
    if study_name not in names:
        listed = ", ".join(names) if names else "none"
        raise StudyNotFoundError(
            f"no study {study_name!r} in {mask_url(storage_url)!r} (studies there: {listed}); fix --study"
        )
    return optuna.load_study(study_name=study_name, storage=storage)
