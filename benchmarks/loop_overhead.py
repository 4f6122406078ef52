"""lstmexp's training loop against the simplest hand-written PyTorch loop, on the same batches.

Both train the same LSTMForecaster with Adam on the same series (already on the device), batches
gathered by the same index, the same number of steps; each loop's throughput is measured in steady
state (the first iterations excluded, the device synchronised before the clock is read). The two
alternate within one process, several rounds per configuration, so drift (thermal, other load)
hits both. Ratio = lstmexp samples/s / plain samples/s; goal: median >= 1.0 (lstmexp's measuring
costs nothing).

Usage: python benchmarks/loop_overhead.py [--rounds 3] [--device auto]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import pandas as pd
import torch
from torch import nn

from lstmexp.data import Series
from lstmexp.measure import now, prime_runtime, resolve_device
from lstmexp.training.loop import TrainConfig, train
from lstmexp.training.model import LSTMForecaster

# (batch_size, time_step, hidden_size): batch 16..1024, time_step 10..100, hidden 64 and 256
CONFIGS = [(16, 10, 64), (64, 50, 64), (256, 100, 64), (1024, 20, 64), (32, 20, 256), (128, 100, 256),
           (1024, 50, 256)]
WARMUP_ITERS = 3
TARGET_SECONDS = 1.0  # per measured run, so small configurations get enough steps


def make_series(rows: int, device: torch.device) -> Series:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((rows, 8)), columns=[f"x{i}" for i in range(8)])
    frame["y"] = frame.sum(axis=1)
    return Series.from_frame(frame, ["y"], list(frame.columns), (0.9, 0.05, 0.05), "standard", device)


def plain_loop(model: nn.Module, series: Series, batch_size: int, time_step: int, steps: int) -> float:
    """The simplest correct loop: shuffle, gather, forward, MSE, backward, Adam. Returns samples/s."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    starts = series.sample_starts("train", time_step)
    order = starts[torch.randperm(starts.numel()).to(series.device)]
    device = series.device
    for step in range(steps):
        if step == WARMUP_ITERS:
            began = now(device)
        batch = order[(step * batch_size) % (order.numel() - batch_size) :][:batch_size]
        inputs, targets = series.batch(batch, time_step)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
    return (steps - WARMUP_ITERS) * batch_size / (now(device) - began)


def lstmexp_loop(model: nn.Module, series: Series, batch_size: int, time_step: int, epochs: int) -> float:
    config = TrainConfig(batch_size=batch_size, time_step=time_step, epochs=epochs, lr=1e-3,
                         warmup_iters=WARMUP_ITERS)
    return train(model, series, config).samples_per_s


def measure(config: tuple[int, int, int], rounds: int, device: torch.device) -> dict[str, float]:
    batch_size, time_step, hidden = config
    probe_model = LSTMForecaster(8 + 1, hidden, 1).to(device)
    # size the series so one epoch of lstmexp's loop takes about TARGET_SECONDS
    series = make_series(batch_size * 8 + time_step * 20, device)
    rate = plain_loop(probe_model, series, batch_size, time_step, WARMUP_ITERS + 4)
    train_rows = max(int(rate * TARGET_SECONDS), batch_size * (WARMUP_ITERS + 4))
    rows = math.ceil(train_rows / 0.9) + time_step * 20
    series = make_series(rows, device)
    steps = math.ceil(series.sample_starts("train", time_step).numel() / batch_size)
    ours, plain = [], []
    for _ in range(rounds):
        torch.manual_seed(0)
        ours.append(lstmexp_loop(LSTMForecaster(9, hidden, 1).to(device), series, batch_size, time_step, 1))
        torch.manual_seed(0)
        plain.append(plain_loop(LSTMForecaster(9, hidden, 1).to(device), series, batch_size, time_step, steps))
    return {"lstmexp": statistics.median(ours), "plain": statistics.median(plain)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    prime_runtime(device)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, {args.rounds} rounds")
    print(f"{'batch':>6} {'T':>4} {'hidden':>6} {'lstmexp/s':>11} {'plain/s':>11} {'ratio':>6}")
    ratios = []
    started = time.perf_counter()
    for config in CONFIGS:
        result = measure(config, args.rounds, device)
        ratio = result["lstmexp"] / result["plain"]
        ratios.append(ratio)
        print(f"{config[0]:>6} {config[1]:>4} {config[2]:>6} {result['lstmexp']:>11.0f} {result['plain']:>11.0f} "
              f"{ratio:>6.3f}")
    median = statistics.median(ratios)
    verdict = "meets" if median >= 1.0 else "misses"
    print(f"median ratio {median:.3f} ({verdict} the goal >= 1.0) in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
