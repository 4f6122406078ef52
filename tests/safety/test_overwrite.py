"""Files lstmexp did not write are never replaced: predict --out onto the storage, kept weights, data, a user's file."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstmexp.search import run_search
from lstmexp.trial.weights import kept_trials, weights_dir
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


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> str:
    from tests.hostile import make_studies

    return f"sqlite:///{make_studies(tmp_path_factory.mktemp('reported'))[0]}"


@pytest.mark.parametrize("name", ["trials.csv", "report.html", "report.json", "trials_all.csv", "claims.csv",
                                  "plots/pareto.png"])
def test_report_never_replaces_a_users_own_file_in_its_folder(cli, workdir, reported, name):
    out = workdir / "myproj"
    (out / "plots").mkdir(parents=True)
    (out / name).write_bytes(b"\x89PNG my own chart" if name.endswith(".png") else b"my own work\n")
    (out / "notes.txt").write_text("unrelated\n")
    before = fingerprint(out)
    line = assert_one_line(cli("report", "--storage", reported, "--out", str(out)), str(out / name))
    assert "not written by lstmexp" in line and "another --out" in line, line
    assert fingerprint(out) == before  # nothing written: not even the manifest


def test_report_refuses_a_link_where_it_writes_a_file(cli, workdir, reported):
    out, mine = workdir / "out", workdir / "mine.csv"
    out.mkdir()
    mine.write_text("precious\n")
    (out / "trials.csv").symlink_to(mine)
    assert_one_line(cli("report", "--storage", reported, "--out", str(out)), "trials.csv")
    assert mine.read_text() == "precious\n" and (out / "trials.csv").is_symlink()


def test_a_second_report_into_the_same_folder_replaces_its_own_files(cli, workdir, reported):
    out = workdir / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    (out / "my_chart.png").write_bytes(b"\x89PNG mine")
    assert cli("report", "--storage", reported, "--out", str(out)).code == 0
    (out / "report.md").unlink()  # a report file the user removed is simply written again
    for _ in range(2):
        result = cli("report", "--storage", reported, "--out", str(out))
        assert result.code == 0, result.err
    assert (out / "notes.txt").read_text() == "mine\n" and (out / "my_chart.png").read_bytes() == b"\x89PNG mine"
    assert not [p for p in out.iterdir() if p.name.startswith(".report-")]


@pytest.mark.parametrize("name", ["report.md", "trials.csv", "plots/pareto.png"])
def test_a_report_file_changed_since_it_was_written_is_refused(cli, workdir, reported, name):
    out = workdir / "out"
    assert cli("report", "--storage", reported, "--out", str(out)).code == 0
    with (out / name).open("ab") as stream:
        stream.write(b"my addition\n")
    before = fingerprint(out)
    line = assert_one_line(cli("report", "--storage", reported, "--out", str(out)), str(out / name))
    assert "changed since" in line and f"remove {out / name}" in line, line
    assert fingerprint(out) == before


@pytest.mark.parametrize("damage", ["", "not json", '{"files": {}}', '{"kind": "lstmexp report files", "files": []}'])
def test_a_damaged_list_of_report_files_is_refused(cli, workdir, reported, damage):
    out = workdir / "out"
    assert cli("report", "--storage", reported, "--out", str(out)).code == 0
    (out / ".lstmexp-report.json").write_text(damage)
    before = fingerprint(out)
    assert_one_line(cli("report", "--storage", reported, "--out", str(out)), ".lstmexp-report.json")
    assert fingerprint(out) == before


def test_a_report_killed_mid_swap_leaves_a_folder_the_next_report_accepts(cli, workdir, reported, monkeypatch):
    from lstmexp.report import write
    from lstmexp.report.outline import outline
    from lstmexp.report.plots import make_plots
    from lstmexp.report.run import load_report

    out = workdir / "out"
    assert cli("report", "--storage", reported, "--out", str(out)).code == 0
    before = fingerprint(out)
    other = load_report(reported.replace("sqlite:///", "journal:///").replace(".db", ".journal"), None)
    real_move = write.move_into_place

    def killed_after_three(out_dir, staging, backup, names):  # the list and two files are in: then a kill
        real_move(out_dir, staging, backup, names[:3])
        raise SystemExit(137)

    monkeypatch.setattr(write, "move_into_place", killed_after_three)
    with pytest.raises(SystemExit):
        write.write_outputs(outline(other), out, make_plots([other]))
    monkeypatch.undo()
    now = fingerprint(out)
    assert now["report.html"] != before["report.html"] and now["report.json"] == before["report.json"]  # mixed
    assert cli("report", "--storage", reported, "--out", str(out)).code == 0
    (out / "best.csv").write_text("edited\n")  # and the folder still protects what the user changed
    assert_one_line(cli("report", "--storage", reported, "--out", str(out)), "best.csv")
