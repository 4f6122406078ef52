"""Storage files: a SQLite storage left with an unfinished write by a killed process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from lstmexp.errors import StorageError
from lstmexp.storage.files import check_sqlite_file

KILLED_MID_WRITE = """
import os, signal, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA cache_size=10")  # a small page cache: the write reaches the file before any commit
db.execute("BEGIN IMMEDIATE")
db.execute("CREATE TABLE half_written (x)")
for _ in range(3000):
    db.execute("INSERT INTO half_written VALUES (?)", ("x" * 500,))
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def killed_mid_write(tmp_path: Path) -> Path:
    """An Optuna SQLite storage with one study, then a process killed inside a large write to it."""
    path = tmp_path / "study.db"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name="kept", storage=f"sqlite:///{path}")
    subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(path)], check=False)
    assert path.with_name("study.db-journal").stat().st_size > 0  # the hot journal a kill -9 leaves
    with pytest.raises(sqlite3.OperationalError):  # what a read-only open meets: the case handled here
        sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("SELECT name FROM sqlite_master").fetchall()
    return path


def test_a_reading_command_names_the_unfinished_write_and_changes_nothing(killed_mid_write):
    before = killed_mid_write.read_bytes()
    with pytest.raises(StorageError, match=r"left unfinished \(study\.db-journal\).*lstmexp search"):
        check_sqlite_file(killed_mid_write, writing=False)
    assert killed_mid_write.read_bytes() == before


def test_a_writing_command_lets_sqlite_roll_the_write_back_and_resumes_the_study(killed_mid_write):
    assert check_sqlite_file(killed_mid_write, writing=True) is True
    tables = {row[0] for row in sqlite3.connect(killed_mid_write).execute("SELECT name FROM sqlite_master")}
    assert "half_written" not in tables  # rolled back: never committed
    assert [s.study_name for s in optuna.get_all_study_summaries(f"sqlite:///{killed_mid_write}")] == ["kept"]
