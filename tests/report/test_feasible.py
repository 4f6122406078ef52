"""Constraints in the report (report/feasible.py): no format recommends, ranks or reproduces an infeasible trial,
every format counts the infeasible trials per constraint, and says plainly when none is feasible."""

from __future__ import annotations

import json
import re

import optuna
import pytest

from lstmexp.report.load import load_from_rdb, load_from_study, load_sqlite
from lstmexp.spec import load_spec
from lstmexp.storage.optuna_compat import read_rdb_trials, read_sqlite_study
from tests.report_studies import make_study, make_trial

KIB = 1024
LIMITS = ["search.constraints.max_memory=400KiB", "search.constraints.min_samples_per_s=500"]
FORMATS = ("table", "markdown", "html", "json")


def constrained(batch: int, step: int, loss: float, speed: float, peak: int, **extra):
    """A trial whose constraint values are what search/objective.py records for LIMITS."""
    values = {"max_memory": float(peak - 400 * KIB), "min_samples_per_s": float(500 - speed)}
    return make_trial(batch, step, val_loss_best=loss, samples_per_s=speed, peak_mem_bytes=peak,
                      constraints=values, **extra)


def stored(workdir, trials, overrides=LIMITS):
    url = f"sqlite:///{workdir}/c.db"
    spec = load_spec(None, ["train.epochs=4", 'train.device="cpu"', *overrides]).to_dict()
    make_study(trials, storage=url, spec=spec)
    return url


def mixed_trials():
    """The most accurate (#0) and the fastest (#3) trials break max_memory, #4 breaks min_samples_per_s."""
    return [
        constrained(16, 8, 0.10, 5000, 459366),  # 448.6 KiB: most accurate, fastest within 10%, on the front
        constrained(32, 8, 0.20, 1000, 300 * KIB),
        constrained(64, 8, 0.21, 2000, 350 * KIB),
        constrained(128, 16, 0.15, 9000, 900 * KIB),
        constrained(256, 16, 0.12, 400, 200 * KIB),
    ]


def commands(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if "lstmexp run" in line]


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_recommends_or_reproduces_an_infeasible_trial(cli, workdir, fmt):
    url = stored(workdir, mixed_trials())
    result = cli("report", "--storage", url, "--format", fmt)
    assert result.code == 0, result.err
    if fmt == "json":
        document = json.loads(result.out)
        picks = document["recommendations"]
        assert [p["trial"]["number"] for p in picks] == [1, 2]  # most accurate, fastest within 10%: feasible
        assert {r["number"] for r in document["pareto"]} <= {1, 2}
        assert {r["number"] for r in document["best"]} == {1, 2}
        assert {r["trial"] for r in document["configurations"]} == {1, 2}
        shown = [p["command"] for p in picks]
    else:
        shown = commands(result.out)
    assert shown, result.out
    assert all(re.search(r"--batch-size (32|64) ", c) for c in shown), shown
    for infeasible in (16, 128, 256):
        assert not any(f"--batch-size {infeasible} " in c for c in shown), (infeasible, shown)


@pytest.mark.parametrize("fmt", ("table", "markdown", "html"))
def test_every_format_counts_the_infeasible_trials_per_constraint(cli, workdir, fmt):
    url = stored(workdir, mixed_trials())
    out = " ".join(cli("report", "--storage", url, "--format", fmt).out.split())  # the terminal wraps at 100
    assert "constraints: 3 trials infeasible" in out
    assert "search.constraints.max_memory ≤ 400.0 KiB: 2 trials" in out
    assert "search.constraints.min_samples_per_s ≥ 500 samples/s: 1 trial" in out
    assert "no trial is feasible" not in out


def test_json_feasibility_section_keeps_the_other_keys(cli, workdir):
    document = json.loads(cli("report", "--storage", stored(workdir, mixed_trials()), "--format", "json").out)
    feasibility = document["feasibility"]
    assert feasibility["by_constraint"] == {"max_memory": 2, "min_samples_per_s": 1}
    assert feasibility["infeasible"] == 3 and feasibility["infeasible_trials"] == [0, 3, 4]
    assert feasibility["constraints"] == {"max_memory": 400 * KIB, "min_samples_per_s": 500}
    assert feasibility["none_feasible"] is False and feasibility["relax"] == {}
    assert {"recommendations", "pareto", "best", "trials", "banners", "claims"} <= set(document)
    infeasible = {row["number"]: row["infeasible"] for row in document["trials"]}
    assert infeasible == {0: "max_memory", 1: "", 2: "", 3: "max_memory", 4: "min_samples_per_s"}


@pytest.mark.parametrize("fmt", ("table", "markdown", "html", "json"))
def test_none_feasible_says_so_and_names_what_to_relax(cli, workdir, fmt):
    trials = [constrained(16, 8, 0.10, 5000, 459366),  # needs max_memory 449KiB: the least relaxation
              constrained(32, 8, 0.20, 1000, 900 * KIB),
              constrained(64, 8, 0.30, 300, 300 * KIB),  # feasible on memory, too slow
              make_trial(128, 8, state="fail", failure_reason="infeasible",
                         constraints={"max_memory": float(600 * KIB)})]
    result = cli("report", "--storage", stored(workdir, trials), "--format", fmt)
    assert result.code == 0, result.err
    if fmt == "json":
        document = json.loads(result.out)
        assert document["feasibility"]["none_feasible"] is True
        assert document["feasibility"]["relax"] == {"search.constraints.max_memory": "449KiB"}
        assert document["feasibility"]["relax_admits_trial"] == 0
        assert all(r["trial"] is None and r["command"] == "" for r in document["recommendations"])
        assert document["pareto"] == [] and document["best"] == [] and document["configurations"] == []
        out = " ".join(document["feasibility"]["lines"])
    else:
        assert not commands(result.out)
        out = " ".join(result.out.split())  # the terminal wraps at 100 columns
    assert "no trial is feasible: all 3 completed trials broke a constraint, so nothing is recommended" in out
    assert "-o search.constraints.max_memory=449KiB" in out
    assert "constraints: 4 trials infeasible" in out


def test_every_loader_reads_the_same_constraint_values(workdir):
    storage = optuna.storages.RDBStorage(stored(workdir, mixed_trials()))
    study = optuna.load_study(study_name="known", storage=storage)
    frames = [load_from_study(study).frame, load_from_rdb(read_rdb_trials(storage, "known")).frame,
              load_sqlite(read_sqlite_study(workdir / "c.db", "known")).frame]
    wanted = ["number", "constraint:max_memory", "constraint:min_samples_per_s"]
    expected = [[t.number, t.constraints["max_memory"], t.constraints["min_samples_per_s"]] for t in study.trials]
    for frame in frames:
        assert frame[wanted].values.tolist() == expected


def test_a_real_search_too_slow_for_its_constraint_is_reported_with_the_speed_to_ask_for(cli, tiny_spec):
    url = f"sqlite:///{tiny_spec.parent}/real.db"
    searched = cli("search", str(tiny_spec), "--storage", url, "--trials", "2",
                   "-o", "search.constraints.min_samples_per_s=1e12")
    assert searched.code == 0, searched.err
    document = json.loads(cli("report", "--storage", url, "--format", "json").out)
    feasibility = document["feasibility"]
    assert feasibility["none_feasible"] is True and feasibility["by_constraint"] == {"min_samples_per_s": 2}
    admitted = next(t for t in document["trials"] if t["number"] == feasibility["relax_admits_trial"])
    fastest = max(t["samples_per_s"] for t in document["trials"])
    assert admitted["samples_per_s"] == fastest
    assert feasibility["relax"] == {"search.constraints.min_samples_per_s": str(int(fastest))}
    assert all(r["command"] == "" for r in document["recommendations"])


def test_studies_predict_and_kept_weights_name_a_feasible_best(workdir):
    """The one best of `studies`, predict's default trial and the kept weights: feasible trials only, as the report."""
    from lstmexp.report.configs import best_configuration
    from lstmexp.report.recommend import trials_to_keep

    stored(workdir, mixed_trials())
    loaded = load_sqlite(read_sqlite_study(workdir / "c.db", None))
    assert int(best_configuration(loaded.frame, loaded.distribution_json)["trial"]) == 1  # #0 breaks max_memory
    kept = trials_to_keep(loaded.frame, list(loaded.distribution_json or {}), best_k=5)
    assert kept and kept.isdisjoint({0, 3, 4})  # the infeasible trials' weights are never kept
