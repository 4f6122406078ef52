"""The first hour of a new user, run through the real command line.

A user's own CSV (weekly dates with a 59-week hole, an extra numeric column and a YEAR column) is
searched with the README's example right after the default search, as the README tells them to.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmexp.spec import load_spec
from lstmexp.storage.locate import name_from_data
from tests.conftest import REPO

FAST = ["--trials", "2", "-o", "train.epochs=1", "-o", "search.space.batch_size=[32]"]


def readme_example() -> list[str]:
    """The README's `lstmexp search -o data.path=... -o data.target=...` example, as arguments."""
    text = (REPO / "README.md").read_text()
    found = re.search(r"`lstmexp (search -o data\.path=[^`]+)`", text)
    assert found, "the README lost its example of a search on the user's own file"
    return shlex.split(found.group(1))


def write_users_series(path_name: str, target: str) -> None:
    """A public-like weekly series: a date column, 59 missing weeks, a temperature and a YEAR column."""
    rng = np.random.default_rng(0)
    dates = pd.date_range("2000-01-02", periods=420, freq="W")
    steps = np.arange(len(dates))
    frame = pd.DataFrame({
        "date": dates.strftime("%Y-%m-%d"),
        target: 350 + steps * 0.03 + 3 * np.sin(2 * np.pi * steps / 52) + rng.normal(0, 0.3, len(dates)),
        "temp": rng.normal(10, 5, len(dates)),
        "YEAR": dates.year,
    })
    frame.drop(index=range(100, 159)).to_csv(path_name, index=False)


def test_readme_example_works_right_after_the_default_search(cli, workdir):
    default = cli("search", str(REPO / "experiments/default.yaml"), "--trials", "1", "-o", "train.epochs=1",
                  "-o", "train.max_samples=2000")
    assert default.code == 0, default.err
    args = readme_example()
    path_name = next(a.split("=", 1)[1] for a in args if a.startswith("data.path="))
    target = next(a.split("=", 1)[1] for a in args if a.startswith("data.target="))
    write_users_series(path_name, target)
    stem = path_name.rsplit(".", 1)[0]

    result = cli(*args, *FAST)
    assert result.code == 0, result.err
    assert f"study {stem} (named after {path_name}; choose a name with --study)" in result.err
    assert f"inputs (mode S): {target}; predicting {target}; not used: temp, YEAR" in result.err
    assert "note: 59 missing weeks in 'date' between 2000-01-02 and 2008-01-13" in result.err
    assert f"study {stem}: 2/2 trials finished: 2 complete; 2 run now (2 complete)" in result.err
    report = cli("report", "--study", stem, "--format", "json")
    assert report.code == 0, report.err


def test_a_named_study_keeps_its_name():
    named = load_spec(None, ["data.path=x.csv", "data.target=y", "study=mine"])
    assert name_from_data(named) is None
    unnamed = load_spec(None, ["data.path=data/CO2 weekly (v2).csv", "data.target=y"])
    renamed = name_from_data(unnamed)
    assert renamed is not None and renamed.study == "CO2_weekly__v2_"
    assert name_from_data(load_spec(None, [])) is None  # built-in data keeps `default`


def test_features_switch_the_default_mode_to_ms(cli, workdir):
    write_users_series("series.csv", "co2")
    result = cli("search", "-o", "data.path=series.csv", "-o", "data.target=co2", "-o", "data.features=[temp]",
                 *FAST[:2], "-o", "train.epochs=1", "-o", "search.space.batch_size=[32]", "--study", "ms")
    assert result.code == 0, result.err
    assert "inputs (mode MS): temp, co2; predicting co2; not used: YEAR" in result.err
    assert "study ms (named after" not in result.err


def test_a_missing_study_is_found_in_the_workers_journal(cli, tiny_spec):
    journal = "journal:///results/lstmexp.journal"  # where --workers K puts a study by default
    assert cli("search", str(tiny_spec), "--storage", journal, "--trials", "1").code == 0
    result = cli("report", "--study", "tiny")
    assert result.code == 2
    assert result.err.strip() == (
        f"error: study 'tiny' is not in sqlite:///results/lstmexp.db; it is in {journal}: add --storage {journal}"
    )
    unnamed = cli("report")  # the default SQLite file was never created: the journal's studies are named
    assert unnamed.code == 2 and unnamed.err.strip().endswith(f"studies tiny are in {journal}: add --storage {journal}")
    assert cli("report", "--study", "tiny", "--storage", journal, "--format", "json").code == 0
    nowhere = cli("report", "--study", "nowhere", "--storage", journal)
    assert nowhere.code == 2 and "no study 'nowhere'" in nowhere.err  # not found anywhere: the plain message


def test_workers_say_where_the_study_goes(cli, tiny_spec):
    journal = "journal:///results/lstmexp.journal"
    assert cli("search", str(tiny_spec), "--storage", journal, "--trials", "1").code == 0
    # The study already holds its target: the workers start, find nothing to do and stop.
    result = cli("search", str(tiny_spec), "--workers", "2", "--trials", "1")
    assert result.code == 0, result.err
    assert (f"--workers 2: the study goes to {journal} (several writers lock SQLite), not "
            f"sqlite:///results/lstmexp.db; report it with --storage {journal}") in result.err


def command_paths() -> list[list[str]]:
    return [[], ["search"], ["run"], ["report"], ["datasets"], ["datasets", "describe"]]


def help_text(path: list[str], columns: int) -> str:
    from click.testing import CliRunner

    from lstmexp.cli.main import cli as group

    result = CliRunner().invoke(group, [*path, "--help"], prog_name="lstmexp", env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "lstmexp")
def test_every_help_has_examples_and_no_word_is_cut(path):
    wide = help_text(path, 1000)  # click caps the width at max_content_width (100): no cuts there either
    assert "Examples:\n    lstmexp " in wide  # the \b paragraph keeps one example per line
    for columns in (80, 100):
        text = help_text(path, columns)
        assert not re.search(r"\w\.\.\.", text.replace("[ARGS]...", "")), text  # click's mark of a cut summary
        assert max(len(line) for line in text.splitlines()) <= columns, text
        assert text.split() == wide.split()  # only line breaks move, never a word or part of one


def test_shell_completion_works_as_documented():
    import subprocess
    import sys

    env = {"_LSTMEXP_COMPLETE": "bash_source", "PATH": str(Path(sys.executable).parent)}
    script = subprocess.run([str(Path(sys.executable).parent / "lstmexp")], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert script.returncode == 0 and "_lstmexp_completion" in script.stdout, script.stderr
    assert "_LSTMEXP_COMPLETE=bash_source lstmexp" in (REPO / "README.md").read_text()
