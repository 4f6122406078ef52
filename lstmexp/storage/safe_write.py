"""Writing user-visible files safely: never onto a file lstmexp must keep, and atomically (temp file, rename)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from lstmexp.errors import LstmexpError


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def refuse_overwrite(out: Path, protected: Iterable[tuple[Path, str]], force: bool) -> None:
    """Refuse `out` if it is (or is inside) a protected path, or an existing file unless `force`."""
    for path, what in protected:
        inside = path.is_dir() and out.resolve().is_relative_to(path.resolve())
        if _same_file(out, path) or inside:
            raise LstmexpError(f"--out {out} is {what}; it is never overwritten (not even with --force): "
                               "choose another --out")
    if (out.exists() or out.is_symlink()) and not force:
        raise LstmexpError(f"--out {out} already exists and lstmexp did not write it; "
                           "choose another --out, or add --force to replace it")


def write_atomic(path: Path, write: Callable[[IO[Any]], object], binary: bool = False) -> None:
    """Write through `write` into a temporary file beside `path`, then rename it into place.

    A kill mid-write leaves the old file (or none) and a hidden temporary, never a truncated `path`.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        stream: IO[Any] = os.fdopen(handle, "wb") if binary else os.fdopen(handle, "w", newline="", encoding="utf-8")
        with stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
