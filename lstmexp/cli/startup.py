"""What `lstmexp search` says before its first trial: the study's name, where it goes, and which data.

Every choice made for the user (a study named after the data file, a journal file for workers, the
columns that go in and out) is said once, in plain lines, so nothing about the run is a surprise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lstmexp.storage.locate import name_from_data
from lstmexp.storage.urls import DEFAULT_STORAGE, DEFAULT_WORKERS_STORAGE
from lstmexp.text import printable

if TYPE_CHECKING:
    from rich.console import Console

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
        named_after = printable(experiment.data.path)
        lines.append(f"study {printable(experiment.study)} (named after {named_after}; choose a name with --study)")
    default_storage = DEFAULT_WORKERS_STORAGE if workers > 1 else DEFAULT_STORAGE
    # an empty --storage '' is the user's (refused by check_url), never a silent fall-back to the default
    storage_url = storage_flag if storage_flag is not None else experiment.storage or default_storage
    if workers > 1 and storage_url == DEFAULT_WORKERS_STORAGE and not (storage_flag or experiment.storage):
        lines.append(
            f"--workers {workers}: the study goes to {DEFAULT_WORKERS_STORAGE} (several writers lock SQLite), "
            f"not {DEFAULT_STORAGE}; report it with --storage {DEFAULT_WORKERS_STORAGE}"
        )
    return experiment, storage_url, lines + data_lines(experiment.data)


def run_shown(
    experiment: ExperimentSpec, storage_url: str, workers: int, log_to: str | None, intro: list[str],
    console: Console, entry: Callable[..., None], reproduce: str | None = None,
) -> Any:
    """Run the search with its display and `--log-to`; Ctrl-C / SIGTERM become one Interrupted line.

    `reproduce`: the `lstmexp run ...` prefix of each trial's reproduce command (workers read it from the
    environment, see cli_search.worker_process)."""
    from lstmexp.errors import Interrupted
    from lstmexp.storage.urls import mask_url

    try:
        return search_shown(experiment, storage_url, workers, log_to, intro, console, entry, reproduce)
    except KeyboardInterrupt:
        raise Interrupted(
            f"interrupted: study {printable(experiment.study)} is saved in {mask_url(storage_url)} "
            "(finished trials kept); "
            f"resume with: {resume_command()}"
        ) from None


def resume_command() -> str:
    """The command line that resumes an interrupted search: the one given, passwords masked."""
    import shlex

    from lstmexp.interrupt import INVOCATION
    from lstmexp.storage.urls import mask_text

    return "lstmexp " + " ".join(shlex.quote(mask_text(arg)) for arg in INVOCATION)


def search_shown(
    experiment: ExperimentSpec, storage_url: str, workers: int, log_to: str | None, intro: list[str],
    console: Console, entry: Callable[..., None], reproduce: str | None,
) -> Any:
    """The search with its display: live for one process on a terminal, else a line per trial (workers, logs)."""
    from lstmexp.cli.progress import SearchProgress, TrialLines
    from lstmexp.search import run_search
    from lstmexp.search.integrations import logged
    from lstmexp.search.workers import run_workers

    def say(line: str) -> None:
        console.print(line, markup=False, highlight=False)

    if workers > 1:
        with logged(TrialLines(console, intro=intro), log_to, experiment.study, workers, say) as lines:
            return run_workers(experiment, storage_url, workers, lines, entry=entry)
    if not console.is_terminal:  # CI, nohup, a pipe: one plain line per trial instead of a live bar
        with logged(TrialLines(console, intro=intro), log_to, experiment.study, 1, say) as lines:
            return run_search(experiment, storage_url, lines, reproduce_base=reproduce)
    with SearchProgress(console, intro=intro) as progress, logged(progress, log_to, experiment.study, 1, say) as seen:
        return run_search(experiment, storage_url, seen, reproduce_base=reproduce)
