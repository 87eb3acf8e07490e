"""Time a default ERM run per dataset: load, one update step, one evaluation pass.

    FAIRDG_DATA=../shared/data python benchmarks/dataset_defaults.py [--threads 2] [NAME ...]

Prints, per dataset, the load time, the mean time of an ERM update with the dataset's default
hyperparameters, the time of one evaluation (every val and test part), and the estimated
default run: default_steps x step + 10 evaluations (the loop evaluates every steps / 10).
Timings depend on the machine and on what else runs on it, so CPU seconds of this process are
reported too: with ``--threads 1`` they are what the work takes on one idle core, whatever the
load of the machine. The estimate is what `fairdg run --dataset NAME` costs, give or take
start-up.
"""

from __future__ import annotations

import argparse
import time

import torch

from fairdg.algorithms import build_algorithm
from fairdg.data import load_dataset
from fairdg.training import RunConfig
from fairdg.training.evaluate import evaluate_split
from fairdg.training.loop import resolve_hparams
from fairdg.training.sampler import DomainSampler

CHEAP = ["synthetic", "digits", "mnist-rotated", "mnist-inverted", "ccmnist", "adult"]


def _timed(fn, repeat: int = 1) -> tuple[float, float]:
    """Mean (wall, CPU) seconds of `repeat` calls."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - wall) / repeat, (time.process_time() - cpu) / repeat


def measure(name: str, n_steps: int = 20) -> dict:
    started = time.perf_counter()
    dataset = load_dataset(name)
    load = time.perf_counter() - started
    split = dataset.split(0)
    hparams = resolve_hparams(RunConfig(dataset=name), dataset)
    algorithm = build_algorithm(
        "erm",
        dataset.input_shape,
        dataset.num_classes,
        len(split.train_domains),
        hparams,
        num_groups=dataset.num_groups,
    )
    sampler = DomainSampler(split.train(), int(hparams["batch_size"]), 0)
    for _ in range(3):  # warm-up
        algorithm.update(sampler())
    step_s, step_cpu = _timed(lambda: algorithm.update(sampler()), n_steps)
    eval_s, eval_cpu = _timed(lambda: evaluate_split(algorithm, split, "cpu"))
    steps = dataset.default_steps
    return {
        "load": load,
        "step": step_s,
        "eval": eval_s,
        "steps": steps,
        "total": load + steps * step_s + 10 * eval_s,
        "step_cpu": step_cpu,
        "eval_cpu": eval_cpu,
        "total_cpu": steps * step_cpu + 10 * eval_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", default=CHEAP, help="datasets (default: the cheap ones)"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch threads: {args.threads}")
    print(
        "| dataset | load s | step ms (CPU ms) | eval s (CPU s) | default steps "
        "| est. default run s (CPU s) |"
    )
    print("|---|---|---|---|---|---|")
    for name in args.names:
        r = measure(name)
        print(
            f"| {name} | {r['load']:.1f} | {r['step'] * 1000:.1f} ({r['step_cpu'] * 1000:.1f}) "
            f"| {r['eval']:.1f} ({r['eval_cpu']:.1f}) | {r['steps']} | {r['total']:.0f} "
            f"({r['total_cpu']:.0f}) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
