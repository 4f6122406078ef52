"""What `lstmexp search` says before its first trial: the study's name, where it goes, and which data.

Every choice made for the user (a study named after the data file, a journal file for workers, the
columns that go in and out) is said once, in plain lines, so nothing about the run is a surprise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lstmexp.locate import name_from_data
from lstmexp.storage import DEFAULT_STORAGE, DEFAULT_WORKERS_STORAGE

if TYPE_CHECKING:
    from lstmexp.spec import ExperimentSpec


def prepare(
    experiment: ExperimentSpec, workers: int, storage_flag: str | None
) -> tuple[ExperimentSpec, str, list[str]]:
    """The spec (study named after the data file when unnamed), its storage URL, and the lines to print."""
    from lstmexp.data.summary import data_lines

    lines = []
    renamed = name_from_data(experiment)
    if renamed is not None:
        experiment = renamed
        lines.append(f"study {experiment.study} (named after {experiment.data.path}; choose a name with --study)")
    default_storage = DEFAULT_WORKERS_STORAGE if workers > 1 else DEFAULT_STORAGE
    storage_url = storage_flag or experiment.storage or default_storage
    if workers > 1 and storage_url == DEFAULT_WORKERS_STORAGE and not (storage_flag or experiment.storage):
        lines.append(
            f"--workers {workers}: the study goes to {DEFAULT_WORKERS_STORAGE} (several writers lock SQLite), "
            f"not {DEFAULT_STORAGE}; report it with --storage {DEFAULT_WORKERS_STORAGE}"
        )
    return experiment, storage_url, lines + data_lines(experiment.data)
