"""Database servers (PostgreSQL, MySQL): Optuna's tables made once in an empty database, by one process at a time.

A new database on a server is empty, and the first writing command must create Optuna's tables in
it. K workers (or machines) started together on that database would otherwise all run Optuna's
table creation at once: PostgreSQL fails the losers with "duplicate key value violates unique
constraint pg_type_typname_nsp_index" or `relation ... already exists`, and two processes may both
insert Optuna's `version_info` and `alembic_version` rows. A retry on those errors would have to
recognise every dialect's wording and still leave a moment where one process reads half-made
tables, so creation is serialised instead: the first process takes a server-side lock (PostgreSQL's
advisory lock, MySQL's named lock), looks again, and creates the tables only if they are still
missing; the others wait for it, then find them made. The lock lives on its own connection, so a
process killed while holding it releases it with that connection.

Once the tables exist no lock is taken: every later open only inspects the table names. Nothing
here writes for a reader, and a database with tables of another program is refused untouched.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from enum import Enum
from typing import Any

from lstmexp.storage.optuna_compat import optuna_table_names

# Optuna's tables, all of them: a database holding only some of them is an Optuna creation that
# was cut short, which creating again finishes.
OPTUNA_ALL_TABLES = optuna_table_names()
# The tables every Optuna storage has had: with these, the database is Optuna's (other tables may sit beside).
OPTUNA_CORE_TABLES = frozenset({"studies", "trials", "version_info"})
# One lock key per database for "creating Optuna's tables" (PostgreSQL advisory locks are per database).
LOCK_NAME = "lstmexp: create optuna tables"
LOCK_KEY = zlib.crc32(LOCK_NAME.encode())
LOCK_WAIT_S = 600  # MySQL's GET_LOCK needs a timeout; creating the tables takes well under a second


class Tables(Enum):
    OPTUNA = "optuna"  # Optuna's tables are there: open without creating anything
    NONE = "none"  # empty, or an Optuna creation cut short: a writer creates (the rest of) them
    FOREIGN = "foreign"  # another program's tables: refused


def classify(tables: set[str]) -> Tables:
    if tables >= OPTUNA_CORE_TABLES:
        return Tables.OPTUNA
    if tables <= OPTUNA_ALL_TABLES:
        return Tables.NONE
    return Tables.FOREIGN


def table_names(url: str, engine_kwargs: dict[str, Any]) -> set[str]:
    """The tables of the database at `url`, read on a connection of its own (SQLAlchemy's inspector)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, **engine_kwargs)
    try:
        return set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@contextlib.contextmanager
def creation_lock(url: str, engine_kwargs: dict[str, Any]) -> Iterator[None]:
    """Hold the database's "creating Optuna's tables" lock: one process at a time, the others wait."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, **engine_kwargs)
    dialect = engine.dialect.name
    statements = {
        "postgresql": ("SELECT pg_advisory_lock(:key)", "SELECT pg_advisory_unlock(:key)"),
        "mysql": ("SELECT GET_LOCK(:name, :wait)", "SELECT RELEASE_LOCK(:name)"),
    }.get(dialect)
    try:
        if statements is None:  # no server lock to take (not a server dialect lstmexp knows)
            yield
            return
        lock, unlock = (sqlalchemy.text(sql) for sql in statements)
        arguments = {"key": LOCK_KEY, "name": LOCK_NAME, "wait": LOCK_WAIT_S}
        with engine.connect() as connection:
            connection.execute(lock, arguments)
            connection.commit()  # the lock is the session's, not the transaction's: no transaction held open
            try:
                yield
            finally:
                connection.execute(unlock, arguments)
                connection.commit()
    finally:
        engine.dispose()
