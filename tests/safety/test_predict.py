"""`lstmexp predict` on hostile files: every user-fixable problem is one line, exit 2, naming the file and the fix.

Damaged, foreign or planted weights, a damaged index, weights of another study or trial (even of the
same shape), an --out into a folder that is not there, a --data file that cannot apply: each is
refused before anything is written, and no weights file is unpickled (torch.load(weights_only=True)).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import pytest
import torch

from lstmexp.search import run_search
from lstmexp.trial.weights import kept_trials, load_kept, weights_dir
from tests.hostile import assert_one_line, fingerprint
from tests.search_specs import tiny

STUDY, SIBLING, OTHER_SPEC = "hp", "sibling", "widened"


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Three studies in one storage: `hp`, a sibling of the very same shape, and one of another spec."""
    folder = tmp_path_factory.mktemp("predict")
    url = f"sqlite:///{folder}/s.db"
    run_search(tiny(STUDY, "search.trials=2", "search.sampler=grid"), url)
    run_search(tiny(SIBLING, "search.trials=2", "search.sampler=grid"), url)
    run_search(tiny(OTHER_SPEC, "search.trials=1", "search.sampler=grid", "data.rows=700"), url)
    return folder, url


@pytest.fixture
def study(studies: tuple[Path, str], tmp_path: Path) -> tuple[Path, str, list[int]]:
    """A fresh copy of the storage and its kept weights for each test (tests damage them)."""
    source, _ = studies
    shutil.copyfile(source / "s.db", tmp_path / "s.db")
    shutil.copytree(source / "s.weights", tmp_path / "s.weights")
    url = f"sqlite:///{tmp_path}/s.db"
    numbers = sorted(k.number for k in kept_trials(weights_dir(url, STUDY)))
    assert len(numbers) == 2
    return tmp_path, url, numbers


def predict(cli, url: str, number: int, *extra: str, study: str = STUDY):
    return cli("predict", study, "--trial", str(number), "--storage", url, *extra)


def refused_unchanged(cli, folder: Path, url: str, number: int, needle: str, *extra: str) -> str:
    """predict --out refuses in one line naming `needle`, and leaves every file as it was (no --out written)."""
    before = fingerprint(folder)
    line = assert_one_line(predict(cli, url, number, "--out", str(folder / "forecast.csv"), *extra), needle)
    assert fingerprint(folder) == before
    return line


def pickled_call() -> bytes:
    """A pickle that would create a file if it were ever unpickled."""

    class Plant:
        def __reduce__(self):
            return (os.mkdir, (str(Path.cwd() / "planted"),))

    return pickle.dumps(Plant())


def torch_bytes(value: object) -> bytes:
    stream = io.BytesIO()
    torch.save(value, stream)
    return stream.getvalue()


def zip_bytes() -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("readme.txt", "not a model")
    return stream.getvalue()


DAMAGED_WEIGHTS = {
    "empty": lambda good: b"",
    "truncated": lambda good: good[:100],
    "cut in half": lambda good: good[: len(good) // 2],
    "text": lambda good: b"these are not weights\n",
    "binary garbage": lambda good: bytes(range(256)) * 4,
    "a pickle of a dict": lambda good: pickle.dumps({"weight": [1.0, 2.0]}),
    "a pickle that runs code": lambda good: pickled_call(),
    "another zip archive": lambda good: zip_bytes(),
    "a torch file of another model": lambda good: torch_bytes(torch.nn.Linear(3, 2).state_dict()),
    "a torch file of a list": lambda good: torch_bytes([1, 2, 3]),
    "a torch file of non-tensors": lambda good: torch_bytes({"study": STUDY, "state_dict": {"w": 1.0}}),
}


@pytest.mark.parametrize("damage", list(DAMAGED_WEIGHTS))
def test_damaged_or_foreign_weights_are_one_line_naming_the_file_and_the_fix(cli, study, damage, monkeypatch):
    folder, url, (number, spare) = study
    monkeypatch.chdir(folder)
    weights = weights_dir(url, STUDY) / f"trial_{number}.pt"
    weights.write_bytes(DAMAGED_WEIGHTS[damage](weights.read_bytes()))
    line = refused_unchanged(cli, folder, url, number, str(weights))
    assert f"--trial {spare}" in line  # the fix: the study's other kept trial
    assert not (folder / "planted").exists()  # nothing in the file was run


def test_a_planted_weights_file_without_any_other_kept_trial_names_the_other_fix(cli, study):
    folder, url, (number, spare) = study
    kept = weights_dir(url, STUDY)
    for suffix in (".pt", ".json"):
        (kept / f"trial_{spare}{suffix}").unlink()
    (kept / f"trial_{number}.pt").write_bytes(b"")
    line = refused_unchanged(cli, folder, url, number, "empty")
    assert "interrupted" not in line and "backup" in line and "new --study" in line


def index_edits(meta: dict) -> dict[str, str | bytes]:
    """Damaged `.json` indexes, each as the bytes to write."""
    without = {key: value for key, value in meta.items() if key != "spec"}
    older = {key: value for key, value in meta.items() if key != "fingerprint"}
    resized = {**meta, "params": {**meta["params"], "hidden_size": meta["params"]["hidden_size"] * 2}}
    return {
        "empty object": "{}",
        "not JSON": "nope",
        "empty file": "",
        "a list": "[]",
        "truncated": json.dumps(meta)[:40],
        "not UTF-8": b"\xff\xfe\x00garbage",
        "no spec": json.dumps(without),
        "spec not an object": json.dumps({**meta, "spec": "synthetic"}),
        "number as text": json.dumps({**meta, "number": str(meta["number"])}),
        "kept by an older lstmexp (no fingerprint)": json.dumps(older),
        "sizes edited after keeping": json.dumps(resized),
    }


@pytest.mark.parametrize("edit", list(index_edits({"spec": {}, "params": {"hidden_size": 1}, "number": 0})))
def test_a_damaged_index_is_one_line_naming_it(cli, study, edit):
    folder, url, (number, _) = study
    index = weights_dir(url, STUDY) / f"trial_{number}.json"
    content = index_edits(json.loads(index.read_text()))[edit]
    index.write_bytes(content if isinstance(content, bytes) else content.encode())
    refused_unchanged(cli, folder, url, number, str(index))


def test_weights_of_a_sibling_study_of_the_same_shape_are_refused_naming_both(cli, study):
    folder, url, (number, _) = study
    mine = weights_dir(url, STUDY) / f"trial_{number}.pt"
    shutil.copyfile(weights_dir(url, SIBLING) / f"trial_{number}.pt", mine)
    line = refused_unchanged(cli, folder, url, number, str(mine))
    assert f"study '{SIBLING}'" in line and f"study '{STUDY}'" in line


def test_weights_of_a_study_of_another_spec_are_refused_naming_both(cli, study):
    folder, url, (number, _) = study
    theirs = kept_trials(weights_dir(url, OTHER_SPEC))[0].number
    mine = weights_dir(url, STUDY) / f"trial_{number}.pt"
    shutil.copyfile(weights_dir(url, OTHER_SPEC) / f"trial_{theirs}.pt", mine)
    line = refused_unchanged(cli, folder, url, number, str(mine))
    assert f"study '{OTHER_SPEC}'" in line and f"study '{STUDY}'" in line


def test_weights_of_another_trial_of_the_same_study_are_refused(cli, study):
    folder, url, (number, spare) = study
    kept = weights_dir(url, STUDY)
    shutil.copyfile(kept / f"trial_{spare}.pt", kept / f"trial_{number}.pt")
    line = refused_unchanged(cli, folder, url, number, f"trial {spare} of study '{STUDY}'")
    assert f"trial {number} of study '{STUDY}'" in line


def test_a_kept_pair_copied_in_from_a_sibling_study_is_refused_naming_both(cli, study):
    folder, url, (number, _) = study
    for suffix in (".pt", ".json"):
        shutil.copyfile(weights_dir(url, SIBLING) / f"trial_{number}{suffix}",
                        weights_dir(url, STUDY) / f"trial_{number}{suffix}")
    line = refused_unchanged(cli, folder, url, number, f"trial_{number}.json")
    assert f"study '{SIBLING}'" in line and f"study '{STUDY}'" in line


def test_predict_only_reads_a_damaged_index_of_another_trial_stays_where_it_is(cli, study):
    folder, url, (number, spare) = study
    (weights_dir(url, STUDY) / f"trial_{spare}.json").write_text("{broken")
    before = fingerprint(folder)
    assert_one_line(predict(cli, url, 99), f"kept trials: {number}")
    assert fingerprint(folder) == before  # nothing set aside: setting aside is the search's job


def test_kept_files_name_their_study_trial_and_fingerprint(study):
    _, url, (number, _) = study
    folder = weights_dir(url, STUDY)
    saved = torch.load(folder / f"trial_{number}.pt", weights_only=True)
    meta = json.loads((folder / f"trial_{number}.json").read_text())
    assert (saved["study"], saved["trial"], saved["fingerprint"]) == (STUDY, number, meta["fingerprint"])
    assert (meta["study"], meta["number"]) == (STUDY, number)
    state, _ = load_kept(folder, STUDY, number)
    assert state.keys() == saved["state_dict"].keys()


@pytest.mark.parametrize("where", ["missing/forecast.csv", "missing/deeper/forecast.csv", "afile/forecast.csv"])
def test_out_into_a_folder_that_is_not_there_is_one_line_and_nothing_is_written(cli, study, where):
    folder, url, (number, _) = study
    (folder / "afile").write_text("a file, not a folder\n")
    out = folder / where
    before = fingerprint(folder)
    line = assert_one_line(predict(cli, url, number, "--out", str(out)), f"--out {out}")
    assert str(out.parent) in line
    assert fingerprint(folder) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder, so a read-only folder cannot be shown")
def test_out_into_a_read_only_folder_is_one_line(cli, study):
    folder, url, (number, _) = study
    locked = folder / "locked"
    locked.mkdir(mode=0o555)
    try:
        assert_one_line(predict(cli, url, number, "--out", str(locked / "f.csv")), "not writable")
        assert not list(locked.iterdir())
    finally:
        locked.chmod(0o755)


def series_csv(path: Path, columns: list[str], rows: int = 300) -> Path:
    lines = [",".join(columns)] + [",".join(str((i * (k + 3)) % 11) for k in range(len(columns))) for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("columns", [["y"], ["y", "x"], ["target", "a", "b"]])
def test_data_on_a_study_of_built_in_data_says_it_cannot_apply(cli, study, columns):
    folder, url, (number, _) = study
    data = series_csv(folder / "mine.csv", columns)
    line = refused_unchanged(cli, folder, url, number, "built-in dataset", "--data", str(data))
    assert "drop --data" in line and "validation error" not in line


@pytest.fixture(scope="module")
def file_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int]:
    """A study trained on a file with inputs a, b and target y."""
    folder = tmp_path_factory.mktemp("filestudy")
    data = series_csv(folder / "train.csv", ["a", "b", "y"], rows=600)
    url = f"sqlite:///{folder}/f.db"
    run_search(tiny("onfile", "search.trials=1", f"data.path={data}", "data.target=y", "data.mode=MS",
                    "data.rows=600"), url)
    return folder, url, kept_trials(weights_dir(url, "onfile"))[0].number


@pytest.mark.parametrize("columns", [["a", "y"], ["a", "b", "c", "y"], ["y"]])
def test_data_with_other_input_columns_names_the_columns_the_trial_was_trained_on(cli, file_study, columns):
    folder, url, number = file_study
    data = series_csv(folder / f"other_{len(columns)}.csv", columns)
    before = fingerprint(folder)
    out = folder / "forecast.csv"
    line = assert_one_line(predict(cli, url, number, "--data", str(data), "--out", str(out), study="onfile"),
                           f"--data {data}")
    assert "(a, b, y)" in line
    assert fingerprint(folder) == before


def test_debug_shows_the_traceback_and_keeps_exit_code_2(cli, study):
    _, url, (number, _) = study
    (weights_dir(url, STUDY) / f"trial_{number}.pt").write_bytes(b"")
    result = cli("--debug", "predict", STUDY, "--trial", str(number), "--storage", url)
    assert result.code == 2 and "Traceback" in result.err
    assert result.err.strip().splitlines()[-1].startswith("error: kept weights")
