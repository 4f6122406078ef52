"""Storage URLs: validation, password masking, and opening Optuna storages safely.

SQLite under results/ is the default; PostgreSQL (or MySQL) lets workers on several machines share one study.
Nothing here ever prints a password: every message goes through `mask_url`.
"""

from __future__ import annotations

import contextlib
import errno
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from lstmexp.errors import StorageError, StudyNotFoundError
from lstmexp.interrupt import reraise_interrupt

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
_PASSWORD_IN_URL = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^@\s]*)(?P<tail>@)", re.I)
# Any `user:secret@` in a text: a URL with a malformed scheme (`postgresql:/u:pw@h`, `u:pw@h`) still has its password.
_USER_SECRET_AT = re.compile(r"(?P<head>[^\s:/@'\"]+:)(?P<password>[^@\s/'\"]+)(?P<tail>@)")
# Query-string keys that carry credentials (password=, sslpassword=, passwd=, pwd=, token=, secret=...).
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|credential|api_?key", re.I)
_SECRET_KEY_WORDS = ("pass", "pwd", "secret", "token", "credential", "api")  # each match of _SECRET_KEY has one
_SECRET_IN_QUERY = re.compile(r"(?P<key>[?&;]?[A-Za-z_]*(?:pass|pwd|secret|token|credential|api_?key)[A-Za-z_]*=)"
                              r"(?P<value>[^&\s'\"]*)", re.I)
# Secrets seen in the storage URLs of this process: masked wherever they appear in any text, even
# inside a library's message that quotes them in a form no URL pattern would recognise.
_KNOWN_SECRETS: set[str] = set()
MIN_SECRET_LENGTH = 3  # shorter ones would mask ordinary words; the URL forms still hide them


def could_hold_credentials(url: str) -> bool:
    """Whether a URL has a user-info part or a query string, the only places a credential can sit.

    A plain `sqlite:///results/x.db` or `journal:///...` has neither: masking it needs no parser, so
    the read-only report path does not import SQLAlchemy for it.
    """
    return "@" in url or "?" in url or ";" in url


def url_secrets(url: str) -> list[str]:
    """The credentials in a URL as SQLAlchemy parses it: the password and secret query values."""
    from urllib.parse import quote

    if not could_hold_credentials(url):
        return []
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception:
        return []
    found = [str(v) for k, vs in parsed.query.items() if _SECRET_KEY.search(k) for v in _values(vs)]
    password = parsed.password
    if password is not None:
        # `user:p@ss@host` parses as password `p` and host `ss@host`: the secret is `p@ss`.
        found.append(str(password))
        if parsed.host and "@" in parsed.host:
            rest = parsed.host.rsplit("@", 1)[0]
            found += [f"{password}@{rest}", rest]
    return [form for secret in found if secret for form in {secret, quote(secret, safe=""), quote(secret)}]


def _values(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def remember_secrets(url: str) -> None:
    """Note the URL's credentials so that `mask_text` hides them in any later message."""
    _KNOWN_SECRETS.update(s for s in url_secrets(url) if len(s) >= MIN_SECRET_LENGTH)


def mask_url(url: str) -> str:
    """The URL with its password and secret query values replaced by ***; safe to print, log or store."""
    if not could_hold_credentials(url):
        return mask_text(url)
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception:
        return mask_text(url)
    secret_keys = [k for k in parsed.query if _SECRET_KEY.search(k)]
    if parsed.password is None and not secret_keys:
        return mask_text(url)
    if parsed.host and "@" in parsed.host:
        parsed = parsed.set(host=parsed.host.rsplit("@", 1)[1])
    query = {k: ("***" if k in secret_keys else v) for k, v in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True).replace("=%2A%2A%2A", "=***")


def mask_text(text: str) -> str:
    """Mask every credential inside a longer text (error messages, tracebacks)."""
    for secret in sorted(_KNOWN_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    if "@" in text:  # both patterns end at an @; most texts (a report's every cell) have none
        text = _PASSWORD_IN_URL.sub(lambda m: f"{m['head']}***{m['tail']}", text)
        text = _USER_SECRET_AT.sub(lambda m: f"{m['head']}***{m['tail']}", text)
    lowered = text.lower()  # a quick no (plain substrings): the full pattern backtracks over every word
    if "=" not in text or not any(word in lowered for word in _SECRET_KEY_WORDS):
        return text
    return _SECRET_IN_QUERY.sub(lambda m: f"{m['key']}***", text)


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
    if rest and not rest.startswith("/"):
        raise StorageError(f"sqlite URL {mask_url(url)!r} needs three slashes: sqlite:///relative/path.db")
    if could_hold_credentials(url):  # a query string (mode=ro, uri=true...): SQLAlchemy's own reading
        from sqlalchemy.engine import make_url

        database = make_url(url).database
    else:  # sqlite:///x.db is x.db, sqlite:////tmp/x.db is /tmp/x.db, as SQLAlchemy reads them
        database = rest[1:]
    if not database or database == ":memory:" or "mode=memory" in url:
        return None
    return Path(database.removeprefix("file:"))


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
    if not url.strip():
        raise StorageError(f"--storage is empty; give a URL such as {DEFAULT_STORAGE}, or leave the option out")
    remember_secrets(url)
    scheme = scheme_of(url)
    if scheme not in SUPPORTED_SCHEMES:
        raise StorageError(
            f"unsupported storage scheme {scheme!r} in {mask_url(url)!r}; "
            f"use one of: {', '.join(SUPPORTED_SCHEMES)}"
        )
    if scheme == "sqlite" and sqlite_path(url) is None:
        raise StorageError(
            f"storage {mask_url(url)!r} is in memory: every trial would be lost when the command ends; "
            f"use a file such as {DEFAULT_STORAGE}"
        )
    if scheme == "journal":
        journal_path(url)
    return scheme


def open_storage(url: str, *, create: bool) -> optuna.storages.BaseStorage:
    """Open an Optuna storage for a writing command (`create=True`) or read-only for a reader.

    A writing command may create a missing file; a reader refuses it (a typo in a path must not
    leave an empty database behind) and opens what exists without writing a byte: SQLite with
    `mode=ro`, PostgreSQL in read-only transactions, journals without their lock or repair. Either
    way a file that is not an Optuna storage is refused before anything touches it.
    """
    from lstmexp.storage.files import check_sqlite_file, open_journal, prepare_storage_file, read_only_sqlite_url

    scheme = check_url(url)
    if scheme == "journal":
        return open_journal(journal_path(url), mask_url(url), create)
    engine_kwargs: dict[str, object] = {"pool_pre_ping": True}
    open_url, has_tables = url, True
    if scheme == "sqlite":
        path = sqlite_path(url)
        assert path is not None  # noqa: S101 - check_url refused in-memory databases
        if create and "mode=ro" in url.partition("?")[2]:  # SQLite alone would ignore it without uri=true
            raise StorageError(f"storage {mask_url(url)!r} asks for read-only access (mode=ro), but search writes "
                               "trials; drop ?mode=ro (report reads it as it is)")
        prepare_storage_file(path, mask_url(url), create)
        has_tables = check_sqlite_file(path, writing=create)
        # Wait for a busy database instead of failing at once with "database is locked".
        engine_kwargs = {"connect_args": {"timeout": 60}}
        if not create:
            open_url = read_only_sqlite_url(path)
    else:
        return open_server(url, scheme, engine_kwargs, create=create)
    return open_rdb(url, open_url, engine_kwargs, reader=not create, has_tables=has_tables)


def open_server(url: str, scheme: str, engine_kwargs: dict[str, object], *, create: bool) -> optuna.storages.RDBStorage:
    """A database server's storage: Optuna's tables are made by the first writer of an empty database.

    Writers starting together take turns at the creation (`storage_server.creation_lock`); a reader
    of a database without Optuna's tables is refused before anything is written.
    """
    from lstmexp.storage.server import Tables, classify, creation_lock, table_names

    if scheme == "postgresql" and not create:
        engine_kwargs["connect_args"] = {"options": "-c default_transaction_read_only=on"}
    with opening_errors(url):
        found = classify(table_names(url, engine_kwargs))
    if found is Tables.FOREIGN:
        raise StorageError(f"storage {mask_url(url)!r} holds tables of another program, not Optuna's; lstmexp "
                           "leaves it untouched: pass --storage with an empty database or an Optuna one")
    if found is Tables.OPTUNA or not create:
        if found is not Tables.OPTUNA:
            raise StorageError(f"storage {mask_url(url)!r} has no Optuna tables yet (an empty database); "
                               "run `lstmexp search` on it first or fix --storage")
        return open_rdb(url, url, engine_kwargs, reader=not create, has_tables=True)
    with opening_errors(url), creation_lock(url, engine_kwargs):
        made = classify(table_names(url, engine_kwargs)) is Tables.OPTUNA  # by the process that held the lock
        return open_rdb(url, url, engine_kwargs, reader=False, has_tables=made)


def open_rdb(
    url: str, open_url: str, engine_kwargs: dict[str, object], *, reader: bool, has_tables: bool
) -> optuna.storages.RDBStorage:
    """Optuna's RDBStorage with heartbeats (writers on a server) and no table creation where tables exist.

    Tables are created only in an empty database: an old schema is kept, Optuna names the upgrade.
    No heartbeat on SQLite: only this machine's processes share it (`lstmexp.search.liveness`).
    """
    import optuna

    heartbeat: dict[str, object] = {} if reader or scheme_of(url) == "sqlite" else {
        "heartbeat_interval": HEARTBEAT_INTERVAL_S,
        "grace_period": HEARTBEAT_GRACE_S,
        "heartbeat_stale_trial_callback": optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1),
    }
    with opening_errors(url):
        # Heartbeats are experimental in Optuna 5 (the CLI silences that warning once, at start) but
        # are its documented answer to stale trials.
        storage = optuna.storages.RDBStorage(
            open_url, engine_kwargs=engine_kwargs, skip_table_creation=reader or has_tables, **heartbeat  # type: ignore[arg-type]
        )
    if reader and not has_optuna_tables(storage):
        raise StorageError(f"storage {mask_url(url)!r} is not an Optuna storage (no Optuna tables); fix --storage")
    return storage


@contextlib.contextmanager
def opening_errors(url: str) -> Iterator[None]:
    """Turn a failure to open a storage (driver, server, schema version) into a one-line StorageError."""
    import optuna
    import sqlalchemy.exc

    try:
        yield
    except RuntimeError as exc:  # Optuna's schema check: the message names `optuna storage upgrade`
        reraise_interrupt(exc)
        fix = "run `optuna storage upgrade --storage URL` (keep a copy first)" if "upgrade" in str(exc) else \
            "use the Optuna version that wrote it"
        raise StorageError(f"storage {mask_url(url)!r} has Optuna tables of another version; {fix}") from None
    except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError, ImportError, ValueError) as exc:
        reraise_interrupt(exc)
        cause: BaseException = exc.__cause__ or exc  # Optuna wraps the driver's error: say what happened
        reason = mask_text(str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__)
        raise StorageError(f"cannot open storage {mask_url(url)!r}: {reason}; check the URL and server") from None


def has_optuna_tables(storage: optuna.storages.RDBStorage) -> bool:
    import sqlalchemy

    from lstmexp.storage.files import OPTUNA_TABLES

    return set(sqlalchemy.inspect(storage.engine).get_table_names()) >= OPTUNA_TABLES


@contextlib.contextmanager
def storage_errors(url: str) -> Iterator[None]:
    """Turn a storage that stops accepting writes (disk full, read-only) into a one-line StorageError
    (finished trials are committed, so the message can promise them; the cause chain says what happened)."""
    import optuna
    import sqlalchemy.exc

    try:
        yield
    except (sqlalchemy.exc.OperationalError, optuna.exceptions.StorageInternalError, OSError) as exc:
        reraise_interrupt(exc)
        message = storage_failure_message(url, exc)
        if message is None:
            raise
        raise StorageError(message) from None


def storage_failure_message(url: str, exc: BaseException) -> str | None:
    """The one-line message for a storage write failure, or None when it is not one we recognise."""
    chain: list[BaseException] = [exc]
    while len(chain) < 10 and (following := chain[-1].__cause__ or chain[-1].__context__) is not None:
        chain.append(following)
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
