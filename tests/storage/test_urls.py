"""lstmexp.storage.urls: storage URLs are checked before anything is opened."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstmexp.errors import StorageError


def test_journal_urls_are_checked(tmp_path):
    from lstmexp.storage.urls import open_storage

    with pytest.raises(StorageError, match="three slashes"):
        open_storage("journal://x.journal", create=True)
    with pytest.raises(StorageError, match="does not exist"):
        open_storage(f"journal:///{tmp_path}/missing.journal", create=False)


@pytest.mark.parametrize("url", ["sqlite:///results/x.db", "sqlite:////tmp/x.db", "sqlite:///x.db?mode=ro",
                                 "sqlite:///file:x.db?mode=ro&uri=true", "sqlite:///", "sqlite:///:memory:"])
def test_the_sqlite_path_without_a_parser_is_the_one_sqlalchemy_reads(url):
    from sqlalchemy.engine import make_url

    from lstmexp.storage.urls import sqlite_path

    database = make_url(url).database
    expected = None if not database or database == ":memory:" else Path(database.removeprefix("file:"))
    assert sqlite_path(url) == expected
