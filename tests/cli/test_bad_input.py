"""The bad-input matrix: every malformed spec, flag, data file or storage URL exits 2 with one line,
no traceback, and leaves an existing study byte-for-byte unchanged."""

from __future__ import annotations

import datetime
import hashlib
import shutil
from pathlib import Path

import pytest

from tests.conftest import TINY_SPEC

# (id, spec file text or None, extra CLI args, expected text in the one-line message)
SPEC_CASES = [
    ("broken-yaml", "train: {epochs: 3\n", (), "is not valid YAML"),
    ("tab-indent", "train:\n\tepochs: 3\n", (), "is not valid YAML"),
    ("empty-file", "", (), "is empty"),
    ("only-comment", "# nothing\n", (), "is empty"),
    ("list-top-level", "- 1\n- 2\n", (), "must be a YAML mapping"),
    ("scalar-top-level", "42\n", (), "must be a YAML mapping"),
    ("unknown-top-key", "studdy: x\n", (), "studdy: unknown key; did you mean 'study'?"),
    ("unknown-nested-key", "train: {epoch: 3}\n", (), "train.epoch: unknown key"),
    ("wrong-type-epochs", "train: {epochs: three}\n", (), "train.epochs: Input should be a valid integer"),
    ("float-epochs", "train: {epochs: 2.5}\n", (), "train.epochs: Input should be a valid integer"),
    ("bool-lr", "train: {lr: yes}\n", (), "train.lr: Input should be a valid number"),
    ("negative-lr", "train: {lr: -0.1}\n", (), "train.lr: Input should be greater than 0"),
    ("section-not-mapping", "train: 5\n", (), "train: Input should be a valid dictionary"),
    ("batch-size-zero", "search: {space: {batch_size: 0}}\n", (), "search.space.batch_size: Input should be greater"),
    ("negative-range", "search: {space: {time_step: {low: -4, high: 8}}}\n", (),
     "search.space.time_step: Input should be greater"),
    ("inverted-range", "search: {space: {hidden_size: {low: 64, high: 8}}}\n", (), "range is inverted"),
    ("empty-values", "search: {space: {batch_size: []}}\n", (), "`values` is empty"),
    ("duplicate-values", "search: {space: {batch_size: [8, 8]}}\n", (), "`values` has duplicates"),
    ("pow2-empty", "search: {space: {batch_size: {low: 5, high: 7, scale: pow2}}}\n", (), "no power of two"),
    ("half-range", "search: {space: {batch_size: {high: 7}}}\n", (), "give `values: [...]` or both"),
    ("unknown-scale", "search: {space: {batch_size: {low: 1, high: 7, scale: cubic}}}\n", (), "scale: Input should be"),
    ("unknown-sampler", "search: {sampler: bayes}\n", (), "search.sampler: Input should be"),
    ("zero-trials", "search: {trials: 0}\n", (), "search.trials: Input should be greater than 0"),
    ("split-sum", "data: {split: {train: 0.5, val: 0.1, test: 0.1}}\n", (), "must sum to 1"),
    ("bad-device", "train: {device: tpu}\n", (), "unknown device 'tpu'"),
    ("bad-study-name", "study: '../etc'\n", (), "study: String should match pattern"),
    ("time-step-longer-than-data", "data: {rows: 300}\nsearch: {space: {time_step: 250}}\n", (),
     "too few for time_step=250"),
    ("unknown-dataset", "data: {dataset: mnist}\n", (), "unknown dataset 'mnist'"),
    ("python-tag", "study: !!python/object/apply:os.system ['true']\n", (), "is not valid YAML"),
]

CLI_CASES = [
    ("missing-spec", None, ("search", "nope.yaml"), "spec file nope.yaml does not exist"),
    ("spec-is-dir", None, ("search", "."), "is a directory"),
    ("override-no-equals", None, ("search", "-o", "train.epochs"), "is not key=value"),
    ("override-unknown", None, ("search", "-o", "train.epocs=1"), "did you mean 'epochs'?"),
    ("override-bad-yaml", None, ("search", "-o", "train.epochs=[1"), "the value is not valid YAML"),
    ("trials-zero", None, ("search", "--trials", "0"), "0 is not in the range 1<=x<=100000"),
    ("trials-text", None, ("search", "--trials", "many"), "'many' is not a valid integer"),
    ("seed-text", None, ("search", "--seed", "x"), "'x' is not a valid integer"),
    ("unknown-flag", None, ("search", "--gpu"), "No such option '--gpu'"),
    ("unknown-command", None, ("serach",), "No such command 'serach'"),
    ("bad-device-flag", None, ("search", "--device", "gpu0"), "unknown device 'gpu0'"),
    ("cuda-without-cuda", None, ("run", "--device", "cuda", "--batch-size", "8", "--time-step", "4",
                                 "--hidden-size", "4"), "CUDA is not available"),
    ("run-missing-param", None, ("run", "--time-step", "4", "--hidden-size", "4"), "--batch-size is required"),
    ("report-bad-format", None, ("report", "--format", "pdf"), "'pdf' is not one of"),
    ("report-unknown-study", None, ("report", "--study", "nope"), "no study 'nope'"),
]

# Data files: (id, file name, file bytes, extra spec lines, expected text). The spec points data.path at the file.


def dated_csv(days: list[int]) -> bytes:
    """A 3-column CSV with one row per listed day (day 0 = 2024-01-01)."""
    start = datetime.date(2024, 1, 1)
    rows = [f"{start + datetime.timedelta(days=d)},{d},{2 * d}" for d in days]
    return ("t,a,y\n" + "\n".join(rows) + "\n").encode()


SWAPPED = list(range(60))
SWAPPED[10], SWAPPED[11] = 11, 10
DATA_CASES = [
    ("missing-file", None, None, "", "does not exist"),
    ("empty-file", "d.csv", b"", "", "is empty"),
    ("header-only", "d.csv", b"a,y\n", "", "has no rows"),
    ("binary-file", "d.csv", bytes(range(256)) * 4, "", "data file"),
    ("wrong-extension", "d.xlsx", b"a,y\n1,2\n", "", "is neither .csv nor .parquet"),
    ("missing-target-column", "d.csv", b"a,b\n" + b"1,2\n" * 50, "", "no column 'y'"),
    ("target-typo", "d.csv", b"a,Y_value\n" + b"1,2\n" * 50, "", "no column 'y'"),
    ("nan-values", "d.csv", b"a,y\n" + b"1,2\n" * 20 + b"1,\n" + b"1,2\n" * 20, "", "1 missing value in"),
    ("text-in-numeric", "d.csv", b"a,y\n" + b"1,2\n" * 20 + b"x,2\n" + b"1,2\n" * 20, "data.features: [a]\n",
     "a"),
    ("single-row", "d.csv", b"a,y\n1,2\n", "", "too few"),
    ("unsorted-time", "d.csv", dated_csv(SWAPPED), "time_column: t\n", "not sorted"),
    ("duplicate-time", "d.csv", dated_csv([*range(30), 29, *range(30, 59)]), "time_column: t\n", "1 repeated date"),
]

STORAGE_CASES = [
    ("unknown-scheme", None, ("search", "--storage", "mongodb://localhost/x"), "unsupported storage scheme"),
    ("no-scheme", None, ("search", "--storage", "results.db"), "has no scheme"),
    ("sqlite-two-slashes", None, ("search", "--storage", "sqlite://x.db"), "needs three slashes"),
    ("sqlite-dir", None, ("search", "--storage", "sqlite:///."), "is a directory"),
    ("report-missing-file", None, ("report", "--storage", "sqlite:///nothere.db"), "does not exist"),
    ("postgres-unreachable", None, ("search", "--storage", "postgresql://u:pw@127.0.0.1:1/db"),
     "cannot open storage 'postgresql://u:***@127.0.0.1:1/db'"),
    ("sqlite-under-a-file", None, ("search", "--storage", "sqlite:///tiny.yaml/x.db"), "cannot create folder"),
]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def existing_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A storage holding a finished one-trial study, made once and copied into each test."""
    from lstmexp.search import run_search
    from lstmexp.spec import load_spec

    folder = tmp_path_factory.mktemp("existing")
    spec_path = folder / "tiny.yaml"
    spec_path.write_text(TINY_SPEC)
    db = folder / "existing.db"
    run_search(load_spec(spec_path, ["search.trials=1"]), f"sqlite:///{db}")
    return db


def data_spec(file_name: str | None, extra: str) -> str:
    path = file_name or "no_such_file.csv"
    lines = "".join(f"  {line}\n" for line in extra.splitlines())
    return (
        f"study: data\ndata:\n  path: {path}\n  target: y\n{lines}train: {{epochs: 1, device: cpu}}\n"
        "search: {trials: 1, space: {batch_size: 4, time_step: 4, hidden_size: 4}}\n"
    )


@pytest.mark.parametrize(
    ("file_name", "content", "extra", "needle"),
    [pytest.param(*case[1:], id=case[0]) for case in DATA_CASES],
)
def test_bad_data_files_exit_2_with_one_line_and_change_nothing(
    cli, workdir, existing_study, file_name, content, extra, needle
):
    db = workdir / "existing.db"
    shutil.copy(existing_study, db)
    if file_name is not None:
        (workdir / file_name).write_bytes(content)
    (workdir / "bad.yaml").write_text(data_spec(file_name, extra))
    before, files_before = digest(db), sorted(p.name for p in workdir.iterdir())
    result = cli("search", "bad.yaml", "--storage", f"sqlite:///{db}")
    assert result.code == 2, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    assert needle in lines[0], lines[0]
    assert "Traceback" not in result.err + result.out
    assert digest(db) == before
    assert sorted(p.name for p in workdir.iterdir()) == files_before


@pytest.mark.parametrize(
    ("spec_text", "args", "needle"),
    [pytest.param(*case[1:], id=case[0]) for case in SPEC_CASES + CLI_CASES + STORAGE_CASES],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(cli, workdir, existing_study, spec_text, args, needle):
    db = workdir / "existing.db"
    shutil.copy(existing_study, db)
    (workdir / "tiny.yaml").write_text(TINY_SPEC)
    before = digest(db)
    files_before = sorted(p.name for p in workdir.iterdir())
    if spec_text is not None:
        (workdir / "bad.yaml").write_text(spec_text)
        args = ("search", "bad.yaml", "--storage", f"sqlite:///{db}")
        files_before = sorted(p.name for p in workdir.iterdir())
    elif (args[0] == "report" and "--storage" not in args) or (args[0] == "search" and "--storage" not in args):
        args = (*args, "--storage", f"sqlite:///{db}")
    result = cli(*args)
    assert result.code == 2, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ")
    assert needle in lines[0], lines[0]
    assert "Traceback" not in result.err + result.out
    assert digest(db) == before
    assert sorted(p.name for p in workdir.iterdir()) == files_before  # nothing created


def test_unparsable_dates_are_one_line(cli, workdir):
    (workdir / "d.csv").write_text("t,a,y\n" + "2024-02-30,1,2\n" * 60)
    (workdir / "bad.yaml").write_text(data_spec("d.csv", "time_column: t\n"))
    result = cli("search", "bad.yaml", "--storage", "sqlite:///x.db")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
    assert "holds '2024-02-30', not a date, at line 2 of" in result.err
