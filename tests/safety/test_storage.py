"""Hostile storages: files that are not ours are never changed, readers
never write, corrupt or foreign storages and studies get one line, and unusable URLs are refused."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import optuna
import pytest

from lstmexp.storage.urls import SPEC_ATTR
from tests.hostile import QUICK_SPEC, assert_one_line, copy_in, fingerprint, make_studies


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_studies(tmp_path_factory.mktemp("made"))


@pytest.fixture
def spec(workdir: Path) -> Path:
    path = workdir / "quick.yaml"
    path.write_text(QUICK_SPEC)
    return path


def write_foreign_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO users (name) VALUES ('ada'), ('grace')")
    db.close()


def write_empty_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 7")  # a valid database file with no table at all
    db.close()


# Files another program owns, each with a last line that has no newline where it has lines at all.
FOREIGN_BYTES = {
    "text": b"first line\nsecond line\nthird line without newline",
    "json-lines": b'{"a": 1}\n{"b": 2}\n{"c": ',
    "csv": b"date,x\n2020-01-01,1\n2020-01-02,2",
    "binary": bytes(range(256)) * 8,
    "one-line": b"no newline at all",
}


def foreign_file(kind: str, folder: Path, studies: tuple[Path, Path]) -> Path:
    if kind == "sqlite-study":
        return copy_in(studies[0], folder, "other.db")
    path = folder / f"{kind}.dat"
    path.write_bytes(FOREIGN_BYTES[kind])
    return path


@pytest.mark.parametrize("kind", ["sqlite-study", *FOREIGN_BYTES])
@pytest.mark.parametrize("command", ["report", "search"])
def test_a_file_that_is_not_a_journal_is_never_touched(cli, workdir, spec, studies, kind, command):
    path = foreign_file(kind, workdir, studies)
    before = fingerprint(workdir)
    args = ["report"] if command == "report" else ["search", str(spec)]
    assert_one_line(cli(*args, "--storage", f"journal:///{path}"), "not an Optuna journal")
    assert fingerprint(workdir) == before


@pytest.mark.parametrize("kind", ["foreign-sqlite", "empty-sqlite", "empty-file", "text", "journal"])
def test_report_on_a_foreign_file_says_not_an_optuna_storage_and_writes_nothing(cli, workdir, studies, kind):
    path = workdir / "data.db"
    if kind == "foreign-sqlite":
        write_foreign_sqlite(path)
    elif kind == "empty-sqlite":
        write_empty_sqlite(path)
    elif kind == "journal":
        path = copy_in(studies[1], workdir, "data.db")
    else:
        path.write_bytes(b"" if kind == "empty-file" else FOREIGN_BYTES["text"])
    before = fingerprint(workdir)
    assert_one_line(cli("report", "--storage", f"sqlite:///{path}"), "not an Optuna storage")
    assert fingerprint(workdir) == before


@pytest.mark.parametrize("command", ["report", "search"])
def test_a_damaged_study_file_says_not_readable_and_is_left_as_it_was(cli, workdir, spec, studies, command):
    path = copy_in(studies[0], workdir, "damaged.db")
    damaged = bytearray(path.read_bytes())
    damaged[100:] = b"\xff" * (len(damaged) - 100)  # SQLite's header kept, every page overwritten
    path.write_bytes(damaged)
    before = fingerprint(workdir)
    args = ("report",) if command == "report" else ("search", str(spec), "--trials", "1")
    assert_one_line(cli(*args, "--storage", f"sqlite:///{path}"), "not a readable SQLite database")
    assert fingerprint(workdir) == before

def test_mode_ro_is_honoured_by_search_and_report(cli, workdir, spec, studies):
    path = copy_in(studies[0], workdir)
    before = fingerprint(workdir)
    url = f"sqlite:///{path}?mode=ro"
    assert_one_line(cli("search", str(spec), "--storage", url, "--trials", "3"), "mode=ro")
    assert cli("report", "--storage", url).code == 0
    assert fingerprint(workdir) == before


@pytest.mark.parametrize("kind", ["foreign-sqlite", "text"])
def test_search_refuses_another_programs_database(cli, workdir, spec, kind):
    path = workdir / "app.db"
    write_foreign_sqlite(path) if kind == "foreign-sqlite" else path.write_bytes(FOREIGN_BYTES["text"])
    before = fingerprint(workdir)
    assert_one_line(cli("search", str(spec), "--storage", f"sqlite:///{path}"), "not an Optuna storage")
    assert fingerprint(workdir) == before


def make_immutable(path: Path) -> bool:
    """chattr +i where the file system allows it (root on ext4/xfs/tmpfs), else mode 444."""
    path.chmod(0o444)
    return subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
def test_a_read_only_storage_reads_and_stays_byte_for_byte(cli, workdir, studies, scheme):
    path = copy_in(studies[0] if scheme == "sqlite" else studies[1], workdir)
    immutable = make_immutable(path)
    before = fingerprint(workdir)
    try:
        for fmt in ("table", "json"):
            result = cli("report", "--storage", f"{scheme}:///{path}", "--format", fmt)
            assert result.code == 0, result.err
            assert "tiny" in result.out
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=False)
    assert fingerprint(workdir) == before  # no lock file, no repair, no table


@pytest.mark.parametrize(
    ("damage", "line"),
    [
        (lambda w: w.replace(b"\n", b"\nthis is garbage\n", 2), 2),  # in the middle
        (lambda w: w + b"garbage at the end\n", None),
        (lambda w: w + b'{"op_code": 42, "worker_id": "w"}\n', None),  # an op code Optuna never wrote
        (lambda w: w.replace(b"\n", b"\n\n", 1), 2),  # an empty line
        (lambda w: w.replace(b'{"op_code":4,', b'{"op_code":4', 1), -1),  # a record whose JSON is broken
    ],
)
@pytest.mark.parametrize("command", ["report", "search"])
def test_a_corrupt_journal_gets_one_line_naming_the_line_and_is_not_appended_to(
    cli, workdir, spec, studies, damage, line, command
):
    whole = studies[1].read_bytes()
    path = workdir / "bad.journal"
    path.write_bytes(damage(whole))
    bad = path.read_bytes()
    if line is None:
        line = whole.count(b"\n") + 1
    elif line == -1:
        line = bad[: bad.index(b'{"op_code":4"')].count(b"\n") + 1 if b'{"op_code":4"' in bad else 0
    before = fingerprint(workdir)
    args = ["report"] if command == "report" else ["search", str(spec), "--trials", "2"]
    message = assert_one_line(cli(*args, "--storage", f"journal:///{path}"), "journal")
    assert f"line {line}" in message
    assert fingerprint(workdir) == before


def age_schema(path: Path) -> None:
    """Make an Optuna SQLite study look written by Optuna 2.x: an older alembic revision."""
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = 'v2.6.0.a'")
        db.execute("UPDATE version_info SET library_version = '2.6.0'")
    db.close()


@pytest.mark.parametrize("command", ["report", "search"])
def test_an_old_schema_names_optunas_upgrade_command_and_changes_nothing(cli, workdir, spec, studies, command):
    path = copy_in(studies[0], workdir)
    age_schema(path)
    before = fingerprint(workdir)
    args = ["report"] if command == "report" else ["search", str(spec), "--trials", "2"]
    assert_one_line(cli(*args, "--storage", f"sqlite:///{path}"), "optuna storage upgrade")
    assert fingerprint(workdir) == before


def plain_optuna_study(url: str, name: str, directions: list[str], trials: int) -> None:
    study = optuna.create_study(study_name=name, storage=url, directions=directions)
    for _ in range(trials):
        trial = study.ask()
        study.tell(trial, [trial.suggest_float("x", 0, 1)] * len(directions))


@pytest.mark.parametrize(
    ("directions", "trials", "needle"),
    [
        (["maximize"], 3, "not made by lstmexp"),
        (["minimize"], 2, "not made by lstmexp"),  # same direction, but someone else's trials
        (["minimize", "maximize"], 0, "optimises minimize, maximize"),
        (["maximize"], 0, "optimises maximize"),
    ],
)
def test_a_study_lstmexp_did_not_make_is_refused_before_any_write(cli, workdir, spec, directions, trials, needle):
    url = f"sqlite:///{workdir}/plain.db"
    plain_optuna_study(url, "tiny", directions, trials)
    before = fingerprint(workdir)
    assert_one_line(cli("search", str(spec), "--storage", url), needle)
    assert fingerprint(workdir) == before


def test_a_study_killed_before_its_spec_was_stored_is_finished_on_resume(cli, workdir, spec):
    url = f"sqlite:///{workdir}/half.db"
    optuna.create_study(study_name="tiny", storage=url, direction="minimize")  # created, spec never stored
    result = cli("search", str(spec), "--storage", url)
    assert result.code == 0, result.err
    study = optuna.load_study(study_name="tiny", storage=url)
    assert study.user_attrs[SPEC_ATTR]["study"] == "tiny"
    assert len(study.trials) == 1
    changed = cli("search", str(spec), "--storage", url, "-o", "train.lr=0.5")  # now it has a spec: compared
    assert_one_line(changed, "different train")


@pytest.mark.parametrize(
    "url", ["sqlite:///:memory:", "sqlite://", "sqlite:///file::memory:?mode=memory&uri=true", "", "   "]
)
@pytest.mark.parametrize("command", ["search", "report"])
def test_storages_that_would_lose_everything_or_mean_nothing_are_refused(cli, workdir, spec, url, command):
    args = ["report"] if command == "report" else ["search", str(spec)]
    assert_one_line(cli(*args, "--storage", url), "in memory" if url.strip() else "--storage is empty")
    assert fingerprint(workdir) == {"quick.yaml": fingerprint(workdir)["quick.yaml"]}  # no default storage made


@pytest.mark.parametrize(("workers", "needle"), [("0", "--workers"), ("-2", "--workers"), ("100000", "at most")])
def test_worker_counts_beyond_reason_are_refused(cli, workdir, spec, workers, needle):
    assert_one_line(cli("search", str(spec), "--workers", workers), needle)
    assert not (workdir / "results").exists()


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_storage_path_that_is_not_a_regular_file_is_named(cli, workdir, spec, kind):
    import os

    path = workdir / "odd.db"
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    needle = "not a regular file" if kind == "fifo" else "is a directory"
    for scheme in ("sqlite", "journal"):
        assert_one_line(cli("report", "--storage", f"{scheme}:///{path}"), needle)
        assert_one_line(cli("search", str(spec), "--storage", f"{scheme}:///{path}"), needle)
