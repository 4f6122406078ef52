"""Ctrl-C and SIGTERM: the first stops the whole search cleanly, a second exits at once.

Python turns SIGINT into a KeyboardInterrupt wherever the main thread happens to be; raised inside
a garbage-collection callback or a `__del__`, it is printed as "Exception ignored" and lost, and
the search runs on. So the signal is also remembered here: the search checks `requested()` between
epochs and trials, and a swallowed interrupt is only silenced, never forgotten. Worker processes
start with SIGINT blocked (a terminal's Ctrl-C reaches the whole process group, and a worker
interrupted while still importing prints a traceback): the parent forwards SIGTERM to them, they
fail their running trial and exit quietly, and the parent alone prints the one line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import Any, Protocol

INTERRUPT_EXIT_CODE = 130
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_received: list[int] = []  # signals received by this process
_children: list[int] = []  # worker process ids the stop is forwarded to
INVOCATION: list[str] = []  # this command's arguments (set by the CLI), for the resume line (startup)


class HasPid(Protocol):
    @property
    def pid(self) -> int | None: ...


def requested() -> bool:
    """True once Ctrl-C or SIGTERM has reached this process."""
    return bool(_received)


def check() -> None:
    """Raise KeyboardInterrupt when a stop was requested (even one Python swallowed somewhere)."""
    if _received:
        raise KeyboardInterrupt


def caused_by_interrupt(exc: BaseException) -> bool:
    """Whether an error is a Ctrl-C in disguise: a KeyboardInterrupt in its cause chain (a database
    driver that was interrupted mid-query raises its own error while handling it), or any error
    raised after a stop was requested."""
    current: BaseException | None = exc
    for _ in range(20):
        if current is None:
            break
        if isinstance(current, KeyboardInterrupt):
            return True
        current = current.__cause__ or current.__context__
    return requested()


def reraise_interrupt(exc: BaseException) -> None:
    """Raise KeyboardInterrupt when `exc` is a Ctrl-C in disguise: it must never read as a storage error."""
    if caused_by_interrupt(exc):
        raise KeyboardInterrupt from exc


def handle_stop(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    if len(_received) > 1:
        os.write(2, b"error: interrupted again: exiting at once; finished trials are saved\n")
        os._exit(INTERRUPT_EXIT_CODE)
    forward_to_children()
    raise KeyboardInterrupt


def forward_to_children() -> None:
    for pid in _children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)


def quiet_unraisable(unraisable: Any) -> None:
    """Silence a KeyboardInterrupt Python could not raise (gc callback, __del__): `check` still stops."""
    if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
        return
    sys.__unraisablehook__(unraisable)


@contextlib.contextmanager
def stop_signals_handled() -> Iterator[None]:
    """Install the handlers for one command, and restore the previous ones after it (tests run in-process)."""
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    previous_hook = sys.unraisablehook
    _received.clear()
    _children.clear()
    for sig in STOP_SIGNALS:
        signal.signal(sig, handle_stop)
    sys.unraisablehook = quiet_unraisable
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.unraisablehook = previous_hook


@contextlib.contextmanager
def starting_children(processes: Sequence[HasPid]) -> Iterator[None]:
    """Start worker processes with SIGINT blocked (inherited), then forward stops to them.

    A Ctrl-C that arrives while they start is held back and delivered when this block ends.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        _children.extend(p.pid for p in processes if p.pid is not None)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if _received:
        forward_to_children()


def become_worker() -> None:
    """In a worker process: SIGTERM (from the parent) stops the search; SIGINT stays with the parent."""
    _received.clear()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGTERM, handle_stop)
    sys.unraisablehook = quiet_unraisable
