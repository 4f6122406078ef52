"""Which files of a `--out` folder the report wrote: a list of their sizes and hashes, kept in the folder.

The report replaces a file only when the list names it with the content it has now: a user's own
`trials.csv` in the folder (never listed), or a report file the user edited since (its hash no
longer matches), is refused before anything is written. During a swap the list accepts both the old
and the new content of each file, so a kill at any moment leaves a folder the next report accepts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from lstmexp.errors import StorageError
from lstmexp.storage.safe_write import write_atomic

MANIFEST = ".lstmexp-report.json"
_KIND = "lstmexp report files"

Print = dict[str, int | str]  # {"size": bytes, "sha256": hex digest}
Manifest = dict[str, list[Print]]  # file name relative to the folder -> contents the report wrote there


def content_print(content: bytes) -> Print:
    return {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def file_print(path: Path) -> Print | None:
    """The file's print; None for what the report never writes itself (a link, a folder, an unreadable file)."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return content_print(path.read_bytes())
    except OSError:
        return None


def read_manifest(out_dir: Path) -> Manifest:
    path = out_dir / MANIFEST
    if not (path.exists() or path.is_symlink()):
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        files = document["files"] if document.get("kind") == _KIND else None
        if not isinstance(files, dict):
            raise ValueError("not the list")
        return {str(name): [dict(p) for p in prints if {"size", "sha256"} <= set(p)] for name, prints in files.items()}
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        raise StorageError(f"{path} is not lstmexp's list of the report files it wrote; "
                           "choose another --out folder, or remove it and the report files there") from None


def refuse_foreign(out_dir: Path, names: Iterable[str], manifest: Manifest) -> None:
    """Refuse (nothing written yet) when a file the report would write exists and is not one it wrote there."""
    for name in names:
        target = out_dir / name
        if not (target.exists() or target.is_symlink()):
            continue
        if file_print(target) in manifest.get(name, []):
            continue
        problem = "was changed since lstmexp's report wrote it" if name in manifest else \
            "was not written by lstmexp's report"
        raise StorageError(f"--out {out_dir}: {target} {problem}; choose another --out folder, or remove {target}")


def manifest_text(manifest: Mapping[str, list[Print]]) -> str:
    return json.dumps({"kind": _KIND, "files": dict(sorted(manifest.items()))}, indent=1) + "\n"


def save_manifest(out_dir: Path, manifest: Mapping[str, list[Print]]) -> None:
    write_atomic(out_dir / MANIFEST, lambda stream: stream.write(manifest_text(manifest)))


def during_swap(old: Manifest, new: Mapping[str, Print]) -> Manifest:
    """Both contents of each swapped file: whichever a kill leaves in place is still the report's."""
    merged = {name: list(prints) for name, prints in old.items()}
    for name, made in new.items():
        merged[name] = [*merged.get(name, []), made]
    return merged


def after_swap(out_dir: Path, old: Manifest, new: Mapping[str, Print]) -> Manifest:
    """The new files; files of earlier reports that this one does not write stay listed while unchanged."""
    kept = {}
    for name, prints in old.items():
        now = file_print(out_dir / name)
        if name not in new and now is not None and now in prints:
            kept[name] = [now]
    return {**kept, **{name: [made] for name, made in new.items()}}
