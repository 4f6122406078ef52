"""The command line end to end: search, resume, report in every format, run, and error handling."""

import json
import re
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from lstmexp.trial.record import trial_figures

REPO = Path(__file__).resolve().parents[2]


def test_help_imports_neither_torch_nor_optuna_nor_pandas():
    code = (
        "import sys\n"
        "from lstmexp.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "heavy = [m for m in ('torch', 'optuna', 'pandas') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "search" in done.stdout and "report" in done.stdout


def test_python_dash_m_works():
    done = subprocess.run([sys.executable, "-m", "lstmexp", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "lstmexp" in done.stdout


def test_search_then_resume_then_report_every_format(cli, tiny_spec, workdir):
    first = cli("search", str(tiny_spec), "--trials", "2")
    assert first.code == 0, first.err
    db = workdir / "results" / "lstmexp.db"
    assert db.exists()
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{db}")
    assert len(study.trials) == 2

    resumed = cli("search", str(tiny_spec))  # the spec asks for 3: one more trial
    assert resumed.code == 0, resumed.err
    assert "study tiny: 2/3" in resumed.err  # a live bar's "resuming ..." or the log line's "... done before"
    trials = optuna.load_study(study_name="tiny", storage=f"sqlite:///{db}").trials
    assert len(trials) == 3
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert complete, [t.state for t in trials]
    attrs = trial_figures(complete[0].user_attrs)
    for key in ("val_loss_best", "test_loss", "samples_per_s", "train_s_per_epoch", "iterations_per_epoch",
                "peak_mem_bytes", "param_count", "device"):
        assert key in attrs, key
    assert attrs["device"] == "cpu"
    assert attrs["samples_per_s"] > 0
    # CPU peak memory is clamped at 0 above the trial's starting level (a tiny model may not grow the
    # process), so `>= 0` would prove nothing: check it is a whole byte count, plausible, and says how.
    assert isinstance(attrs["peak_mem_bytes"], int) and attrs["peak_mem_bytes"] < 4 * 2**30
    assert attrs["peak_mem_method"]
    assert len(complete[0].intermediate_values) == 2  # val loss per epoch

    table = cli("report")
    assert table.code == 0, table.err
    assert "Configurations ranked" in table.out and "study tiny" in table.out
    assert "Trade-offs by batch_size" in cli("report", "--detail").out

    markdown = cli("report", "--format", "markdown")
    assert "# lstmexp report: tiny" in markdown.out
    assert "## Trade-offs by time_step (medians)" in markdown.out
    # a Markdown table whose first column is the searched value (short header "batch", see people.UNIT_HEADERS)
    assert re.search(r"^\| +batch +\|", markdown.out, re.M), markdown.out

    csv = cli("report", "--format", "csv")
    header, *rows = csv.out.strip().splitlines()
    assert header.startswith("number,state,batch_size,time_step,hidden_size")
    assert len(rows) == 3

    document = json.loads(cli("report", "--format", "json").out)
    assert document["study"] == "tiny"
    assert len(document["trials"]) == 3
    assert {row["batch_size"] for row in document["tradeoffs"]["batch_size"]} <= {16, 32}
    assert document["environment"]["torch"]


def test_run_json_prints_exactly_one_object(cli, tiny_spec):
    result = cli("run", str(tiny_spec), "--batch-size", "16", "--time-step", "4", "--repeats", "2", "--json")
    assert result.code == 0, result.err
    metrics = json.loads(result.out)
    assert metrics["batch_size"] == 16 and metrics["hidden_size"] == 8 and metrics["repeats"] == 2
    assert metrics["iterations_per_epoch"] == -(-metrics["train_samples_per_epoch"] // 16)  # C3: ceil(N / B)
    assert metrics["samples_per_s"] > 0


def test_run_requires_params_the_spec_searches(cli, tiny_spec):
    result = cli("run", str(tiny_spec), "--time-step", "4")
    assert result.code == 2
    assert result.err.strip() == (
        "error: --batch-size is required: the spec searches several batch_size values; pass e.g. --batch-size 64 "
        "(or -o train.batch_size=64)"
    )


def assert_one_line_error(result, needle):
    assert result.code == 2, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("search", "missing.yaml"), "spec file missing.yaml does not exist"),
        (("search", "-o", "train.epochs=0"), "train.epochs: Input should be greater than 0"),
        (("search", "--storage", "redis://localhost"), "unsupported storage scheme 'redis'"),
        (("search", "--storage", "nocolon"), "has no scheme"),
        (("search", "--trials", "0"), "0 is not in the range 1<=x<=100000"),
        (("search", "--bogus"), "No such option '--bogus'"),
        (("report", "--storage", "sqlite:///results/none.db"), "does not exist; run `lstmexp search` first"),
        (("report", "--format", "xml"), "'xml' is not one of"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_creates_nothing(cli, workdir, args, needle):
    result = cli(*args)
    assert_one_line_error(result, needle)
    assert not (workdir / "results").exists()


def test_report_unknown_study_lists_the_studies(cli, tiny_spec, workdir):
    assert cli("search", str(tiny_spec), "--trials", "1").code == 0
    db = workdir / "results" / "lstmexp.db"
    before = db.read_bytes()
    result = cli("report", "--study", "nope")
    assert_one_line_error(result, "no study 'nope'")
    assert "(studies there: tiny)" in result.err
    assert db.read_bytes() == before


def test_changed_spec_refuses_to_resume(cli, tiny_spec, workdir):
    assert cli("search", str(tiny_spec), "--trials", "1").code == 0
    result = cli("search", str(tiny_spec), "-o", "train.epochs=5")
    assert_one_line_error(result, "study 'tiny' was run with a different train (epochs changed)")


def test_debug_shows_the_traceback_with_the_password_masked(cli):
    result = cli("--debug", "search", "--storage", "postgresql://bob:hunter2@127.0.0.1:1/db", "--trials", "1",
                 "-o", "train.epochs=1")
    assert result.code == 2
    assert "Traceback" in result.err
    assert "hunter2" not in result.err and "bob:***@" in result.err
