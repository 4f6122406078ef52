"""Compute and memory from an LSTM's shapes: training FLOPs, the device's matmul peak, activation estimate."""

from __future__ import annotations

import math

import torch

from lstmexp.measure.device import Stopwatch

FLOAT32_BYTES = 4


def estimate_activation_bytes(
    batch_size: int,
    time_step: int,
    hidden_size: int,
    num_layers: int,
    input_size: int,
    chunk: int = 1,
    segments: int = 0,
    sequences: int = 1,
    skip_columns: int = 0,
) -> int:
    """Analytic training-activation memory of an LSTM, float32, counting the steps that run.

    Back-propagation keeps, per layer and LSTM step and sequence, the four gate activations plus the
    cell and hidden states (about 6·H floats), and the layer's input (I floats for the first layer,
    H after). With chunks of `chunk` > 1 steps the LSTM runs time_step/chunk steps on H-wide chunk
    embeddings, and the embedding keeps the raw window (time_step·I floats); a segment head runs
    `segments` more LSTM steps on H-wide inputs. `sequences`: LSTM sequences per window (the
    channels, with channel independence). A linear skip over `skip_columns` columns keeps their
    window (time_step floats each) for its weight gradient. A lower bound on what autograd holds; the
    measured peak adds weights, optimizer state, gradients and allocator overhead.
    """
    embedded = chunk > 1 or segments > 0
    first_input = hidden_size if embedded else input_size
    per_step = 6 * hidden_size * num_layers + first_input + hidden_size * (num_layers - 1)
    per_sequence = time_step // chunk * per_step
    if embedded:
        per_sequence += time_step * input_size
    per_sequence += segments * (6 * hidden_size * num_layers + hidden_size * num_layers)
    per_sequence += time_step * skip_columns
    return batch_size * sequences * per_sequence * FLOAT32_BYTES


def lstm_step_flops(input_size: int, hidden_size: int, num_layers: int) -> int:
    """Forward FLOPs of one LSTM step of every layer: the four gates cost 2·4H·(I + H) per layer
    (a multiply and an add per weight; I is the input size for the first layer and H after)."""
    return sum(2 * 4 * hidden_size * ((input_size if layer == 0 else hidden_size) + hidden_size)
               for layer in range(num_layers))


def lstm_training_flops_per_sample(
    input_size: int,
    hidden_size: int,
    num_layers: int,
    time_step: int,
    output_size: int,
    horizon: int = 1,
    chunk: int = 1,
    segment_head: bool = False,
    sequences: int = 1,
    linear_skip: bool = False,
) -> int:
    """Training FLOPs for one sample (one window): forward plus backward, counting what runs.

    Per step, the LSTM costs `lstm_step_flops`. Per step input (chunk 1): time_step steps on I-wide
    rows and a linear head 2·H·(h·out) once. Chunked (chunk S > 1, or any segment head): an
    embedding of 2·(S·I)·H per chunk, then time_step/S steps on H-wide embeddings. A segment head
    runs ceil(h/S) more LSTM steps (one per output segment) each projected by 2·H·(S·out). With
    channel independence a window is `sequences` one-channel sequences. A linear skip maps each
    output column's time_step steps to h: 2·T·h·out. Backward costs about twice
    the forward (gradients with respect to inputs and to weights), so training is about 3× the
    forward. Element-wise gate nonlinearities are left out (O(H), not O(H²)).
    """
    embedded = chunk > 1 or segment_head
    steps = time_step // chunk
    forward = steps * lstm_step_flops(hidden_size if embedded else input_size, hidden_size, num_layers)
    if embedded:
        forward += steps * 2 * chunk * input_size * hidden_size
    if segment_head:
        segments = math.ceil(horizon / chunk)
        forward += segments * (lstm_step_flops(hidden_size, hidden_size, num_layers)
                               + 2 * hidden_size * chunk * output_size)
    else:
        forward += 2 * hidden_size * output_size * horizon
    if linear_skip:
        forward += 2 * time_step * horizon * output_size
    return 3 * forward * sequences


_peak_gflops: dict[tuple[str, int], float] = {}


def peak_gflops(device: torch.device) -> float:
    """Sustained float32 matmul GFLOP/s of the device, measured once per device and thread count.

    A square matmul is the best case for the hardware, so achieved/peak says how much of the
    machine an LSTM configuration really uses (C5, C9). Warm-up runs are excluded.
    """
    key = (str(device), torch.get_num_threads())
    if key not in _peak_gflops:
        size = 4096 if device.type == "cuda" else 1024  # large enough to reach the BLAS plateau
        a = torch.randn(size, size, device=device)
        b = torch.randn(size, size, device=device)
        for _ in range(3):  # warm-up: BLAS thread pools, GPU clocks
            a @ b
        repeats = 20 if device.type == "cuda" else 5
        watch = Stopwatch(device)
        watch.start()
        for _ in range(repeats):
            a @ b
        seconds = watch.stop()
        _peak_gflops[key] = 2 * size**3 * repeats / seconds / 1e9
    return _peak_gflops[key]
