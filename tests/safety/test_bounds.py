"""Absurd numbers are refused in one line before anything runs or is written: every size, count, duration
and rate of the spec, its flags and its searched ranges has a documented bound (lstmexp.bounds).

Also what a search says it did: each outcome counted on its own (a diverged trial is not "done"), and
only the trials this command ran counted as run now.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from lstmexp.bounds import BOUNDS, MAX_SIZE, shown
from lstmexp.search import run_search
from tests.hostile import QUICK_SPEC, assert_one_line, fingerprint
from tests.search_specs import TINY, journal, tiny
from tests.trial.test_run import make_trials_diverge, raise_oom_in_forward

# Fields set directly by `-o path=value` (the split's row counts are a section of their own, below).
PLAIN_FIELDS = sorted(p for p in BOUNDS if not p.startswith(("search.space.", "data.split.rows.")))
QUICK_RUN = ["-o", "data.rows=400", "-o", "train.epochs=1", "-o", "train.device=cpu", "-o", "train.warmup_iters=1"]


def above(path: str) -> str:
    """A value just past the field's bound, as the user would type it."""
    bound = BOUNDS[path]
    return str(int(bound.high) + 1) if bound.integer else repr(bound.high * 10)


@pytest.mark.parametrize("path", PLAIN_FIELDS)
def test_every_bounded_field_refuses_a_value_past_its_bound_naming_the_fix_as_typed(cli, workdir, path):
    line = assert_one_line(cli("search", "-o", f"{path}={above(path)}"), path)
    bound = BOUNDS[path]
    assert f"above the bound {shown(bound.high)}" in line
    assert f"use -o {path}={shown(bound.high)} or less" in line
    assert not (workdir / "results").exists()  # nothing written


@pytest.mark.parametrize("path", ["train.epochs", "model.num_layers", "train.lr", "search.trials"])
def test_a_value_past_its_bound_in_a_spec_file_names_the_field_and_the_bound(cli, workdir, path):
    head, _, name = path.partition(".")
    (workdir / "spec.yaml").write_text(f"{head}:\n  {name}: {above(path)}\n")
    line = assert_one_line(cli("run", "spec.yaml"), path)
    assert f"set {path} to {shown(BOUNDS[path].high)} or less" in line


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("train.epochs=9223372036854775808", "train.epochs: 9223372036854775808 is above the bound 100000"),
        ("train.warmup_iters=9223372036854775808", "train.warmup_iters: 9223372036854775808 is above the bound"),
        ("train.lr=1e308", "train.lr: 1e+308 is above the bound 10"),
        ("train.weight_decay=1e308", "train.weight_decay: 1e+308 is above the bound 1"),
        ("model.num_layers=50000", "model.num_layers: 50000 is above the bound 64"),
        ("train.repeats=100000", "train.repeats: 100000 is above the bound 100"),
        ("data.split.rows={train: 2000000000, val: 10, test: 10}", "data.split.rows.train: 2000000000 is above"),
    ],
)
def test_the_named_absurd_values_are_refused_before_training(cli, workdir, override, needle):
    assert_one_line(cli("run", "--batch-size", "16", "--time-step", "4", "--hidden-size", "4", "-o", override), needle)


@pytest.mark.parametrize(
    ("path", "space"),
    [
        ("model.num_layers", "{low: 1, high: 100000}"),
        ("train.epochs", "{low: 1, high: 9223372036854775808}"),
        ("train.lr", "{low: 1e-4, high: 1e308, scale: log}"),
        ("train.weight_decay", "[0.0, 1e308]"),
        ("train.warmup_iters", "{low: 0, high: 1000000}"),
        ("data.horizon", "{low: 1, high: 1000000}"),
    ],
)
def test_a_searched_range_past_the_fields_bound_is_refused_before_anything_is_written(cli, workdir, path, space):
    storage = workdir / "s.db"
    line = assert_one_line(cli("search", "--storage", f"sqlite:///{storage}", "-o", f"search.space.{path}={space}"),
                           f"search.space.{path}:")
    assert f"is above the bound {shown(BOUNDS[path].high)}" in line and "or less" in line
    assert not storage.exists() and not (workdir / "results").exists()


@pytest.mark.parametrize(
    ("command", "flag", "path"),
    [
        ("run", "--batch-size", "train.batch_size"),
        ("run", "--time-step", "data.time_step"),
        ("run", "--hidden-size", "model.hidden_size"),
        ("run", "--epochs", "train.epochs"),
        ("run", "--repeats", "train.repeats"),
        ("run", "--seed", "train.seed"),
        ("search", "--trials", "search.trials"),
        ("search", "--repeats", "train.repeats"),
        ("search", "--timeout", "search.max_minutes"),
        ("search", "--seed", "train.seed"),
    ],
)
def test_every_numeric_flag_has_its_fields_bound_and_names_itself(cli, workdir, command, flag, path):
    line = assert_one_line(cli(command, flag, above(path)), flag)
    assert f"use {flag} {shown(BOUNDS[path].high)} or less" in line
    assert not (workdir / "results").exists()


def test_huge_flag_values_from_the_report_are_refused(cli, workdir):
    assert_one_line(cli("search", "--trials", "9223372036854775808"), "--trials")
    assert_one_line(cli("run", "--repeats", "100000"), "--repeats 100 or less")
    assert_one_line(cli("run", "--hidden-size", "2000000"), f"--hidden-size {MAX_SIZE} or less")
    assert_one_line(cli("run", "--batch-size", "9223372036854775808"), "--batch-size")


@pytest.mark.parametrize(
    ("sizes", "more", "needle"),
    [
        # weights, gradients and Adam's state of these models cannot fit any machine's memory
        ((16, 4, MAX_SIZE), [], "use at most --hidden-size"),
        ((16, 4, 2**17), ["-o", "model.num_layers=64"], "use at most --hidden-size"),
        # activations alone: 2^20 windows of 64 steps of 4096 units
        ((MAX_SIZE, 64, 4096), [], "lower --batch-size or --time-step"),
    ],
)
def test_run_checks_its_configuration_against_the_machines_memory_first(cli, workdir, sizes, more, needle):
    batch, steps, hidden = (str(size) for size in sizes)
    line = assert_one_line(cli("run", "-o", "train.device=cpu", "--batch-size", batch, "--time-step", steps,
                               "--hidden-size", hidden, *more), needle)
    assert "needs" in line and "this machine has" in line


def test_a_searched_layer_count_counts_toward_the_largest_model(cli, workdir):
    line = assert_one_line(cli("search", "-o", "search.space.hidden_size=[8192]",
                               "-o", "search.space.model.num_layers={low: 1, high: 64}"), "hidden_size 8192 with 64")
    assert "lower search.space.hidden_size to at most" in line


@pytest.mark.parametrize("batch", ["277", "1000", str(MAX_SIZE // 4)])
def test_run_refuses_a_batch_larger_than_its_training_windows(cli, workdir, batch):
    # 400 rows: 280 train rows, 276 windows of 4 steps plus the horizon
    line = assert_one_line(cli("run", *QUICK_RUN, "--batch-size", batch, "--time-step", "4", "--hidden-size", "4"),
                           "training windows")
    assert "use at most --batch-size 276" in line


@pytest.mark.parametrize("warmup", ["18", "500", "10000"])
def test_run_refuses_a_warm_up_that_outlasts_its_run(cli, workdir, warmup):
    # 276 windows in batches of 16: 18 steps in the one epoch
    line = assert_one_line(cli("run", *QUICK_RUN, "-o", f"train.warmup_iters={warmup}", "--batch-size", "16",
                               "--time-step", "4", "--hidden-size", "4"), f"train.warmup_iters {warmup}")
    assert "18 training steps" in line and "use -o train.warmup_iters=17 or less" in line


def test_a_search_whose_longest_run_is_all_warm_up_is_refused_before_writing(cli, workdir):
    storage = workdir / "s.db"
    result = cli("search", *QUICK_RUN[:-2], "-o", "train.warmup_iters=40", "--storage", f"sqlite:///{storage}",
                 "-o", "search.space.batch_size=[16, 32]", "-o", "search.space.time_step=[4]")
    assert_one_line(result, "train.warmup_iters 40 is not below the 18 training steps of batch_size 16")
    assert not storage.exists()


def quick_spec(workdir: Path) -> Path:
    path = workdir / "quick.yaml"
    path.write_text(QUICK_SPEC)
    return path


def test_a_diverged_trial_is_counted_as_diverged_not_as_done(cli, workdir, monkeypatch):
    make_trials_diverge(monkeypatch)
    result = cli("search", str(quick_spec(workdir)), "--storage", f"sqlite:///{workdir / 's.db'}")
    assert result.code == 0, result.err
    assert "1/1 trials finished: 0 complete, 1 diverged; 1 run now (1 diverged)" in result.err
    assert "trials done" not in result.err


def test_the_summary_counts_complete_pruned_and_each_failure_separately(cli, workdir, monkeypatch):
    raise_oom_in_forward(monkeypatch, from_batch=32)
    result = cli("search", str(quick_spec(workdir)), "--storage", f"sqlite:///{workdir / 's.db'}", "--trials", "2",
                 "--sampler", "grid", "-o", "search.space.batch_size=[16, 32]")
    assert result.code == 0, result.err
    assert "2/2 trials finished: 1 complete, 1 oom; 2 run now (1 complete, 1 oom)" in result.err


def test_concurrent_searches_each_count_only_the_trials_they_ran(tmp_path):
    """Two `lstmexp search` processes on one study (as two terminals run them): "N run now" is each one's own.

    Processes, not threads: torch's profiler (the tensor peak) is process-wide and not thread-safe."""
    url = journal(tmp_path)
    run_search(tiny("shared", "search.trials=1", "search.sampler=random"), url)  # the study exists, one trial in
    settings = (*TINY, "study=shared", "search.trials=4", "search.sampler=random")
    overrides = [part for setting in settings for part in ("-o", setting)]
    command = [sys.executable, "-m", "lstmexp", "search", *overrides, "--storage", url]
    searches = [subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
    outputs = [search.communicate(timeout=600) for search in searches]
    assert all(search.returncode == 0 for search in searches), [err[-800:] for _, err in outputs]
    ran = [int(re.search(r"; (\d+) run now", out + err).group(1)) for out, err in outputs]
    assert sum(ran) == 3, ran  # the three trials after the first, each counted by the search that ran it


def test_a_resumed_search_counts_only_its_own_trials(tmp_path):
    url = journal(tmp_path)
    first = run_search(tiny("resumed", "search.trials=2"), url)
    second = run_search(tiny("resumed", "search.trials=3"), url)
    assert (first.ran_now, second.ran_now, second.done) == (2, 1, 3)
    assert second.outcomes == {"complete": 3} and second.ran_outcomes == {"complete": 1}


def test_a_folder_is_untouched_by_every_refusal(cli, workdir):
    (workdir / "keep.txt").write_text("mine")
    before = fingerprint(workdir)
    for args in (["search", "--trials", "100001"], ["search", "-o", "model.num_layers=65"],
                 ["run", "--hidden-size", str(MAX_SIZE)], ["search", "-o", "search.space.train.lr=[1, 11]"]):
        assert cli(*args).code == 2
    assert fingerprint(workdir) == before


def test_the_safety_docs_table_every_bound():
    section = (Path(__file__).resolve().parents[2] / "docs" / "safety.md").read_text().split("## Bounds", 1)[1]
    for path, bound in BOUNDS.items():
        row = next((line for line in section.splitlines() if line.startswith(f"| `{path}`")), None)
        assert row is not None, f"{path} is not in docs/safety.md's Bounds table"
        assert f"| {shown(bound.high)} |" in row, row
