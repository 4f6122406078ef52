"""Compute and memory from an LSTM's shapes: training FLOPs, the device's matmul peak, activation estimate."""

from __future__ import annotations

import torch

from lstmexp.measure.device import Stopwatch

FLOAT32_BYTES = 4


def estimate_activation_bytes(
    batch_size: int, time_step: int, hidden_size: int, num_layers: int, input_size: int
) -> int:
    """Analytic training-activation memory of an LSTM, float32.

    Back-propagation keeps, per layer and time step and sample, the four gate activations plus the
    cell and hidden states (about 6·H floats), and the layer's input (I floats for the first layer,
    H after). A lower bound on what autograd holds; the measured peak adds weights, optimizer
    state, gradients and allocator overhead.
    """
    per_step = 6 * hidden_size * num_layers + input_size + hidden_size * (num_layers - 1)
    return batch_size * time_step * per_step * FLOAT32_BYTES


def lstm_training_flops_per_sample(
    input_size: int, hidden_size: int, num_layers: int, time_step: int, output_size: int, horizon: int = 1
) -> int:
    """Training FLOPs for one sample (one window): forward plus backward.

    Forward, per layer and time step, the four gates cost 2·4H·(I + H) (a multiply and an add per
    weight; I is the input size for the first layer and H after); the head costs 2·H·(h·out) once.
    Backward costs about twice the forward (gradients with respect to inputs and to weights), so
    training is about 3× the forward. Element-wise gate nonlinearities are left out (O(H), not O(H²)).
    """
    forward = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else hidden_size
        forward += time_step * 2 * 4 * hidden_size * (layer_input + hidden_size)
    forward += 2 * hidden_size * output_size * horizon
    return 3 * forward


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
