"""Benchmark: a sweep of short Adult runs in worker processes vs the best single process.

    python benchmarks/sweep.py                 # 16 runs, 100 steps, 2 workers, 3 rounds
    python benchmarks/sweep.py --runs 8 --steps 50 --method spawn

The same sweep (4 hyperparameter configurations x 4 trials of ERM on the bundled UCI Adult
data) into fresh folders, in rounds that alternate between ``local`` with torch's default
threads, ``local`` with one thread and ``processes`` with ``--workers`` workers of one thread
each (worker start-up included); one local warm-up sweep first pays the imports and the first
data load for all. Prints the median of each and the speed-up of the processes launcher over
the faster single-process baseline (target: >= 1.6x for 2 workers on 2 cores), with ``uptime``.
With Linux's session autogroups, a busy process in another session caps this benchmark at about
one core whatever the number of workers: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time

import torch

from fairdg.experiments import launchers
from fairdg.experiments.protocol import SweepSpec, expand
from fairdg.experiments.sweep import run_sweep
from fairdg.training.config import SWEEP_BASE


def sweep_seconds(output: str, launcher: str, args, threads: int | None) -> float:
    trials = max(1, args.runs // 4)
    spec = SweepSpec(
        datasets=("adult",),
        algorithms=("erm",),
        n_hparams=args.runs // trials,
        n_trials=trials,
        test_domains=("none",),
        base=SWEEP_BASE.replace(steps=args.steps, output_dir=output),
    )
    configs = expand(spec)[: args.runs]
    started = time.perf_counter()
    result = run_sweep(configs, launcher, workers=args.workers, threads=threads, progress=False)
    seconds = time.perf_counter() - started
    if result.completed != len(configs):
        raise RuntimeError(f"{launcher}: {result.summary()}")
    return seconds


BASELINES = (("local (default threads)", "local", None), ("local (1 thread)", "local", 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=16, help="runs per sweep (default 16)")
    parser.add_argument("--steps", type=int, default=100, help="steps per run (default 100)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument(
        "--method", choices=("fork", "spawn"), default=None, help="worker start (default: auto)"
    )
    args = parser.parse_args()
    if args.method:  # force the workers' start method
        launchers.start_method = lambda tasks: args.method
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(
        f"{args.runs} ERM runs on Adult, {args.steps} steps each; {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads by default; {uptime}"
    )
    kinds = [*BASELINES, (f"processes --workers {args.workers}", "processes", None)]
    times: dict[str, list[float]] = {name: [] for name, _, _ in kinds}
    with tempfile.TemporaryDirectory(prefix="fairdg-bench-") as root:
        sweep_seconds(os.path.join(root, "warm-up"), "local", args, 1)  # imports, first load
        for r in range(args.rounds):
            for name, launcher, threads in kinds if r % 2 == 0 else kinds[::-1]:
                folder = os.path.join(root, f"{r}-{launcher}{threads}")
                times[name].append(sweep_seconds(folder, launcher, args, threads))
                print(f"  round {r}: {name:28s} {times[name][-1]:7.2f} s", flush=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    best = min(BASELINES, key=lambda kind: medians[kind[0]])[0]
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"medians over {args.rounds} alternating rounds; {uptime}")
    for name, seconds in medians.items():
        print(
            f"  {name:28s} {seconds:7.2f} s, speed-up over {best}: {medians[best] / seconds:.2f}x"
        )
    ratio = medians[best] / medians[kinds[-1][0]]
    verdict = "met" if ratio >= 1.6 else "MISSED"
    print(f"target: processes >= 1.6x the best single-process baseline: {ratio:.2f}x, {verdict}")


if __name__ == "__main__":
    main()
