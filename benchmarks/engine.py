"""Engine throughput: fairdg's in-memory sampler vs a plain DataLoader(TensorDataset) loop.

ERM on UCI Adult, batch 512, the same model and optimiser in both loops; prints steps per second
of each and the ratio (target: the engine at least 3x faster on CPU). Run:

    python benchmarks/engine.py [--steps 600] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

from fairdg.algorithms import build_algorithm
from fairdg.data import load_dataset
from fairdg.data.base import Batch
from fairdg.training.sampler import DomainSampler


def _algorithm(dataset):
    torch.manual_seed(0)
    return build_algorithm("erm", dataset.input_shape, 2, 1, {"batch_size": 512})


def engine_steps_per_second(split, dataset, steps: int) -> float:
    algorithm = _algorithm(dataset)
    sampler = DomainSampler(split.train(), 512, seed=0)
    for _ in range(20):  # warm-up
        algorithm.update(sampler())
    start = time.perf_counter()
    for _ in range(steps):
        algorithm.update(sampler())
    return steps / (time.perf_counter() - start)


def dataloader_steps_per_second(split, dataset, steps: int) -> float:
    algorithm = _algorithm(dataset)
    train = split.train()[0]
    loader = DataLoader(
        TensorDataset(train.x, train.y, train.z, torch.zeros(len(train), dtype=torch.long)),
        batch_size=512,
        shuffle=True,
        drop_last=True,
    )

    def batches():
        while True:
            yield from loader

    stream = batches()
    for _ in range(20):
        algorithm.update([Batch(*next(stream))])
    start = time.perf_counter()
    for _ in range(steps):
        algorithm.update([Batch(*next(stream))])
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dataset = load_dataset("adult")
    split = dataset.split(0)
    engine = max(engine_steps_per_second(split, dataset, args.steps) for _ in range(args.repeats))
    plain = max(
        dataloader_steps_per_second(split, dataset, args.steps) for _ in range(args.repeats)
    )
    print(
        f"torch threads: {torch.get_num_threads()}, steps per run: {args.steps}, "
        f"best of {args.repeats}"
    )
    print(f"fairdg engine        : {engine:8.1f} steps/s")
    print(f"DataLoader(TensorDS) : {plain:8.1f} steps/s")
    print(f"ratio engine / DataLoader: {engine / plain:.2f}x (target >= 3x)")


if __name__ == "__main__":
    main()
