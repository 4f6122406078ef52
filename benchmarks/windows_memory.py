"""Index-based windows: memory above the series itself while training on 2,000,000 rows x 8 columns, T=512.

Goal: less than 1 GiB above the series. Materialising every window would need
windows x 512 x 8 x 4 bytes (~23 GiB for the 70 % train split alone); lstmexp gathers each batch from
the series tensor by index instead.

What is measured, in a fresh subprocess (so imports and earlier work do not count), with the
per-trial memory tool (`lstmexp.measure.TrialMemory`: the resident high-water mark above the level
at its start on CPU, the allocator's peak above the series on CUDA):
  1. the index arrays of the full train split (1.4 M sample starts and one epoch's permutation);
  2. one epoch of the real training loop, `lstmexp.training.loop.train`, over the last 8,000 rows of the
     train split (full-size batches gathered from the 2 M-row tensor), with its val evaluation;
  3. `evaluate` on 8,192 test samples (eval batches of 2,048 windows).
The whole train split is not trained through: one epoch of 1.4 M windows x 512 steps takes hours on
a CPU, and the memory per step does not grow with the number of steps taken.

Run: python benchmarks/windows_memory.py [--device cpu|cuda] (make bench runs it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

ROWS, COLUMNS, TIME_STEP = 2_000_000, 8, 512
BATCH, HIDDEN, TRAIN_SLICE, EVAL_SAMPLES = 256, 32, 8_000, 8_192
GIB = 1024**3


def child(device_name: str) -> dict[str, float]:
    import numpy as np
    import pandas as pd
    import torch

    from lstmexp.data import Series
    from lstmexp.measure import TrialMemory, read_status_bytes, resolve_device
    from lstmexp.training.evaluate import evaluate
    from lstmexp.training.loop import TrainConfig, train
    from lstmexp.training.model import LSTMForecaster

    device = resolve_device(device_name)
    rng = np.random.default_rng(0)
    names = [f"c{i}" for i in range(COLUMNS)]
    frame = pd.DataFrame(rng.standard_normal((ROWS, COLUMNS)).astype(np.float32), columns=names)
    series = Series.from_frame(frame, ["c7"], list(frame.columns), (0.7, 0.15, 0.15), "standard", device)
    del frame
    series_bytes = series.inputs.element_size() * series.inputs.nelement() + series.targets.nelement() * 4
    train_end = series.bounds["train"][1]
    torch.manual_seed(0)
    model = LSTMForecaster(COLUMNS, HIDDEN, 1).to(device)
    memory = TrialMemory(device)
    with memory:
        starts = series.sample_starts("train", TIME_STEP)  # every train window, as indices only
        order = starts[torch.randperm(starts.numel(), device=device)]
        full_split_windows = int(starts.numel())
        # One epoch of the real loop on a slice of the train rows; batches index the full tensor.
        series.bounds = {**series.bounds, "train": (train_end - TRAIN_SLICE, train_end),
                         "val": (series.bounds["val"][0], series.bounds["val"][0] + 4_000)}
        config = TrainConfig(batch_size=BATCH, time_step=TIME_STEP, epochs=1, lr=1e-3, warmup_iters=2)
        result = train(model, series, config)
        test_starts = series.sample_starts("test", TIME_STEP)[:EVAL_SAMPLES]
        evaluate(model, series, "test", TIME_STEP, starts=test_starts)
        reading = memory.reading()
    del order
    return {
        "device": str(device),
        "series_bytes": series_bytes,
        "peak_above_series_bytes": reading.peak_bytes,
        "method": reading.method,
        "train_windows_indexed": full_split_windows,
        "materialised_train_windows_bytes": full_split_windows * TIME_STEP * COLUMNS * 4,
        "iterations": result.iterations_per_epoch,
        "samples_per_s": result.samples_per_s,
        "process_peak_rss_bytes": read_status_bytes("VmHWM"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.device)))
        return
    done = subprocess.run([sys.executable, __file__, "--child", "--device", args.device],
                          capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    above = figures["peak_above_series_bytes"]
    print(f"series: {ROWS:,} rows x {COLUMNS} columns on {figures['device']}, "
          f"{figures['series_bytes'] / GIB:.3f} GiB (float32 inputs + target)")
    print(f"time_step {TIME_STEP}, batch {BATCH}, hidden {HIDDEN}: {figures['train_windows_indexed']:,} train "
          f"windows indexed; materialised they would take {figures['materialised_train_windows_bytes'] / GIB:.1f} GiB")
    print(f"one epoch of train() on {TRAIN_SLICE:,} train rows ({figures['iterations']} iterations, "
          f"{figures['samples_per_s']:.0f} samples/s) + evaluate() on {EVAL_SAMPLES:,} test windows")
    print(f"peak memory above the series: {above / GIB:.3f} GiB ({figures['method']}); goal < 1 GiB: "
          f"{'met' if above < GIB else 'NOT met'}")
    sys.exit(0 if above < GIB else 1)


if __name__ == "__main__":
    main()
