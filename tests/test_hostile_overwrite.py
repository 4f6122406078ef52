"""Files lstmexp did not write are never replaced: predict --out onto the storage, kept weights, data, a user's file."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstmexp.search import run_search
from lstmexp.weights import kept_trials, weights_dir
from tests.hostile import assert_one_line, fingerprint
from tests.search_specs import tiny


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("kept")
    url = f"sqlite:///{folder}/s.db"
    run_search(tiny("ow", "search.trials=1"), url)
    (folder / "data.csv").write_text("y\n" + "\n".join(str(i % 7) for i in range(300)) + "\n")
    (folder / "mine.csv").write_text("my own notes\n")
    return folder, url


def target(folder: Path, url: str, kind: str) -> Path:
    kept_file = kept_trials(weights_dir(url, "ow"))[0]
    return {"storage": folder / "s.db", "weights": weights_dir(url, "ow") / f"trial_{kept_file.number}.pt",
            "meta": weights_dir(url, "ow") / f"trial_{kept_file.number}.json",
            "data": folder / "data.csv"}[kind]


@pytest.mark.parametrize("kind", ["storage", "weights", "meta", "data"])
@pytest.mark.parametrize("force", [False, True])
def test_predict_never_overwrites_the_storage_the_kept_weights_or_the_data(cli, kept, kind, force):
    folder, url = kept
    number = kept_trials(weights_dir(url, "ow"))[0].number
    before = fingerprint(folder)
    data = ["--data", str(folder / "data.csv")] if kind == "data" else []
    result = cli("predict", "ow", "--trial", str(number), "--storage", url, *data,
                 "--out", str(target(folder, url, kind)), *(["--force"] if force else []))
    assert_one_line(result, "never overwritten")
    assert fingerprint(folder) == before


def test_predict_refuses_a_users_file_unless_forced(cli, kept):
    folder, url = kept
    number = kept_trials(weights_dir(url, "ow"))[0].number
    before = fingerprint(folder)
    args = ["predict", "ow", "--trial", str(number), "--storage", url, "--out", str(folder / "mine.csv")]
    assert_one_line(cli(*args), "--force")
    assert fingerprint(folder) == before
    assert cli(*args, "--force").code == 0
    assert (folder / "mine.csv").read_text().startswith("first_target_row")
    assert not list(folder.glob(".mine.csv.*"))  # the temporary file was renamed, none left behind


@pytest.mark.parametrize("damage", ['{"number": 0, "value": 1.0, "con', "", "\x00\xff garbage", "[]", "{}"])
def test_a_damaged_kept_file_is_named_once_and_set_aside_never_fatal(tmp_path, capsys, damage):
    url = f"sqlite:///{tmp_path}/d.db"
    run_search(tiny("dmg", "search.trials=1"), url)
    folder = weights_dir(url, "dmg")
    (folder / "trial_99.json").write_text(damage)
    (folder / "trial_99.pt").write_bytes(b"\x00")
    capsys.readouterr()
    run_search(tiny("dmg", "search.trials=2"), url)  # the resumed search trains and keeps as before
    err = capsys.readouterr().err
    assert "trial_99.json are damaged" in err and err.count("damaged (") == 1, err
    assert (folder / "trial_99.json.damaged").exists() and not (folder / "trial_99.json").exists()
    assert all(k.number != 99 for k in kept_trials(folder))
