"""From an empty PostgreSQL database to a forecast, through the CLI alone: two workers search, a search of a
higher target resumes the study, then report, studies and predict read the same database (a first distributed run)."""

from __future__ import annotations

import csv
import json

import optuna
import pytest
from optuna.trial import TrialState

from lstmexp.spec import load_spec
from lstmexp.trial.record import trial_figures
from lstmexp.trial.run import cached_series
from tests.conftest import REPO, needs_postgres

SMOKE = str(REPO / "experiments" / "smoke.yaml")
# Seconds per trial: the smoke spec at its smallest (one thread per worker: two share the machine).
FAST = ["-o", "data.rows=600", "-o", "train.epochs=1", "-o", "train.warmup_iters=1", "-o", "train.threads=1",
        "-o", "search.space.hidden_size=[8]", "-o", "search.keep_best=1"]


def finished(url: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name="smoke", storage=url)
    return [t for t in study.get_trials() if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]


@pytest.mark.postgres
@needs_postgres()
def test_search_resume_report_studies_and_predict_on_an_empty_postgresql_database(cli, workdir, fresh_postgres):
    url = fresh_postgres
    first = cli("search", SMOKE, "--storage", url, "--workers", "2", "--trials", "2", *FAST)
    assert first.code == 0, first.err
    assert len(finished(url)) == 2
    assert "study smoke: 2/2 trials finished: 2 complete; 2 run now" in first.err

    resumed = cli("search", SMOKE, "--storage", url, "--trials", "3", *FAST)  # one process resumes the workers' study
    assert resumed.code == 0, resumed.err
    trials = finished(url)
    numbers = sorted(t.number for t in trials)  # the workers' two, then exactly one more, none lost or doubled
    assert len(numbers) == 3 and numbers[:2] == [0, 1]  # (a number a worker claimed, then skipped, may sit between)
    assert "study smoke: 3/3 trials finished: 3 complete; 1 run now" in resumed.err

    report = cli("report", "--storage", url, "--format", "json")
    assert report.code == 0, report.err
    document = json.loads(report.out)
    assert document["study"] == "smoke" and document["states"]["complete"] == 3
    # a worker that found the target already claimed ends its trial untrained, marked `skipped`
    assert all("skipped" in t for t in document["trials"] if t["state"] != "complete")
    best = next(t for t in trials if t.number == document["recommendations"][0]["trial"]["number"])

    studies = cli("studies", "--storage", url)
    assert studies.code == 0, studies.err
    listed = [row for row in table_records(studies.out) if row[0] == "smoke"]
    assert len(listed) == 1, studies.out
    everything = len(optuna.load_study(study_name="smoke", storage=url).trials)  # skipped ones included
    assert listed[0][1:3] == [str(everything), "3"], studies.out  # trials, complete
    assert f"(trial {best.number})" in listed[0][3], studies.out  # the report's best

    out = workdir / "forecast.csv"
    predicted = cli("predict", "smoke", "--trial", str(best.number), "--storage", url, "--out", str(out))
    assert predicted.code == 0, predicted.err
    forecast = list(csv.DictReader(out.open()))
    spec = load_spec(SMOKE, ["data.rows=600"])
    series = cached_series(spec.data.model_dump_json(), "cpu")
    windows = series.sample_starts("test", best.params["time_step"], spec.data.horizon).numel()
    assert len(forecast) == windows * spec.data.horizon > 0
    assert f"test MSE {trial_figures(best.user_attrs)['test_mse']:.6g}" in predicted.err


def table_records(text: str) -> list[list[str]]:
    """The rows of a rich table, a cell wrapped over several lines joined back into one."""
    records: list[list[str]] = []
    for line in text.splitlines():
        if "│" not in line:
            continue
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if cells[0] or not records:
            records.append(cells)
        else:
            records[-1] = [f"{a} {b}".strip() for a, b in zip(records[-1], cells, strict=False)]
    return records
