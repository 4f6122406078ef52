"""Where a study is: the name a search gives it by default, and which local storage holds it.

Two first-hour surprises live here. A search on a new data file reused the study `default` of the
built-in data and refused to run; now the study is named after the file. And `--workers K` writes
to a journal file, so a later `lstmexp report --study NAME` looked in the SQLite default and said
the study does not exist; now a missing study is looked for in the usual local storages and the
message names the one that holds it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from lstmexp.errors import LstmexpError, StorageError, StudyNotFoundError
from lstmexp.interrupt import reraise_interrupt
from lstmexp.storage.urls import DEFAULT_STORAGE, DEFAULT_WORKERS_STORAGE, mask_url

if TYPE_CHECKING:
    from lstmexp.spec import ExperimentSpec

RESULTS_DIR = Path("results")  # where lstmexp's default storages and the experiments' ones live


def name_from_data(spec: ExperimentSpec) -> ExperimentSpec | None:
    """The spec with its study named after data.path's file, when a file is given and no study is named.

    Returns None when nothing changes (no file, or the spec, an override or --study names the study).
    """
    if spec.data.path is None or "study" in spec.model_fields_set:
        return None
    stem = re.sub(r"[^A-Za-z0-9_.\-]", "_", Path(spec.data.path).stem).lstrip("_.-")[:100]
    return spec.model_copy(update={"study": stem or "data"})


def local_storages() -> list[str]:
    """Storage URLs of the study files in results/ (the defaults first), whichever exist."""
    urls = [DEFAULT_STORAGE, DEFAULT_WORKERS_STORAGE]
    if RESULTS_DIR.is_dir():
        urls += [f"sqlite:///{p.as_posix()}" for p in sorted(RESULTS_DIR.glob("*.db"))]
        urls += [f"journal:///{p.as_posix()}" for p in sorted(RESULTS_DIR.glob("*.journal"))]
    return [url for url in dict.fromkeys(urls) if Path(url.split(":///", 1)[1]).is_file()]


def studies_in(url: str) -> list[str]:
    """Study names in a storage; an unreadable storage holds none (it must not hide the first error)."""
    import sqlalchemy.exc

    from lstmexp.storage.urls import open_storage

    try:
        return [s.study_name for s in open_storage(url, create=False).get_all_studies()]
    except (LstmexpError, OSError, ValueError, sqlalchemy.exc.SQLAlchemyError) as exc:
        reraise_interrupt(exc)
        return []


def study_elsewhere(error: LstmexpError, studies: list[str], tried: list[str]) -> LstmexpError:
    """A better error when a local storage holds the study the report was asked for, else `error` itself."""
    tried_masked = {mask_url(url) for url in tried}
    for url in local_storages():
        if url in tried_masked:
            continue
        names = studies_in(url)
        wanted = [name for name in studies if name in names] if studies else names
        if wanted and studies:
            where = ", ".join(sorted(tried_masked))
            return StudyNotFoundError(f"study {wanted[0]!r} is not in {where}; it is in {url}: add --storage {url}")
        if wanted:
            return StudyNotFoundError(f"{error}; studies {', '.join(names)} are in {url}: add --storage {url}")
    return error


@contextlib.contextmanager
def pointing_elsewhere(studies: list[str], tried: list[str]) -> Iterator[None]:
    """A missing study or storage inside this block becomes 'it is in Y' when a local storage holds it."""
    try:
        yield
    except (StudyNotFoundError, StorageError) as exc:
        raise study_elsewhere(exc, studies, tried) from None
