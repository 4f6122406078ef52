"""The trial record: written once per trial as a few attributes, read back by one reader, old studies included."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import optuna
from optuna.trial import TrialState

from lstmexp.report import load_trials
from lstmexp.report.claims import CONTEXT_COLUMNS
from lstmexp.search import run_search
from lstmexp.storage.urls import load_existing_study
from lstmexp.trial.record import SCHEMA_VERSION, SECTIONS, Failure, Identity, SplitErrors, trial_figures
from lstmexp.vocabulary import names
from tests.search_specs import tiny

FIXTURES = Path(__file__).parents[1] / "fixtures"
OLD_STUDY = FIXTURES / "written-before-trial-record.db"  # written by lstmexp before the record existed
OLD_REPORT = FIXTURES / "written-before-trial-record.report.json"  # its report as that version printed it


def test_a_study_written_before_the_record_reads_and_reports_as_it_did(tmp_path, cli):
    copy = tmp_path / "old.db"
    shutil.copy(OLD_STUDY, copy)
    url = f"sqlite:///{copy}"
    study = optuna.load_study(study_name="before-record", storage=url)
    for trial in study.get_trials():
        assert names.RECORD not in trial.user_attrs  # the old layout: a user attribute per figure
        assert trial_figures(trial.user_attrs) == trial.user_attrs
    result = cli("report", "--storage", url, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    report["storage"] = "STORAGE"
    assert report == json.loads(OLD_REPORT.read_text())


def test_a_search_writes_the_record_once_and_every_figure_reads_back(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    run_search(tiny("rec", "search.trials=2", "train.repeats=2", "train.target_val_loss=100"), url)
    study = load_existing_study(url, "rec")
    frame = load_trials(study, study._storage).frame
    for trial in study.get_trials(states=(TrialState.COMPLETE,)):
        assert set(trial.user_attrs) == {names.RECORD, names.WORKER, *names.HEADLINE}
        assert trial.user_attrs[names.RECORD][names.RECORD_SCHEMA] == SCHEMA_VERSION
        figures = trial_figures(trial.user_attrs)
        for name in names.HEADLINE:  # the plain copies dashboards sort by are the record's figures
            assert trial.user_attrs[name] == figures[name]
        assert figures[names.REPEATS] == 2 and figures[names.EPOCHS_TO_TARGET] == 1
        assert set(names.spread_keys(names.VAL_LOSS_BEST)) <= set(figures)
        assert len(figures[names.curve_key(names.VAL_LOSS)]) == 1
        assert figures[names.CONFIG] == json.dumps(trial.params, sort_keys=True, separators=(",", ":"))
        assert figures[names.CPU_S] > 0 and figures[names.TRAIN_SEED] == 0
        row = frame[frame["number"] == trial.number].iloc[0]
        assert row[names.TEST_MSE] == figures[names.TEST_MSE] and row[names.CONTENDED] == figures[names.CONTENDED]


def test_a_failure_keeps_its_reason_plain_and_its_details_in_the_record(tmp_path):
    url = f"sqlite:///{tmp_path}/f.db"
    run_search(tiny("cap", "search.constraints.max_memory=40KiB", "search.trials=2"), url)
    failed = [t for t in load_existing_study(url, "cap").get_trials() if t.state == TrialState.FAIL]
    assert failed
    for trial in failed:
        assert trial.user_attrs[names.FAILURE_REASON] == "infeasible"  # counted toward the target from it
        figures = trial_figures(trial.user_attrs)
        assert "exceeds max_memory" in figures[names.FAILURE_DETAIL]
        assert figures[names.ACTIVATION_MEM_EST_BYTES] > 40 * 1024 and names.SAMPLES_PER_S not in figures


def test_every_recorded_figure_is_named_in_the_vocabulary():
    vocabulary = {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}
    fields = {f.name for cls in (*SECTIONS.values(), Identity, Failure) for f in dataclasses.fields(cls)}
    fields -= {"val", "test", "spread"}  # nested: split errors and the spreads, named below
    fields = {f for f in fields if f not in {x.name for x in dataclasses.fields(SplitErrors)}}
    assert fields <= vocabulary
    assert {f.name for f in dataclasses.fields(SplitErrors)} <= set(names.SPLIT_ERRORS) | {names.ACCURACY}


def test_the_claims_group_trials_only_by_settings_every_record_holds(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    run_search(tiny("ctx", "search.trials=1"), url)
    study = load_existing_study(url, "ctx")
    frame = load_trials(study, study._storage).frame
    missing = [column for column in CONTEXT_COLUMNS if column not in frame.columns]
    assert not missing, f"claims would group by columns no trial records: {missing}"
    assert frame[list(CONTEXT_COLUMNS)].notna().all(axis=None)
