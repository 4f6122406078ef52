"""Exception types the CLI turns into one-line messages with exit code 2.

Every message names the problem and, where there is one, the fix. Raise these for anything a user
can correct (spec, flags, data files, storage URLs); let real bugs raise ordinary exceptions.
"""

from __future__ import annotations


class LstmexpError(Exception):
    """A problem the user can fix; the CLI prints `error: <message>` and exits 2."""

    exit_code = 2


class SpecError(LstmexpError):
    """The experiment spec (file, YAML, override or value) is invalid."""


class DataError(LstmexpError):
    """The data file or dataset configuration cannot be used."""


class StorageError(LstmexpError):
    """The storage URL is malformed, unreachable or not writable."""


class StudyNotFoundError(LstmexpError):
    """The requested study does not exist in the storage."""


class TrialFailure(Exception):
    """A trial ended early in a way that is data, not a bug: out of memory, diverged, infeasible."""

    def __init__(self, reason: str, detail: str, figures: dict[str, float | int | None] | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.figures = figures or {}  # what was measured before the failure (e.g. memory at an OOM)


class Interrupted(LstmexpError):
    """Ctrl-C or SIGTERM stopped a command; the message says what is saved and how to resume."""

    exit_code = 130
