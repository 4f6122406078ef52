"""One configuration end to end: repeats, hardware efficiency, precision checks, the preflight, OOM as data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lstmexp.trial.run as trial_module
from lstmexp.errors import SpecError, TrialFailure
from lstmexp.measure import bf16_autocast_supported, lstm_training_flops_per_sample
from lstmexp.spec import load_spec
from lstmexp.trial.run import check_spec_runs, run_trial
from tests.search_specs import sized

CPU = torch.device("cpu")
SMALL = ["data.rows=1200", "train.epochs=1", "train.device=cpu"]


def test_repeats_record_mean_std_and_cv():
    spec = load_spec(None, [*SMALL, "train.repeats=3"])
    metrics = run_trial(sized(spec, 64, 8, 16)).figures()
    assert metrics["repeats"] == 3
    for key in ("val_loss_best", "samples_per_s_train", "test_skill"):  # samples_per_s: the probe, once
        assert metrics[f"{key}_std"] > 0  # different seeds give different models, and timings differ
        assert metrics[f"{key}_cv"] == pytest.approx(metrics[f"{key}_std"] / abs(metrics[key]))


def test_trial_records_hardware_efficiency_and_time_to_target():
    spec = load_spec(None, [*SMALL, "train.epochs=2", "train.target_val_loss=100.0"])
    metrics = run_trial(sized(spec, 64, 8, 16)).figures()
    assert metrics["flops_per_sample"] == lstm_training_flops_per_sample(5, 16, 1, 8, 1, 1)
    assert metrics["achieved_gflops"] == pytest.approx(metrics["flops_per_sample"] * metrics["samples_per_s"] / 1e9)
    assert 0 < metrics["hw_efficiency_pct"] < 100
    assert metrics["epochs_to_target"] == 1  # any model beats a val MSE of 100
    assert 0 < metrics["time_to_target_s"] <= metrics["wall_s"]
    assert len(metrics["curve_grad_norm_mean"]) == 2


@pytest.mark.skipif(not bf16_autocast_supported(CPU), reason="this CPU cannot run an LSTM under bf16 autocast")
def test_bf16_autocast_runs_on_cpu():
    metrics = run_trial(sized(load_spec(None, [*SMALL, "train.amp=bf16"]), 64, 8, 16)).figures()
    assert np.isfinite(metrics["val_loss_best"])


def test_fp16_on_cpu_is_refused():
    with pytest.raises(SpecError, match="fp16 needs CUDA"):
        load_spec(None, [*SMALL, "train.amp=fp16"])


@pytest.fixture
def no_bf16(monkeypatch):
    """This CPU as one without BF16 instructions: the probe says no, whatever the machine has."""
    monkeypatch.setattr(trial_module, "bf16_autocast_supported", lambda device: False)


BF16_REFUSED = "train.amp: bf16 is not supported by this CPU"


def test_bf16_on_a_cpu_without_bf16_is_refused_before_training(no_bf16):
    spec = load_spec(None, [*SMALL, "train.amp=bf16"])
    with pytest.raises(SpecError, match=BF16_REFUSED):
        check_spec_runs(spec)
    with pytest.raises(SpecError, match=BF16_REFUSED):  # a worker on another machine checks its own CPU
        run_trial(sized(spec, 64, 8, 16))
    check_spec_runs(load_spec(None, SMALL))  # float32 runs anywhere


@pytest.mark.parametrize("command", ["search", "run"])
def test_bf16_refusal_is_one_line_exit_2_and_writes_no_study(cli, workdir, no_bf16, command):
    storage = f"sqlite:///{workdir / 's.db'}"
    args = ["--storage", storage, "--trials", "1"] if command == "search" else ["--batch-size", "16"]
    result = cli(command, "-o", "train.amp=bf16", "-o", "train.device=cpu", "-o", "data.rows=300",
                 "-o", "search.space.time_step=[8]", "-o", "search.space.hidden_size=[8]", *args)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and BF16_REFUSED in lines[0] and "use -o train.amp=null" in lines[0]
    assert "Traceback" not in result.err and result.out == ""
    assert not (workdir / "s.db").exists()


def raise_oom_in_forward(monkeypatch, from_batch: int) -> None:
    """Models of trials with batch_size >= from_batch fail as a real out-of-memory error would, in forward."""
    build = trial_module.build_model

    def building(spec, series):
        model = build(spec, series)
        if spec.train.batch_size >= from_batch:
            def forward(*args, **kwargs):
                raise torch.OutOfMemoryError(f"injected by the test at batch_size {spec.train.batch_size}")

            model.forward = forward
        return model

    monkeypatch.setattr(trial_module, "build_model", building)


def make_trials_diverge(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every model predicts NaN, as one whose weights blew up would: its trial fails as diverged."""
    build = trial_module.build_model

    def building(spec, series):
        model = build(spec, series)
        forward = model.forward

        def diverged(*args, **kwargs):
            return forward(*args, **kwargs) * torch.tensor(float("nan"))

        model.forward = diverged
        return model

    monkeypatch.setattr(trial_module, "build_model", building)


def test_an_out_of_memory_error_fails_the_trial_as_oom(monkeypatch):
    raise_oom_in_forward(monkeypatch, from_batch=32)
    spec = load_spec(None, SMALL)
    with pytest.raises(TrialFailure) as failure:
        run_trial(sized(spec, 32, 8, 16))
    assert failure.value.reason == "oom" and "injected by the test at batch_size 32" in failure.value.detail
    assert isinstance(failure.value.figures["peak_mem_bytes"], int)
    assert np.isfinite(run_trial(sized(spec, 16, 8, 16)).figures()["val_loss_best"])  # smaller ones train
