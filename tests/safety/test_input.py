"""Hostile values: numbers, bombs, secrets, report output faults
and Markdown injection each get one line before anything is written, or are made harmless."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import time
from pathlib import Path

import optuna
import pytest

from lstmexp.search import run_search
from lstmexp.search.study import stored_spec
from lstmexp.spec import load_spec
from lstmexp.storage.urls import SPEC_ATTR, mask_text, mask_url, remember_secrets
from tests.conftest import needs_postgres
from tests.hostile import QUICK_SPEC, assert_one_line, fingerprint, make_studies

# (override, the field or words the one line must name)
NUMBER_CASES = [
    ("train.lr=.inf", "train.lr"),
    ("train.lr=.nan", "train.lr"),
    ("train.lr=-1e308", "train.lr"),
    ("train.weight_decay=.inf", "train.weight_decay"),
    ("train.weight_decay=-1e-3", "train.weight_decay"),
    ("train.grad_clip=.nan", "train.grad_clip"),
    ("train.max_seconds=.inf", "train.max_seconds"),
    ("train.target_val_loss=.inf", "train.target_val_loss"),
    ("train.seed=-1", "train.seed"),
    ("train.seed=18446744073709551616", "train.seed"),
    ("search.seed=-7", "search.seed"),
    ("data.seed=4294967296", "data.seed"),
    ("search.constraints.max_memory=1000TiB", "max_memory"),
    ("search.constraints.max_memory=100000000000000000000000000", "max_memory"),
    ("search.constraints.min_samples_per_s=.inf", "min_samples_per_s"),
    ("data.rows=1000000000000", "rows"),
    ("search.space.batch_size={low: 1, high: 1000000000000000000}", "batch_size"),
    ("search.space.time_step=[4, 99999999999]", "time_step"),
    ("search.space.hidden_size=[1000000]", "hidden_size"),
    ("search.space.hidden_size=[65536]", "hidden_size"),
    ("data.split.train=.nan", "data.split.train"),
    ("model.dropout=.nan", "model.dropout"),
    ("data.features=[]", "features is empty"),
    ("train.max_samples=1", "train.max_samples"),
    ("train.max_samples=31", "train.max_samples"),  # warm-up 1 + one batch of 16 need 32
    ("train.max_samples=16", "train.max_samples"),
    ("search.max_consecutive_failures=0", "search.max_consecutive_failures"),
    ("search.max_consecutive_failures=.inf", "search.max_consecutive_failures"),
]


@pytest.fixture
def spec(workdir: Path) -> Path:
    path = workdir / "quick.yaml"
    path.write_text(QUICK_SPEC)
    return path


@pytest.mark.parametrize(("override", "needle"), NUMBER_CASES)
def test_non_finite_and_out_of_range_numbers_get_one_line_before_anything_is_written(cli, workdir, spec,
                                                                                   override, needle):
    before = fingerprint(workdir)
    assert_one_line(cli("search", str(spec), "-o", override), needle)
    assert fingerprint(workdir) == before


def test_a_grid_too_large_to_enumerate_is_refused(cli, workdir, spec):
    ranges = [f"search.space.{n}={{low: 1, high: 1000}}" for n in ("batch_size", "time_step", "hidden_size")]
    args = [a for r in ranges for a in ("-o", r)]
    assert_one_line(cli("search", str(spec), "-o", "search.sampler=grid", *args), "the grid has")


@pytest.mark.parametrize("flags", [("--within", "nan"), ("--within", "inf"), ("--within", "-1"),
                                   ("--max-memory", "99999999999999TiB")])
def test_report_flags_must_be_finite_and_possible(cli, workdir, flags):
    assert_one_line(cli("report", *flags), flags[0])


def write_csv(folder: Path, rows: list[str]) -> Path:
    path = folder / "d.csv"
    path.write_text("date,x,y\n" + "\n".join(rows) + "\n")
    return path


GOOD_ROWS = [f"2020-01-{d:02d},{d * 1.5},{(d * 7) % 5}" for d in range(1, 29)]


@pytest.mark.parametrize(
    ("bad_row", "needle"),
    [
        ("2020-01-10,inf,1", "column 'x' holds inf at line 11 of"),  # the header is line 1
        ("2020-01-10,1,-inf", "column 'y' holds -inf at line 11 of"),
        ("2020-01-10,1e308,1", "column 'x' holds 1e+308 at line 11 of"),
        ("2020-01-10,1,-3e20", "column 'y' holds -3e+20 at line 11 of"),
    ],
)
def test_non_finite_or_huge_data_values_are_named_by_row_and_column(cli, workdir, spec, bad_row, needle):
    rows = list(GOOD_ROWS)
    rows[9] = bad_row
    path = write_csv(workdir, rows)
    before = fingerprint(workdir)
    # mode MS: x is an input too (a file's default, mode S, would read the target alone)
    args = ["-o", f"data.path={path}", "-o", "data.target=y", "-o", "data.time_column=date", "-o", "data.mode=MS"]
    assert_one_line(cli("search", str(spec), *args), needle)
    assert fingerprint(workdir) == before


@pytest.mark.parametrize("value", ["3.0", "0", "-1.5"])
def test_a_constant_target_is_refused(cli, workdir, spec, value):
    path = write_csv(workdir, [f"2020-01-{d:02d},{d},{value}" for d in range(1, 29)])
    args = ["-o", f"data.path={path}", "-o", "data.target=y"]
    assert_one_line(cli("search", str(spec), *args), "is constant")


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_data_path_that_is_not_a_regular_file_says_so(cli, workdir, spec, kind):
    path = workdir / "data.csv"
    path.mkdir() if kind == "directory" else os.mkfifo(path)
    assert_one_line(cli("search", str(spec), "-o", f"data.path={path}", "-o", "data.target=y"), "not a regular file")
    assert_one_line(cli("datasets", "describe", str(path)), "not a regular file")


def test_mixed_date_formats_give_one_line_and_no_pandas_warning(cli, workdir):
    path = write_csv(workdir, ["01/02/2020 10:00,1,2", "2020-01-03,2,3", "03 Jan 2020 11:00,3,4"])
    result = cli("datasets", "describe", str(path), "-o", "data.time_column=date")
    assert_one_line(result, "holds '2020-01-03', not a date, at line 3 of")
    assert "Warning" not in result.err and "You might want" not in result.err


def alias_bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join([*lines, f"study: *a{levels}"]) + "\n"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (alias_bomb(8), "aliases expanded"),
        (alias_bomb(5), "aliases expanded"),
        ("a: &a [*a]\nstudy: *a\n", "recursive"),
        ("study: &a {x: *a}\n", "recursive"),
        ("study: " + "x" * 200_000 + "\n", "200002 characters"),
        ("train: {lr: [" + ", ".join(["1"] * 50_000) + "]}\n", "more than 10000 values"),
    ],
)
def test_yaml_bombs_and_huge_values_end_fast_with_a_short_line(cli, workdir, text, needle):
    path = workdir / "bomb.yaml"
    path.write_text(text)
    started = time.process_time()  # this process's CPU time: what an expanded bomb costs, whatever the load
    line = assert_one_line(cli("search", str(path)), needle)
    assert time.process_time() - started < 10
    assert len(line) < 1200


def test_a_huge_override_value_is_echoed_as_a_prefix_and_its_length(cli, workdir):
    for value in ("9" * 100_000, "x" * 100_000, "[" + "1," * 50_000 + "1]"):
        line = assert_one_line(cli("run", "-o", "train.epochs=" + value), "train.epochs")
        assert len(line) < 1200


def test_a_spec_path_that_is_a_fifo_does_not_hang(cli, workdir):
    os.mkfifo(workdir / "spec.yaml")
    assert_one_line(cli("search", str(workdir / "spec.yaml")), "not a regular file")


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgresql://bob@db.example/x?password=hunter22", "hunter22"),
        ("postgresql+psycopg2://bob@db.example/x?sslmode=require&sslpassword=k3y-pass", "k3y-pass"),
        ("postgresql://bob:my secret pw@db.example/x", "my secret pw"),
        ("postgresql://bob:p@ss@word@db.example:5432/x", "p@ss@word"),
        ("postgresql://bob:s%40cr%2Ft@db.example/x", "s%40cr%2Ft"),
        ("mysql+pymysql://root:toor!1@127.0.0.1/db?charset=utf8", "toor!1"),
    ],
)
def test_every_url_form_is_masked_by_parsing(url, secret):
    masked = mask_url(url)
    assert secret not in masked and "***" in masked
    remember_secrets(url)
    quoted = f"could not connect with {secret} (url {url})"
    assert secret not in mask_text(quoted)
    for piece in secret.replace("%40", "@").split("@"):
        if len(piece) >= 3:
            assert piece not in mask_text(quoted), piece


def test_the_stored_spec_holds_no_credential(workdir):
    spec = load_spec(None, ["storage=postgresql://bob:Hunter2pw@db.example/x?sslpassword=Other3pw"])
    stored = str(stored_spec(spec))
    assert "Hunter2pw" not in stored and "Other3pw" not in stored
    assert "db.example" in stored


@pytest.mark.postgres
@needs_postgres()
def test_a_password_in_the_spec_file_never_reaches_the_study_or_the_output(cli, workdir, fresh_postgres):
    password = "Spec Secret@1"  # a space and an @: the forms that leaked
    url = fresh_postgres.replace("postgres@", "postgres:" + password.replace(" ", "%20").replace("@", "%40") + "@")
    study = "hostile"
    (workdir / "s.yaml").write_text(QUICK_SPEC.replace("study: tiny", f"study: {study}\nstorage: {url}"))
    outputs = [cli("search", "s.yaml"), cli("report", "--storage", url, "--study", study, "--format", "json")]
    assert all(r.code == 0 for r in outputs), [r.err for r in outputs]
    attrs = optuna.load_study(study_name=study, storage=fresh_postgres).user_attrs
    for text in [str(attrs), *(r.out + r.err for r in outputs)]:
        assert "Spec Secret" not in text and "Spec%20Secret" not in text
    assert attrs[SPEC_ATTR]["storage"].startswith("postgresql://postgres:***@")


def test_every_trial_failing_without_a_result_stops_the_search(tmp_path, monkeypatch):
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text(QUICK_SPEC)
    spec = load_spec(spec_path, ["search.max_consecutive_failures=3", "search.trials=50"])
    from lstmexp.errors import LstmexpError
    from lstmexp.search import objective

    real_run_trial = objective.run_trial

    def nan_objective(*args, **kwargs):  # every trial trains, then its objective is NaN: it never counts
        record = real_run_trial(*args, **kwargs)
        accuracy = dataclasses.replace(record.measured.accuracy, val_loss_best=float("nan"))
        return dataclasses.replace(record, measured=dataclasses.replace(record.measured, accuracy=accuracy))

    monkeypatch.setattr(objective, "run_trial", nan_objective)
    with pytest.raises(LstmexpError, match="last 3 trials"):
        run_search(spec, f"sqlite:///{tmp_path}/nan.db")
    assert len(optuna.load_study(study_name="tiny", storage=f"sqlite:///{tmp_path}/nan.db").trials) == 3


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_studies(tmp_path_factory.mktemp("made"))


@pytest.mark.parametrize("fault", ["html-is-a-folder", "csv-is-a-folder", "plots-is-a-file", "out-is-a-file"])
def test_a_report_folder_with_the_wrong_shapes_keeps_the_old_report(cli, workdir, made, fault):
    url = f"sqlite:///{made[0]}"
    out = workdir / "out"
    assert cli("report", "--storage", url, "--out", str(out)).code == 0
    if fault == "html-is-a-folder":
        (out / "report.html").unlink()
        (out / "report.html").mkdir()
    elif fault == "csv-is-a-folder":
        (out / "trials.csv").unlink()
        (out / "trials.csv").mkdir()
    elif fault == "plots-is-a-file":
        subprocess.run(["rm", "-r", str(out / "plots")], check=True)
        (out / "plots").write_text("not a folder")
    else:
        subprocess.run(["rm", "-r", str(out)], check=True)
        out.write_text("a file")
    before = fingerprint(workdir)
    assert_one_line(cli("report", "--storage", url, "--out", str(out)), str(out))
    assert fingerprint(workdir) == before


def test_a_full_disk_leaves_the_old_report_intact(cli, workdir, made):
    from tests.safety.test_faults import fill, mount_tmpfs

    disk = workdir / "disk"
    mount_tmpfs(disk, "24m")  # the report set (HTML with plotly.js inline, CSVs, PNGs) is a few MiB
    try:
        url = f"sqlite:///{made[0]}"
        assert cli("report", "--storage", url, "--out", str(disk / "out")).code == 0
        fill(disk)
        (disk / "ballast").write_bytes((disk / "ballast").read_bytes()[:-20000])  # room for a few files only
        before = fingerprint(disk / "out")
        assert_one_line(cli("report", "--storage", url, "--out", str(disk / "out")), "previous report there is")
        assert fingerprint(disk / "out") == before
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.mark.parametrize(
    "name", ["<script>alert(1)</script>", "[click](javascript:alert(1))", "a|b|c", "`code` **bold** <img src=x>"]
)
def test_user_strings_are_escaped_in_markdown(cli, workdir, name):
    url = f"sqlite:///{workdir}/plain.db"
    study = optuna.create_study(study_name=name, storage=url)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    study.set_user_attr("note", name)
    result = cli("report", "--storage", url, "--format", "markdown")
    assert result.code == 0, result.err
    assert name not in result.out
    for raw in ("<script", "<img", "a|b"):
        assert raw not in result.out
    assert not re.search(r"(?<!\\)\]\(", result.out), "an unescaped Markdown link"
