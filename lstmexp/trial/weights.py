"""Trained weights of a study's best configurations, kept beside its storage so they can forecast later.

Each kept trial is two files in `<storage file>.weights/<study>/`: `trial_N.pt`, the model's
state_dict (under `state_dict`, beside its identity) saved by torch.save and read back with
`weights_only=True` (tensors, numbers and strings only: nothing unpickled), and `trial_N.json`: the
full spec, the sizes, the scaler fitted on the train rows and the figures the trial measured. Which
trials are kept is decided by the report's ranking (`report.recommend.trials_to_keep`: every seed of
the best `search.keep_best` configurations and of the recommendations), so the trial a report
recommends is one whose weights `predict` can load.

Both files name their study, their trial and a fingerprint of the trial's spec and sizes, so a `.pt`
copied in from another study (even one of the same shape) is refused instead of forecasting quietly.
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lstmexp.errors import LstmexpError
from lstmexp.storage.safe_write import write_atomic
from lstmexp.storage.urls import journal_path, scheme_of, sqlite_path


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
    """The kept trials of a search; a damaged index is set aside (with one warning) so the search goes on."""
    kept = []
    for meta_file in sorted(folder.glob("trial_*.json")):
        try:
            kept.append(read_kept(meta_file))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            set_aside(meta_file, type(exc).__name__)
    return kept


def read_kept(meta_file: Path) -> KeptTrial:
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    return KeptTrial(int(meta["number"]), float(meta["value"]), str(meta["config"]), meta)


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
    meta = {**candidate.meta, "number": candidate.number, "value": candidate.value, "config": candidate.config}
    meta["fingerprint"] = fingerprint(meta["spec"], meta["params"])
    saved = {**identity(meta), "state_dict": {name: tensor.detach().cpu() for name, tensor in state.items()}}
    # the .pt first, the .json (the index kept_trials reads) last: a kill between them leaves no entry
    write_atomic(folder / f"trial_{candidate.number}.pt", lambda stream: torch.save(saved, stream), binary=True)
    write_atomic(folder / f"trial_{candidate.number}.json", lambda stream: stream.write(json.dumps(meta, indent=1)))
    return True


def fingerprint(spec: dict[str, Any], params: dict[str, Any]) -> str:
    """A hash of everything that shapes the model and its training: equal only for the same trial setup."""
    canonical = json.dumps({"spec": spec, "params": params}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def identity(meta: dict[str, Any]) -> dict[str, Any]:
    """What a kept `.pt` carries beside its tensors, to be matched against its `.json` index on loading."""
    return {"study": meta["study"], "trial": meta["number"], "fingerprint": meta["fingerprint"]}


def load_kept(folder: Path, study: str, number: int) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The weights (tensors only) and index of kept trial `number` of `study`, each checked to be that trial's.

    Every way these files can be unusable (missing, damaged, foreign, another trial's) is one line that
    names the file and what to do.
    """
    weights, meta_file = folder / f"trial_{number}.pt", folder / f"trial_{number}.json"
    if not weights.exists() or not meta_file.exists():
        kept = ", ".join(map(str, kept_numbers(folder)))
        hint = f"kept trials: {kept}" if kept else "no weights are kept for this study (search.keep_best)"
        raise LstmexpError(f"no saved weights for trial {number} in {folder}; {hint}")
    meta = read_index(meta_file, study, number)
    saved = read_weights(weights, number)
    if {key: saved.get(key) for key in ("study", "trial", "fingerprint")} != identity(meta):
        raise LstmexpError(
            f"kept weights {weights} are {describe(saved)}, but {meta_file.name} describes {describe(identity(meta))}: "
            f"they are not this trial's; {remedy(folder, number)}")
    return saved["state_dict"], meta


INDEX_KEYS = {"study": str, "number": int, "spec": dict, "params": dict, "scaler": dict, "fingerprint": str}


def read_index(meta_file: Path, study: str, number: int) -> dict[str, Any]:
    """The `.json` index, checked: an object with every key (of its type), naming this study and trial."""
    fix = remedy(meta_file.parent, number)
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problem = "not JSON" if isinstance(exc, ValueError) else type(exc).__name__
        raise LstmexpError(f"kept index {meta_file} is damaged ({problem}); {fix}") from None
    if not isinstance(meta, dict):
        raise LstmexpError(f"kept index {meta_file} is damaged (not a JSON object); {fix}")
    missing = [key for key, kind in INDEX_KEYS.items() if not isinstance(meta.get(key), kind)]
    if missing == ["fingerprint"]:
        raise LstmexpError(f"kept index {meta_file} names no fingerprint (kept by an older lstmexp), so its weights "
                           f"cannot be checked to be this trial's; {fix}")
    if missing:
        raise LstmexpError(f"kept index {meta_file} is damaged (missing or wrong: {', '.join(missing)}); {fix}")
    if meta["study"] != study or meta["number"] != number:
        raise LstmexpError(f"kept index {meta_file} describes {describe(identity(meta))}, not trial {number} of "
                           f"study {study!r}: it was copied in from elsewhere; {fix}")
    if fingerprint(meta["spec"], meta["params"]) != meta["fingerprint"]:
        raise LstmexpError(f"kept index {meta_file} was changed after it was kept (its spec and sizes no longer match "
                           f"its fingerprint); {fix}")
    return meta


def read_weights(weights: Path, number: int) -> dict[str, Any]:
    """The `.pt`, read with weights_only=True (tensors, numbers and strings only: nothing in it is run)."""
    fix = remedy(weights.parent, number)
    try:
        with warnings.catch_warnings():  # torch warns about a foreign pickle's protocol before refusing it
            warnings.simplefilter("ignore")
            saved = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch reports a bad file by many types (zip, unpickling, EOF, OS errors)
        raise LstmexpError(f"kept weights {weights} are {weights_problem(weights, exc)}; {fix}") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("state_dict"), dict):
        raise LstmexpError(f"kept weights {weights} are not weights lstmexp kept (a torch file of something else, "
                           f"or kept by an older lstmexp without its study and trial); {fix}")
    tensors = saved["state_dict"]
    if not all(isinstance(name, str) and isinstance(value, torch.Tensor) for name, value in tensors.items()):
        raise LstmexpError(f"kept weights {weights} hold values that are not tensors; {fix}")
    return saved


def weights_problem(weights: Path, exc: Exception) -> str:
    """What is wrong with a `.pt` torch could not read, in the user's terms."""
    try:
        with weights.open("rb") as stream:
            head = stream.read(4)
    except OSError as error:
        return f"unreadable ({error.strerror or type(error).__name__})"
    if not head:
        return "empty (a damaged file)"
    if head.startswith(b"PK"):  # torch's zip format, cut short or altered
        return "damaged (truncated or altered)"
    if "weights only" in str(exc).lower() or "unpickl" in type(exc).__name__.lower():
        return "not a torch weights file (a pickle or other content: refused unread, nothing in it was run)"
    return "not a torch weights file"


def describe(who: dict[str, Any]) -> str:
    return f"trial {who.get('trial')} of study {who.get('study')!r} (fingerprint {who.get('fingerprint')})"


def remedy(folder: Path, number: int) -> str:
    """The fix for an unusable kept trial: another kept trial of the study, else a new search that keeps weights."""
    others = [kept for kept in kept_numbers(folder) if kept != number]
    if others:
        choices = ", ".join(map(str, others))
        return f"forecast with another kept trial (--trial {choices}) or restore trial_{number} from a backup"
    return f"restore trial_{number}.pt and .json from a backup, or search again into a new --study to keep new weights"


def kept_numbers(folder: Path) -> list[int]:
    """The numbers of the kept trials whose index reads, without setting anything aside (predict only reads)."""
    numbers = []
    for meta_file in sorted(folder.glob("trial_*.json")):
        try:
            numbers.append(read_kept(meta_file).number)
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return numbers
