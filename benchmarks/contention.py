"""Speed figures beside busy processes: the same 3 configurations idle, beside one and beside two.

Each measurement is one `run_trial` with the default thread policy in a fresh process (so the
policy's per-shape choice is made under the condition measured, as in a study started then). The
busy processes are `python -c "while True: pass"`, started and stopped by this script (killed in a
`finally`, whatever happens). A first column measures the idle trial with torch's default threads
(one per core, as lstmexp once did) to check the policy loses nothing on a quiet machine.

Goals: beside one busy process, samples/s >= 0.8x idle, or the trial flagged contended; idle
(policy) >= 0.97x idle with torch's default threads. One-thread trials (`--one-thread`, the clocks
of lstmexp.measure.clocks): beside two busy processes the figure within 15% of idle, whichever clock
it came from (the median ratio of PAIRS idle / beside-two pairs, each trial in a new process), and
most of those figures not contended; and a small batch sweep beside them still gives speed verdicts
(C5, C9) and a "fastest" answer. The load at the start is printed with the table.

`--claims` runs `lstmexp claims` on the built-in data beside two busy processes and prints its speed
verdicts (C5, C9, C10): they must still be given (about ten minutes).

Usage: python benchmarks/contention.py [--epochs 2] [--one-thread] [--sweep] [--claims]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CONFIGS = [(16, 8, 32), (64, 32, 64), (256, 32, 64)]  # (batch_size, time_step, hidden_size)
FIGURES = ("samples_per_s", "samples_per_s_spread", "samples_per_s_train", "torch_threads", "contended",
           "contention_reason", "other_cpu_frac", "cpu_share", "samples_per_s_clock", "machine_contended",
           "samples_per_s_wall", "samples_per_s_thread_cpu")
SWEEP = ["data.rows=3000", "train.epochs=1", "train.threads=1", "train.device=cpu", "search.pruner=none",
         "search.sampler=grid", "search.space.batch_size=[16,24,32,48,64,128]", "search.space.time_step=[16]",
         "search.space.hidden_size=[32]", "search.trials=6"]
WITHIN = 0.15  # one-thread goal: beside two busy processes within 15 % of idle
PAIRS = 5  # idle / beside-two pairs per configuration for the one-thread goal


def child(config: list[int], overrides: list[str]) -> None:
    """One trial in this process; prints its speed figures as JSON."""
    from lstmexp.spec import load_spec
    from lstmexp.trial.run import run_trial

    sizes = [f"{path}={value}" for path, value in zip(("train.batch_size", "data.time_step", "model.hidden_size"),
                                                        config, strict=True)]
    metrics = run_trial(load_spec("experiments/default.yaml", ["train.device=cpu", *overrides, *sizes])).figures()
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


def one_thread_row(config: tuple[int, int, int], epochs: int) -> bool:
    """PAIRS pairs of one-thread trials, idle then beside two busy processes: the median figure of each
    side, its clocks, the median of the pairs' ratios, and the 15 % goal on that median.

    Pairs, because the same idle trial in a new process varies by up to 25 % here (the VM's core is
    not always as fast: the thread's own CPU time varies with the wall clock), so one idle run
    against one busy run measures that variation as much as the busy processes."""
    base = [f"train.epochs={epochs}", "train.threads=1"]
    pairs = [(beside(0, config, base), beside(2, config, base)) for _ in range(PAIRS)]
    idle_rates = [float(idle["samples_per_s"]) for idle, _ in pairs]
    busy_rates = [float(two["samples_per_s"]) for _, two in pairs]
    ratio = statistics.median(two / idle for idle, two in zip(idle_rates, busy_rates, strict=True))
    clocks = ", ".join(sorted({str(two["samples_per_s_clock"]) for _, two in pairs}))
    contended = sum(bool(two["contended"]) for _, two in pairs)
    wall = statistics.median(float(two["samples_per_s_wall"]) for _, two in pairs)
    print(f"{config[0]:>5} {config[1]:>3} {config[2]:>4} {statistics.median(idle_rates):>9.0f} "
          f"{min(idle_rates):>7.0f}-{max(idle_rates):<7.0f} {statistics.median(busy_rates):>9.0f} {wall:>9.0f} "
          f"{ratio:>6.2f} {contended:>3}/{PAIRS} {clocks}", flush=True)
    return abs(ratio - 1) <= WITHIN and contended <= PAIRS // 2


def sweep_beside_two() -> str:
    """A batch sweep beside two busy processes: its C5/C9 verdicts and the "fastest" recommendation."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/sweep.db"
        spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
        try:
            time.sleep(0.5)
            subprocess.run([sys.executable, "-m", "lstmexp", "search", "--storage", url, "--study", "sweep",
                            *[word for o in SWEEP for word in ("-o", o)]], capture_output=True, text=True, check=True)
        finally:
            for spinner in spinners:
                spinner.kill()
                spinner.wait()
        done = subprocess.run([sys.executable, "-m", "lstmexp", "report", "--storage", url, "--study", "sweep",
                               "--format", "json"], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    verdicts = {c["code"]: c["verdict"] for c in report["claims"] if c["code"] in ("C5", "C9")}
    fastest = next(r for r in report["recommendations"] if r["goal"].startswith("fastest"))
    config = fastest["configuration"] or {}
    return (f"sweep beside two busy processes: C5 {verdicts.get('C5')}, C9 {verdicts.get('C9')}; fastest within 10%: "
            f"{'batch_size ' + str(config.get('batch_size')) if config else 'none'}; "
            f"contended trials {report['contended_trials']} of {len(report['trials'])}")


def claims_beside_two() -> str:
    """`lstmexp claims` on the built-in data beside two busy processes: its speed verdicts (C5, C9, C10)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/claims.db"
        spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
        began = time.perf_counter()
        try:
            time.sleep(0.5)
            subprocess.run([sys.executable, "-m", "lstmexp", "claims", "--storage", url], capture_output=True,
                           text=True, check=True)
        finally:
            for spinner in spinners:
                spinner.kill()
                spinner.wait()
        minutes = (time.perf_counter() - began) / 60
        done = subprocess.run([sys.executable, "-m", "lstmexp", "report", "--storage", url, "--study", "claims",
                               "--format", "json"], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    verdicts = {c["code"]: c["verdict"] for c in report["claims"]}
    decided = sum(v not in ("not testable", "not enough data") for v in verdicts.values())
    speed = ", ".join(f"{code} {verdicts.get(code)}" for code in ("C5", "C9", "C10"))
    return (f"lstmexp claims beside two busy processes ({minutes:.1f} min wall): {speed}; {decided} of "
            f"{len(verdicts)} claims decided; contended trials {report['contended_trials']} of {len(report['trials'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--one-thread", action="store_true", help="one-thread trials: idle vs beside two busy")
    parser.add_argument("--sweep", action="store_true", help="a batch sweep beside two busy processes")
    parser.add_argument("--claims", action="store_true", help="lstmexp claims beside two busy processes")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        config, overrides = json.loads(args.child)
        child(config, overrides)
        return
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"load at start: {uptime}")
    if args.one_thread or args.sweep or args.claims:
        one_thread_and_sweep(args)
        return
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


def one_thread_and_sweep(args: argparse.Namespace) -> None:
    if args.one_thread:
        print(f"{'batch':>5} {'T':>3} {'H':>4} {'idle/s':>9} {'idle range':>15} {'beside2':>9} {'b2 wall':>9} "
              f"{'b2/i':>6} {'cont.':>5} beside2 clocks   (medians of {PAIRS} idle / beside-two pairs)")
        met = [one_thread_row(config, args.epochs) for config in CONFIGS]
        print(f"one thread beside two busy processes, median pair within {WITHIN:.0%} of idle, most not contended: "
              f"{sum(met)}/{len(met)}")
    if args.sweep:
        print(sweep_beside_two())
    if args.claims:
        print(claims_beside_two(), flush=True)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"load at end: {uptime}")


if __name__ == "__main__":
    main()
