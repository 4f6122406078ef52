"""Resuming a study: the stored spec must describe the same experiment as the current one."""

from __future__ import annotations

from typing import Any

from lstmexp.errors import SpecError

# Spec sections whose change makes old and new trials incomparable within one study.
COMPARABLE_KEYS = ("data", "model", "train", "search.space", "search.objectives", "search.constraints")
# Settings that may differ between runs of one study (where and how fast, not what is measured).
RUNTIME_TRAIN_KEYS = ("device", "threads")


def check_comparable(stored: dict[str, Any], current: dict[str, Any], study_name: str) -> None:
    for key in COMPARABLE_KEYS:
        old, new = dig(stored, key), dig(current, key)
        if key == "train":
            old = {k: v for k, v in (old or {}).items() if k not in RUNTIME_TRAIN_KEYS}
            new = {k: v for k, v in (new or {}).items() if k not in RUNTIME_TRAIN_KEYS}
        if not isinstance(old, dict):
            old, new = {key: old}, {key: new}
        if old != new:
            changed = sorted(k for k in set(old or {}) | set(new or {}) if (old or {}).get(k) != (new or {}).get(k))
            raise SpecError(
                f"study {study_name!r} was run with a different {key} ({', '.join(changed)} changed); "
                "its trials would not be comparable: use --study NEW_NAME or restore the spec"
            )


def dig(tree: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        tree = tree.get(part, {}) if isinstance(tree, dict) else {}
    return tree
