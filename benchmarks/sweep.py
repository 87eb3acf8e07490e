"""Benchmark: a sweep of short Adult runs through the local launcher vs worker processes.

    python benchmarks/sweep.py                 # 16 runs, 100 steps, 2 workers
    python benchmarks/sweep.py --runs 8 --steps 50

Runs the same sweep (4 hyperparameter configurations x 4 trials of ERM on the bundled UCI Adult
data) three times into fresh folders: ``local`` with torch's default threads (the baseline),
``local`` with one thread (to separate thread contention from parallelism), and ``processes``
with ``--workers`` workers of one thread each (worker start-up included). Prints wall times and
the speed-up of each against the baseline; the target is >= 1.6x for 2 workers on 2 cores.
Run it on an otherwise idle machine: with Linux's session autogroups, a busy process in another
session caps this benchmark at about one core whatever the number of workers.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

from fairdg.experiments.protocol import SweepSpec, expand
from fairdg.experiments.sweep import run_sweep


def sweep_seconds(output: str, launcher: str, args, threads: int | None) -> float:
    trials = max(1, args.runs // 4)
    spec = SweepSpec(
        datasets=("adult",),
        algorithms=("erm",),
        n_hparams=args.runs // trials,
        n_trials=trials,
        test_domains=("none",),
        steps=args.steps,
        output_dir=output,
    )
    configs = expand(spec)[: args.runs]
    started = time.perf_counter()
    result = run_sweep(configs, launcher, workers=args.workers, threads=threads, progress=False)
    seconds = time.perf_counter() - started
    if result.completed != len(configs):
        raise RuntimeError(f"{launcher}: {result.summary()}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=16, help="runs per sweep (default 16)")
    parser.add_argument("--steps", type=int, default=100, help="steps per run (default 100)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args()
    print(
        f"{args.runs} ERM runs on Adult, {args.steps} steps each; {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads by default; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="fairdg-bench-") as root:
        for name, launcher, threads in (
            ("local (default threads)", "local", None),
            ("local (1 thread)", "local", 1),
            (f"processes --workers {args.workers}", "processes", None),
        ):
            seconds = sweep_seconds(
                os.path.join(root, launcher + str(threads)), launcher, args, threads
            )
            rows.append((name, seconds))
            print(f"  {name:28s} {seconds:7.2f} s", flush=True)
    baseline = rows[0][1]
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    for name, seconds in rows[1:]:
        print(f"speed-up of {name} over local (default threads): {baseline / seconds:.2f}x")
    print("target: processes --workers 2 >= 1.6x on 2 cores")


if __name__ == "__main__":
    main()
