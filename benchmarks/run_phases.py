"""Phases of a run (prepare, training, evaluation) and whole runs, current vs legacy evaluation.

    FAIRDG_DATA=... python benchmarks/run_phases.py [--repeats 3] [--threads 1] [--skip-phases]
        [ccmnist] [adult]

For a ccMNIST ERM run of 50 steps and an Adult ERM run of 2,000 steps it prints

1. the phases of one run in this process: ``prepare`` (data, split, model), ``train`` (all
   update steps), ``evaluate`` (every evaluation of the run, done by the loop every steps / 10);
2. whole runs (``fairdg.training.train`` into fresh folders) with today's evaluation against the
   legacy one (fixed 4,096-row chunks under ``no_grad``, as before issue 19), alternating, median
   wall time of each, their ratio (target for ccMNIST: at most 0.5x), and whether the recorded
   metrics are identical.

Absolute times depend on the machine's load: the script prints ``uptime`` before and after,
and the ratios are of runs interleaved in the same process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from fairdg.training import RunConfig, train
from fairdg.training import evaluate as evaluate_module
from fairdg.training.loop import prepare
from fairdg.training.sampler import DomainSampler

RUNS = {
    "ccmnist": RunConfig(dataset="ccmnist", algorithm="erm", steps=50, quiet=True),
    "adult": RunConfig(dataset="adult", algorithm="erm", steps=2000, quiet=True),
}


@torch.no_grad()
def legacy_predict_proba(algorithm, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """The evaluation's inference before issue 19: fixed 4,096-row chunks, concatenated."""
    outs = [
        torch.softmax(algorithm.predict(x[i : i + batch_size]).float(), dim=1).cpu()
        for i in range(0, len(x), batch_size)
    ]
    return torch.cat(outs)


@contextmanager
def legacy_evaluation():
    current = evaluate_module.predict_proba
    evaluate_module.predict_proba = legacy_predict_proba
    try:
        yield
    finally:
        evaluate_module.predict_proba = current


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def phases(config: RunConfig, dataset=None) -> tuple[dict[str, float], object]:
    """Seconds of prepare, training steps and evaluations of one run, in this process."""
    start = time.perf_counter()
    dataset, split, hparams, algorithm = prepare(config, dataset)
    prepared = time.perf_counter()
    sampler = DomainSampler(split.train(), int(hparams["batch_size"]), config.seed)
    steps, every = config.steps, max(1, config.steps // 10)
    train_s = eval_s = legacy_s = 0.0
    for step in range(1, steps + 1):
        t = time.perf_counter()
        algorithm.update(sampler())
        train_s += time.perf_counter() - t
        if step % every == 0 or step == steps:
            t = time.perf_counter()
            evaluate_module.evaluate_split(algorithm, split, "cpu")
            eval_s += time.perf_counter() - t
            t = time.perf_counter()
            with legacy_evaluation():
                evaluate_module.evaluate_split(algorithm, split, "cpu")
            legacy_s += time.perf_counter() - t
    times = {
        "prepare": prepared - start,
        "train": train_s,
        "evaluate": eval_s,
        "evaluate (legacy)": legacy_s,
    }
    return times, dataset


def whole_runs(config: RunConfig, dataset, repeats: int) -> dict[str, object]:
    """Median wall time of `train` with current and legacy evaluation, alternating."""
    times: dict[str, list[float]] = {"current": [], "legacy": []}
    metrics: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            order = ("current", "legacy") if r % 2 == 0 else ("legacy", "current")
            for mode in order:
                out = Path(tmp) / f"{mode}-{r}"
                start = time.perf_counter()
                if mode == "legacy":
                    with legacy_evaluation():
                        result = train(config.replace(output_dir=str(out)), dataset)
                else:
                    result = train(config.replace(output_dir=str(out)), dataset)
                times[mode].append(time.perf_counter() - start)
                metrics[mode] = json.dumps(result.record["metrics"], sort_keys=True)
    return {
        "current": statistics.median(times["current"]),
        "legacy": statistics.median(times["legacy"]),
        "same_metrics": metrics["current"] == metrics["legacy"],
    }


def print_phases(config: RunConfig):
    times, dataset = phases(config)
    total = times["prepare"] + times["train"] + times["evaluate"]
    print("  phases of one run (s)")
    for key, value in times.items():
        share = f" ({value / total:.0%} of the run)" if key != "evaluate (legacy)" else ""
        print(f"  {key:18s} {value:7.2f}{share}")
    ratio = times["evaluate"] / times["evaluate (legacy)"]
    print(f"  evaluation current / legacy: {ratio:.2f}x")
    return dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="whole runs of each kind")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--skip-phases", action="store_true", help="only the whole runs")
    parser.add_argument("datasets", nargs="*", help=f"of {list(RUNS)} (default: both)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    unknown = sorted(set(args.datasets) - set(RUNS))
    if unknown:
        parser.error(f"unknown dataset(s) {unknown}; choose from {list(RUNS)}")
    args.datasets = args.datasets or list(RUNS)
    if "FAIRDG_DATA" not in os.environ:
        parser.error("set FAIRDG_DATA to the folder holding MNIST and Adult")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {uptime()}")
    for name in args.datasets:
        config = RUNS[name]
        print(f"\n{name} ERM, {config.steps} steps")
        dataset = None if args.skip_phases else print_phases(config)
        runs = whole_runs(config, dataset, args.repeats)
        ratio = runs["current"] / runs["legacy"]
        target = " (target <= 0.5x)" if name == "ccmnist" else ""
        print(
            f"  whole run (train(), median of {args.repeats}, alternating): current "
            f"{runs['current']:.2f} s, legacy evaluation {runs['legacy']:.2f} s, "
            f"ratio {ratio:.2f}x{target}; identical metrics: {runs['same_metrics']}"
        )
    print(f"\n{uptime()}")


if __name__ == "__main__":
    main()
