"""Chunked input, channel independence and the segment head: shapes, equality with the per-step model,
FLOP and memory counts of what runs, and the refusal of a chunk that does not divide the window."""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lstmexp.data.channels import as_channel_samples, channel_ids, from_channel_samples
from lstmexp.errors import SpecError
from lstmexp.measure import estimate_activation_bytes, lstm_training_flops_per_sample
from lstmexp.measure.compute import lstm_step_flops
from lstmexp.spec import load_spec
from lstmexp.training.model import (
    ChannelIndependent,
    ChunkEmbedding,
    LSTMForecaster,
    SegmentHead,
    WindowNormalized,
    build_model,
)
from lstmexp.trial.run import cached_series, check_spec_runs
from tests.search_specs import sized


def seeded(**options: object) -> LSTMForecaster:
    torch.manual_seed(0)
    return LSTMForecaster(input_size=3, hidden_size=8, output_size=2, num_layers=2, horizon=5, **options)  # type: ignore[arg-type]


class LSTMSteps:
    """Counts the LSTM steps that run: every call's (sequences, steps), by a forward pre-hook."""

    def __init__(self, lstm: nn.LSTM) -> None:
        self.calls: list[tuple[int, int]] = []
        lstm.register_forward_pre_hook(lambda _module, args: self.calls.append(tuple(args[0].shape[:2])))


def test_chunk_one_is_the_per_step_model_bit_for_bit():
    """The per-step model as it always was: an LSTM and a linear head, built in that order from the seed."""
    torch.manual_seed(0)
    lstm = nn.LSTM(input_size=3, hidden_size=8, num_layers=2, batch_first=True)
    head = nn.Linear(8, 5 * 2)
    model = seeded(chunk=1)
    expected_keys = {f"lstm.{k}" for k in lstm.state_dict()} | {f"head.{k}" for k in head.state_dict()}
    assert set(model.state_dict()) == expected_keys
    windows = torch.randn(4, 12, 3)
    expected = head(lstm(windows)[0][:, -1, :]).view(4, 5, 2)
    assert torch.equal(model(windows), expected)


def test_chunk_one_trains_to_the_same_figures_as_the_default_spec():
    small = ["data.rows=900", "train.epochs=1", "train.device=cpu", "train.threads=1"]
    default, explicit = (sized(load_spec(None, o), 32, 8, 8) for o in (small, [*small, "model.chunk=1"]))
    series = cached_series(default.data.model_dump_json(), "cpu")
    torch.manual_seed(3)
    a = build_model(default, series)
    torch.manual_seed(3)
    b = build_model(explicit, series)
    inputs, _ = series.batch(series.sample_starts("val", 8), 8)
    assert torch.equal(a(inputs), b(inputs))


def test_chunks_are_embedded_one_linear_map_per_chunk_and_the_lstm_runs_t_over_s_steps():
    model = seeded(chunk=4, chunk_activation="relu")
    assert isinstance(model.embed, ChunkEmbedding)
    steps = LSTMSteps(model.lstm)
    windows = torch.randn(6, 16, 3)
    assert model(windows).shape == (6, 5, 2)
    assert steps.calls == [(6, 4)]  # 16 steps in chunks of 4: four LSTM steps
    embedded = model.embed(windows)
    assert embedded.shape == (6, 4, 8)
    third = windows[:, 8:12, :].reshape(6, 12)  # chunk 2: steps 8..11, flattened step-major
    torch.testing.assert_close(embedded[:, 2, :], torch.relu(model.embed.linear(third)))
    assert (embedded >= 0).all() and (embedded == 0).any()  # the activation ran


def test_the_embedding_refuses_a_window_the_chunk_does_not_divide():
    with pytest.raises(ValueError, match="cannot be cut into chunks of 4"):
        seeded(chunk=4)(torch.randn(2, 10, 3))


def test_flop_count_is_what_runs():
    """The formula's forward FLOPs = the non-LSTM FLOPs torch's counter sees + the LSTM steps that ran."""
    skip = {"skip_columns": [0, 1], "time_step": 16}  # a linear skip over both target columns
    for options in ({}, {"chunk": 4}, {"chunk": 4, "head": "segment"}, {"chunk": 2, "head": "segment"},
                    skip, {"chunk": 4, **skip}, {"chunk": 4, "head": "segment", **skip}):
        model = seeded(**options)
        steps = LSTMSteps(model.lstm)
        with FlopCounterMode(display=False) as counter:  # it does not see inside aten.lstm
            model(torch.randn(1, 16, 3))
        width = 8 if model.embed is not None else 3
        lstm_flops = steps.calls[0][1] * lstm_step_flops(width, 8, 2) + sum(
            s * n * lstm_step_flops(8, 8, 2) for s, n in steps.calls[1:])
        chunk = int(options.get("chunk", 1))  # type: ignore[call-overload]
        formula = lstm_training_flops_per_sample(3, 8, 2, 16, 2, 5, chunk, options.get("head") == "segment",
                                                 linear_skip="skip_columns" in options)
        assert formula == 3 * (counter.get_total_flops() + lstm_flops), options


def test_flop_counts_by_hand():
    # Per step: 16 steps of 2·4·8·(3+8) plus the head 2·8·2·5.
    assert lstm_training_flops_per_sample(3, 8, 1, 16, 2, 5) == 3 * (16 * 704 + 160)
    # Chunks of 4: the embedding 4·2·(4·3)·8 and 4 steps of 2·4·8·(8+8).
    assert lstm_training_flops_per_sample(3, 8, 1, 16, 2, 5, chunk=4) == 3 * (768 + 4 * 1024 + 160)
    # Segment head: ceil(5/4) = 2 more steps, each projected by 2·8·(4·2).
    assert lstm_training_flops_per_sample(3, 8, 1, 16, 2, 5, chunk=4, segment_head=True) == 3 * (
        768 + 4 * 1024 + 2 * (1024 + 128))
    # A linear skip over both output columns: 2·16·5 per column.
    assert lstm_training_flops_per_sample(3, 8, 1, 16, 2, 5, chunk=4, linear_skip=True) == 3 * (
        768 + 4 * 1024 + 160 + 2 * 2 * 16 * 5)
    # Channel independence: seven one-channel sequences per window.
    assert lstm_training_flops_per_sample(1, 8, 1, 16, 1, 5, chunk=4, sequences=7) == 7 * (
        lstm_training_flops_per_sample(1, 8, 1, 16, 1, 5, chunk=4))


def test_activation_estimate_counts_the_recurrent_steps_that_run():
    per_step = estimate_activation_bytes(32, 336, 64, 1, 1)
    chunked = estimate_activation_bytes(32, 336, 64, 1, 1, chunk=24)
    assert per_step == 32 * 336 * (6 * 64 + 1) * 4
    assert chunked == 32 * (14 * (6 * 64 + 64) + 336) * 4  # 14 steps on 64-wide embeddings, plus the raw window
    assert estimate_activation_bytes(32, 336, 64, 1, 1, chunk=24, sequences=7) == 7 * chunked


def test_trial_records_chunked_flops_and_steps():
    spec = load_spec(None, ["data.rows=900", "train.device=cpu", "model.chunk=4", "data.horizon=3",
                            "train.batch_size=32", "data.time_step=16", "model.hidden_size=8"])
    from lstmexp.trial.run import compute_of, setup_of

    series = cached_series(spec.data.model_dump_json(), "cpu")
    compute = compute_of(spec, series, torch.device("cpu"))
    assert compute.flops_per_sample == lstm_training_flops_per_sample(series.input_size, 8, 1, 16, 1, 3, 4)
    assert compute.activation_bytes == estimate_activation_bytes(32, 16, 8, 1, series.input_size, 4)
    fed = setup_of(spec, series).figures()
    assert (fed["chunk"], fed["lstm_steps"], fed["channels"], fed["head"]) == (4, 4, "joint", "linear")


@pytest.mark.parametrize(("overrides", "expected"), [
    (["model.chunk=3", "search.space.time_step=[8,16]"], "model.chunk=3 does not divide time_step=8"),
    (["model.chunk=3", "search.space.time_step=[8,16]"], "use -o model.chunk=2"),
    (["search.space.time_step=[12,24]", "search.space.model.chunk=[4,5,6]"],
     "search.space.model.chunk: 5 does not divide time_step=12"),
    (["search.space.time_step=[12,24]", "search.space.model.chunk=[4,5,6]"], "search.space.model.chunk=[4,6]"),
    (["search.space.time_step={low: 8, high: 10}", "search.space.model.chunk={low: 1, high: 2}"],
     "2 does not divide time_step=9"),
])
def test_a_chunk_that_does_not_divide_time_step_is_refused(overrides, expected):
    with pytest.raises(SpecError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        load_spec(None, overrides)


def test_dividing_chunks_load_and_run_flags_are_checked_too():
    spec = load_spec(None, ["search.space.time_step=[336,720]", "search.space.model.chunk=[24,48]"])
    assert spec.search.space.fields["model.chunk"].values == (24, 48)
    fixed = load_spec(None, ["model.chunk=4", "search.space.time_step=[8,16]", "data.rows=900", "train.device=cpu"])
    # the trial's spec refuses it as it is made (its time_step is no longer searched, so the rule sees 10)
    with pytest.raises((SpecError, ValueError), match=r"model.chunk=4 does not divide time_step=10 .*; "
                       r"use -o model.chunk=2"):
        check_spec_runs(sized(fixed, 8, 10, 8), one_run=True)


def test_refusal_is_one_line_with_exit_2(cli, workdir):
    result = cli("run", "-o", "model.chunk=5", "--batch-size", "8", "--time-step", "8", "--hidden-size", "4")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    # the run's own time_step decides (not the default space's 4): the sizes it is given are the spec's
    assert len(lines) == 1 and "model.chunk=5 does not divide time_step=8" in lines[0]
    assert "-o model.chunk=4" in lines[0] and "Traceback" not in result.err


# --- channel independence ---------------------------------------------------------------------------

def test_seven_channels_give_seven_times_the_samples_with_targets_per_channel():
    windows = torch.randn(5, 12, 7)
    targets = torch.randn(5, 4, 7)
    samples, per_channel = as_channel_samples(windows), as_channel_samples(targets)
    assert samples.shape == (35, 12, 1) and per_channel.shape == (35, 4, 1)
    ids = channel_ids(5, 7, windows.device)
    for b in range(5):
        for c in range(7):
            assert torch.equal(samples[b * 7 + c, :, 0], windows[b, :, c])
            assert torch.equal(per_channel[b * 7 + c, :, 0], targets[b, :, c])
            assert ids[b * 7 + c] == c
    assert torch.equal(from_channel_samples(per_channel, 7), targets)


def test_channel_independent_model_is_one_shared_network_per_channel():
    torch.manual_seed(0)
    inner = WindowNormalized(LSTMForecaster(1, 8, 1, horizon=4, chunk=3), "revin", [0])
    model = ChannelIndependent(inner, channels=7)
    steps = LSTMSteps(inner.inner.lstm)
    windows = torch.randn(5, 12, 7) * torch.arange(1, 8) + 10 * torch.arange(7)  # each channel its own level/scale
    out = model(windows)
    assert out.shape == (5, 4, 7)
    assert steps.calls == [(35, 4)]  # 5 windows x 7 channels, 12 steps in chunks of 3
    for c in (0, 3, 6):  # channel c's forecast is the shared network on channel c alone (its own RevIN)
        torch.testing.assert_close(out[:, :, c], inner(windows[:, :, c : c + 1])[:, :, 0])


def test_channel_independence_through_build_model_predicts_every_column(tmp_path):
    frame = torch.randn(700, 3).cumsum(0).numpy()
    path = tmp_path / "three.csv"
    path.write_text("a,b,c\n" + "\n".join(",".join(f"{v:.5f}" for v in row) for row in frame))
    spec = load_spec(None, [f"data.path={path}", "data.mode=M", "model.channels=independent", "model.chunk=4",
                            "data.normalization=revin", "data.horizon=6", "train.device=cpu"])
    series = cached_series(spec.data.model_dump_json(), "cpu")
    model = build_model(sized(spec, 8, 16, 8), series)
    assert isinstance(model, ChannelIndependent) and model.channels == 3
    inputs, targets = series.batch(series.sample_starts("val", 16, 6), 16, 6)
    assert model(inputs).shape == targets.shape == (inputs.shape[0], 6, 3)


def test_channel_independence_is_refused_where_inputs_are_not_targets():
    with pytest.raises(SpecError, match=re.escape("use -o model.channels=joint")):
        load_spec(None, ["model.channels=independent"])  # built-in series: mode MS
    with pytest.raises(SpecError, match=re.escape("use -o model.channels=joint")):
        load_spec(None, ["search.space.model.channels=[joint,independent]"])


def test_stateful_training_refuses_the_chunked_options():
    with pytest.raises(SpecError, match=re.escape("use -o model.chunk=1")):
        load_spec(None, ["train.stateful=true", "model.chunk=2"])
    with pytest.raises(SpecError, match=re.escape("use -o model.head=linear")):
        load_spec(None, ["train.stateful=true", "model.head=segment"])


# --- the segment head -------------------------------------------------------------------------------

def test_segment_head_decodes_one_lstm_step_per_output_segment():
    model = seeded(chunk=4, head="segment")
    assert isinstance(model.head, SegmentHead) and model.head.segments == math.ceil(5 / 4)
    steps = LSTMSteps(model.lstm)
    out = model(torch.randn(3, 16, 3))
    assert out.shape == (3, 5, 2)  # two segments of 4 steps, cut to the horizon of 5
    assert steps.calls == [(3, 4), (3 * 2, 1)]  # encoder: 4 chunk steps; decoder: 1 step for all segments at once


def test_segment_head_at_chunk_one_embeds_the_steps():
    model = seeded(chunk=1, head="segment")
    steps = LSTMSteps(model.lstm)
    assert model(torch.randn(2, 6, 3)).shape == (2, 5, 2)
    assert steps.calls == [(2, 6), (2 * 5, 1)]


def test_segment_head_channel_embedding_tells_channels_apart():
    torch.manual_seed(0)
    model = LSTMForecaster(1, 8, 1, horizon=6, chunk=3, head="segment", channels=4)
    window = torch.randn(1, 12, 1).expand(4, 12, 1)
    out = model(window, torch.arange(4))
    assert out.shape == (4, 6, 1)
    assert not torch.allclose(out[0], out[1])  # same window, another channel: another forecast
    with pytest.raises(ValueError, match="needs each sample's channel"):
        model(window)


@pytest.mark.parametrize("head", ["linear", "segment"])
def test_head_dropout_acts_in_training_only(head):
    torch.manual_seed(0)
    model = LSTMForecaster(3, 16, 2, horizon=4, chunk=4, head=head, head_dropout=0.5)
    windows = torch.randn(8, 16, 3)
    model.train()
    assert not torch.equal(model(windows), model(windows))  # a new dropout mask each call
    model.eval()
    assert torch.equal(model(windows), model(windows))
    plain = LSTMForecaster(3, 16, 2, horizon=4, chunk=4, head=head)
    plain.load_state_dict(model.state_dict())  # dropout adds no weights
    plain.eval()
    assert torch.equal(plain(windows), model(windows))
