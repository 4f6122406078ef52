"""Trained weights of a study's best configurations, kept beside its storage so they can forecast later.

Each kept trial is two files in `<storage file>.weights/<study>/`: `trial_N.pt`, the model's
state_dict saved by torch.save and read back with `weights_only=True` (tensors only, nothing
unpickled), and `trial_N.json`: the full spec, the sizes, the scaler fitted on the train rows and
the figures the trial measured. Which trials are kept is decided by the report's ranking
(`report.recommend.trials_to_keep`: every seed of the best `search.keep_best` configurations and of
the recommendations), so the trial a report recommends is one whose weights `predict` can load.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lstmexp.errors import LstmexpError
from lstmexp.safe_write import write_atomic
from lstmexp.storage import journal_path, scheme_of, sqlite_path


@dataclass(frozen=True)
class KeptTrial:
    """What one kept trial needs to forecast again: its weights and everything about how it was trained."""

    number: int
    value: float
    config: str
    meta: dict[str, Any]


def weights_dir(storage_url: str, study: str) -> Path:
    """`results/x.db` -> `results/x.weights/<study>`; a database server: `results/<study>.weights`."""
    files = {"sqlite": sqlite_path, "journal": journal_path}
    reader = files.get(scheme_of(storage_url))
    path = reader(storage_url) if reader is not None else None
    if path is None:
        return Path("results") / f"{study}.weights"
    return path.with_name(path.stem + ".weights") / study


def kept_trials(folder: Path) -> list[KeptTrial]:
    kept = []
    for meta_file in sorted(folder.glob("trial_*.json")):
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            kept.append(KeptTrial(int(meta["number"]), float(meta["value"]), str(meta["config"]), meta))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            set_aside(meta_file, type(exc).__name__)
    return kept


def set_aside(meta_file: Path, problem: str) -> None:
    """Move a damaged kept trial (its .json and .pt) out of the way with one warning; the search goes on."""
    for part in (meta_file, meta_file.with_suffix(".pt")):
        if part.exists():
            part.replace(part.with_name(part.name + ".damaged"))
    print(f"warning: kept weights {meta_file} are damaged ({problem}); set aside as {meta_file.name}.damaged",
          file=sys.stderr)


def keep_listed(folder: Path, candidate: KeptTrial, state: dict[str, torch.Tensor], keep: set[int],
                settled: set[int]) -> bool:
    """Save the candidate when it is in `keep`; drop kept trials that are `settled` (finished) but no
    longer in `keep`. Trials still running elsewhere are never dropped. Returns whether it was saved."""
    for trial in kept_trials(folder):
        if trial.number in settled and trial.number not in keep:
            for suffix in (".pt", ".json"):
                (folder / f"trial_{trial.number}{suffix}").unlink(missing_ok=True)
    if candidate.number not in keep:
        return False
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {name: tensor.detach().cpu() for name, tensor in state.items()}
    # the .pt first, the .json (the index kept_trials reads) last: a kill between them leaves no entry
    write_atomic(folder / f"trial_{candidate.number}.pt", lambda stream: torch.save(tensors, stream), binary=True)
    meta = {**candidate.meta, "number": candidate.number, "value": candidate.value, "config": candidate.config}
    write_atomic(folder / f"trial_{candidate.number}.json", lambda stream: stream.write(json.dumps(meta, indent=1)))
    return True


def load_kept(folder: Path, number: int) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The weights (tensors only: weights_only=True) and the description of kept trial `number`."""
    weights, meta_file = folder / f"trial_{number}.pt", folder / f"trial_{number}.json"
    if not weights.exists() or not meta_file.exists():
        kept = ", ".join(str(t.number) for t in kept_trials(folder)) if folder.exists() else ""
        hint = f"kept trials: {kept}" if kept else "no weights are kept for this study (search.keep_best)"
        raise LstmexpError(f"no saved weights for trial {number} in {folder}; {hint}")
    state = torch.load(weights, map_location="cpu", weights_only=True)
    return state, json.loads(meta_file.read_text(encoding="utf-8"))
