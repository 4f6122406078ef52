"""The ETT table script: published figures only beside runs on the data file they were published for."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from types import ModuleType
from typing import Any

import optuna
import pytest

from lstmexp.trial import record
from tests.conftest import REPO


def ett_table() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ett_table", REPO / "experiments" / "ett_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def section(cls: type, **values: Any) -> Any:
    """A record section with the given figures, every other field recorded without a value."""
    unset = {f.name: None for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING
             and f.default_factory is dataclasses.MISSING}
    return cls(**{**unset, **values})


def trial_attrs(test_mse: float) -> dict[str, Any]:
    """A trial's user attributes as lstmexp writes them: the one record attribute and the headline figures."""
    accuracy = record.Accuracy(val_loss_best=0.09, val_loss_final=None, train_loss_final=None, test_loss=None,
                               val=section(record.SplitErrors), test=section(record.SplitErrors, mse=test_mse, mae=0.2))
    measured = record.Measured(
        speed=section(record.Speed), contention=section(record.Contention, load_avg_1m=3.0),
        memory=section(record.Memory), accuracy=accuracy, training=section(record.Training),
        curves=section(record.Curves), repeats=section(record.Repeats), setup=section(record.Setup, lstm_steps=14),
        environment=section(record.Environment))
    identity = record.Identity(config=json.dumps({"time_step": 336, "model.chunk": 24}), cpu_s=60.0)
    return record.TrialRecord(identity, measured).attributes()


def stored_study(storage: str, name: str, path: str, mode: str, horizon: int, test_mse: float) -> None:
    """A study as lstmexp stores one: the spec's data section and one complete trial with its record."""
    study = optuna.create_study(study_name=name, storage=storage)
    study.set_user_attr("lstmexp_spec", {"data": {"path": path, "mode": mode, "horizon": horizon}})
    attrs = trial_attrs(test_mse)
    assert "test_mse" not in attrs  # the figures are inside the record, as a search stores them
    distributions = {"x": optuna.distributions.FloatDistribution(0, 1)}
    study.add_trial(optuna.trial.create_trial(value=0.09, params={"x": 0.5}, distributions=distributions,
                                              user_attrs=attrs))


@pytest.fixture
def storage(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ett.db'}"


def row(storage: str, horizon: int, mode: str = "S") -> list[str]:
    return ett_table().horizon_row(storage, horizon, mode, {"S": "ett_s_", "M": "ett_m_"}[mode])


def test_an_etth1_run_stands_beside_etth1s_published_figures_with_its_verdict(storage):
    stored_study(storage, "ett_s_96", "../shared/data/ETTh1.csv", "S", 96, 0.0525)
    stored_study(storage, "ett_s_192", "/data/ETTh1.csv", "S", 192, 0.0700)
    met, missed = row(storage, 96), row(storage, 192)
    assert met[1] == "ETTh1" and "**0.0525**" in met and "14 LSTM steps" in met[-1] and "1.0" in met
    assert "0.053" in met and "0.056" in met and met[-2:-1] == ["met"]
    assert "0.069" in missed and missed[-2:-1] == ["missed"] and "+1.4%" in missed


def test_another_ett_file_is_shown_without_etth1s_published_figures(storage):
    stored_study(storage, "ett_s_96", "/elsewhere/ETTh2.csv", "S", 96, 0.1318)
    cells = row(storage, 96)
    assert cells[1] == "ETTh2" and "**0.1318**" in cells
    published = {f"{v:.3f}" for table in ett_table().PUBLISHED["ETTh1"].values() for m in table.values()
                 for v in m.values()}
    assert not published & set(cells)
    assert "no published figure" in cells and "met" not in cells and "missed" not in cells


def test_the_multivariate_columns_stay_aligned_when_a_method_has_no_figure_at_a_horizon(storage):
    stored_study(storage, "ett_m_720", "../shared/data/ETTh1.csv", "M", 720, 0.46)
    cells = row(storage, 720, "M")
    header = ett_table().table(storage, "M", [720], "ett_m_")[0].strip("| ").split(" | ")
    assert len(cells) == len(header)
    assert cells[header.index("SegRNN MSE")] == "" and cells[header.index("DLinear MSE")] == "0.472"


def test_a_study_that_ran_another_mode_or_horizon_than_its_name_says_is_not_compared(storage):
    stored_study(storage, "ett_s_96", "../shared/data/ETTh1.csv", "M", 96, 0.37)
    cells = row(storage, 96)
    assert "0.053" not in cells and "not comparable" in cells[-1]


def test_the_table_says_which_horizons_have_not_run(storage):
    stored_study(storage, "ett_s_96", "../shared/data/ETTh1.csv", "S", 96, 0.0531)
    lines = ett_table().table(storage, "S", [96, 336], "ett_s_")
    assert len(lines) == 4 and "not run yet (no study ett_s_336)" in lines[3] and "ETTh1" in lines[2]


def test_the_table_reads_any_storage_lstmexp_writes_and_refuses_a_missing_one_in_one_line(tmp_path):
    import subprocess
    import sys

    from lstmexp.storage.urls import open_storage

    journal = f"journal:///{tmp_path / 'ett.journal'}"
    optuna.create_study(study_name="ett_m_96", storage=open_storage(journal, create=True))
    script = [sys.executable, str(REPO / "experiments" / "ett_table.py"), "--mode", "M", "--horizons", "96"]
    done = subprocess.run([*script, "--storage", journal], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "| 96 | " in done.stdout and "study ett_m_96" in done.stdout  # the journal was read: its study is named
    missing = subprocess.run([*script, "--storage", f"journal:///{tmp_path / 'none.journal'}"], capture_output=True,
                             text=True, check=False)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "does not exist" in missing.stderr
