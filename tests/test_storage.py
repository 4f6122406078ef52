"""lstmexp.storage: storage URLs are checked before anything is opened."""

from __future__ import annotations

import pytest

from lstmexp.errors import StorageError


def test_journal_urls_are_checked(tmp_path):
    from lstmexp.storage import open_storage

    with pytest.raises(StorageError, match="three slashes"):
        open_storage("journal://x.journal", create=True)
    with pytest.raises(StorageError, match="does not exist"):
        open_storage(f"journal:///{tmp_path}/missing.journal", create=False)
