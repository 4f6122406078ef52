"""Speed figures beside busy processes: the same 3 configurations idle, beside one and beside two.

Each measurement is one `run_trial` with the default thread policy in a fresh process (so the
policy's per-shape choice is made under the condition measured, as in a study started then). The
busy processes are `python -c "while True: pass"`, started and stopped by this script (killed in a
`finally`, whatever happens). A first column measures the idle trial with torch's default threads
(one per core, as lstmexp once did) to check the policy loses nothing on a quiet machine.

Goals: beside one busy process, samples/s >= 0.8x idle, or the trial flagged contended;
idle (policy) >= 0.97x idle with torch's default threads. Figures are only meaningful on an otherwise
quiet machine: the load at the start is printed with the table.

Usage: python benchmarks/contention.py [--epochs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CONFIGS = [(16, 8, 32), (64, 32, 64), (256, 32, 64)]  # (batch_size, time_step, hidden_size)
FIGURES = ("samples_per_s", "samples_per_s_spread", "samples_per_s_train", "torch_threads", "contended",
           "contention_reason", "other_cpu_frac", "cpu_share")


def child(config: list[int], overrides: list[str]) -> None:
    """One trial in this process; prints its speed figures as JSON."""
    from lstmexp.spec import load_spec
    from lstmexp.trial import TrialParams, run_trial

    spec = load_spec("experiments/default.yaml", ["train.device=cpu", *overrides])
    metrics = run_trial(spec, TrialParams(*config))
    print(json.dumps({key: metrics.get(key) for key in FIGURES}))


def measure(config: tuple[int, int, int], overrides: list[str]) -> dict[str, object]:
    args = [sys.executable, __file__, "--child", json.dumps([list(config), overrides])]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def beside(busy: int, config: tuple[int, int, int], overrides: list[str]) -> dict[str, object]:
    """Measure with `busy` spinning processes running; they are always killed."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        time.sleep(0.5 if busy else 0.0)  # let them take their cores
        return measure(config, overrides)
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()


def row(config: tuple[int, int, int], epochs: int) -> tuple[str, bool, bool]:
    base = [f"train.epochs={epochs}"]
    default = beside(0, config, [*base, f"train.threads={os.cpu_count() or 1}"])
    idle, one, two = (beside(busy, config, base) for busy in (0, 1, 2))
    rate = {name: float(m["samples_per_s"]) for name, m in (("d", default), ("i", idle), ("1", one), ("2", two))}
    flags = "".join("C" if m["contended"] else "-" for m in (idle, one, two))
    threads = "/".join(str(m["torch_threads"]) for m in (idle, one, two))
    text = (f"{config[0]:>5} {config[1]:>3} {config[2]:>4} {rate['d']:>9.0f} {rate['i']:>9.0f} "
            f"{rate['i'] / rate['d']:>6.2f} {rate['1']:>9.0f} {rate['1'] / rate['i']:>6.2f} {rate['2']:>9.0f} "
            f"{rate['2'] / rate['i']:>6.2f} {threads:>7} {flags:>5} {float(idle['samples_per_s_spread']):>6.2f}")
    beside_goal = rate["1"] >= 0.8 * rate["i"] or bool(one["contended"])
    return text, beside_goal, rate["i"] >= 0.97 * rate["d"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        config, overrides = json.loads(args.child)
        child(config, overrides)
        return
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"load at start: {uptime}")
    print(f"{'batch':>5} {'T':>3} {'H':>4} {'default/s':>9} {'idle/s':>9} {'i/def':>6} {'beside1':>9} {'b1/i':>6} "
          f"{'beside2':>9} {'b2/i':>6} {'threads':>7} {'cont.':>5} {'spread':>6}")
    results = []
    for config in CONFIGS:
        text, beside_goal, idle_goal = row(config, args.epochs)
        print(text, flush=True)
        results.append((beside_goal, idle_goal))
    print("threads and contended flags (C) are for idle / beside 1 / beside 2; default: torch's threads, idle")
    print(f"beside one busy process, >= 0.8x idle or flagged: {sum(b for b, _ in results)}/{len(results)}; "
          f"idle >= 0.97x default threads: {sum(i for _, i in results)}/{len(results)}")


if __name__ == "__main__":
    main()
