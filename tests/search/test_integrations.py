"""`--log-to mlflow|tensorboard`, read back from what the real library wrote."""

from __future__ import annotations

import importlib.util
import os

import pytest

from lstmexp.search import integrations


def needs(module: str) -> pytest.MarkDecorator:
    """Skip with the reason when the optional library is absent, except in CI, where the dev extra has it."""
    present = importlib.util.find_spec(module) is not None
    if not present and os.environ.get("CI") == "true":
        raise RuntimeError(f"CI=true but {module} is missing: it is in the dev extra (pip install -e '.[dev]')")
    return pytest.mark.skipif(not present, reason=f"{module} is not installed (pip install 'lstmexp[{module}]')")


def test_a_missing_library_is_one_line_naming_the_pip_command(cli, tiny_spec, workdir, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(integrations.importlib.util, "find_spec", lambda name: None if name == "mlflow" else real(name))
    result = cli("search", str(tiny_spec), "--log-to", "mlflow")
    assert result.code == 2
    assert result.err.strip().splitlines()[-1] == (
        "error: --log-to mlflow needs the mlflow package: pip install 'lstmexp[mlflow]'"
    )
    assert not (workdir / "results" / "lstmexp.db").exists()  # refused before any study was created


def test_log_to_needs_a_single_worker(cli, tiny_spec):
    result = cli("search", str(tiny_spec), "--workers", "2", "--log-to", "tensorboard")
    assert result.code == 2 and "--log-to tensorboard logs from the process that trains" in result.err


@needs("tensorboard")
def test_tensorboard_gets_curves_hparams_and_a_figure_per_trial(cli, tiny_spec, workdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = cli("search", str(tiny_spec), "--trials", "2", "--log-to", "tensorboard")
    assert result.code == 0, result.err
    assert "logging each trial to TensorBoard files in results/tensorboard/tiny" in result.err
    folders = sorted((workdir / "results" / "tensorboard" / "tiny").iterdir())
    assert [f.name for f in folders] == ["trial-0000", "trial-0001"]
    events = EventAccumulator(str(folders[0]), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    assert [s.step for s in events.Scalars("loss/val")] == [1, 2]  # tiny spec: 2 epochs
    assert [s.step for s in events.Scalars("loss/train")] == [1, 2]
    assert "loss_curves" in events.Tags()["images"]
    assert "final/val_loss_best" in events.Tags()["scalars"]  # the hparams summary's metrics


@needs("mlflow")
def test_mlflow_gets_one_run_per_trial_with_params_curves_and_figure(cli, tiny_spec, workdir, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    result = cli("search", str(tiny_spec), "--trials", "2", "--log-to", "mlflow")
    assert result.code == 0, result.err
    assert "logging each trial to MLflow at sqlite:///results/mlflow.db (experiment 'tiny'" in result.err
    client = MlflowClient(tracking_uri="sqlite:///results/mlflow.db")
    experiment = client.get_experiment_by_name("tiny")
    assert experiment is not None
    runs = sorted(client.search_runs([experiment.experiment_id]), key=lambda r: r.info.run_name)
    assert [r.info.run_name for r in runs] == ["trial 0", "trial 1"]
    for run in runs:
        assert set(run.data.params) >= {"batch_size", "time_step", "hidden_size"}
        assert run.data.params["hidden_size"] == "8"
        assert [m.step for m in client.get_metric_history(run.info.run_id, "val_loss")] == [1, 2]
        assert run.data.metrics["final/val_loss_best"] > 0
        assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["loss_curves.png"]
        assert run.info.status == "FINISHED"
