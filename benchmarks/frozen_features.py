"""Frozen-feature cache: head training on cached resnet18 features vs recomputing the backbone.

Both loops train the same linear head (512 -> 2, Adam, batch 64) on 64 x 64 images; the
baseline runs the frozen resnet18 (eval mode, no_grad) on every batch, the cached loop reads
the rows of the features computed once (as `fairdg.networks.feature_cache` stores them). The
two are timed in interleaved rounds and the ratio of steps per second printed (target >= 20x).
The one-off cost of building the cache is printed too. Run:

    python benchmarks/frozen_features.py [--n 2048] [--rounds 3] [--steps 10] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from fairdg.networks.backbones import BackboneFeaturizer


def _head():
    head = torch.nn.Linear(512, 2)
    return head, torch.optim.Adam(head.parameters(), lr=1e-3)


def _step(head, opt, features, y):
    loss = torch.nn.functional.cross_entropy(head(features), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def timed(loop, steps: int) -> float:
    start = time.perf_counter()
    loop(steps)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2048, help="images in the set")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10, help="recompute steps per round")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(args.n, 3, 64, 64, generator=g)
    y = torch.randint(2, (args.n,), generator=g)
    backbone = BackboneFeaturizer("resnet18", None, "all").eval()
    start = time.perf_counter()
    with torch.no_grad():
        cached = torch.cat([backbone(images[i : i + 256]) for i in range(0, args.n, 256)])
    build = time.perf_counter() - start
    head_a, opt_a = _head()
    head_b, opt_b = _head()

    def recompute(steps):
        for _ in range(steps):
            idx = torch.randint(args.n, (args.batch,), generator=g)
            _step(head_a, opt_a, backbone(images[idx]), y[idx])

    def from_cache(steps):
        for _ in range(steps):
            idx = torch.randint(args.n, (args.batch,), generator=g)
            _step(head_b, opt_b, cached[idx], y[idx])

    recompute(2), from_cache(20)  # warm-up
    slow, fast = [], []
    cached_steps = args.steps * 50
    for _ in range(args.rounds):
        slow.append(timed(recompute, args.steps))
        fast.append(timed(from_cache, cached_steps))
    slow_m, fast_m = sorted(slow)[len(slow) // 2], sorted(fast)[len(fast) // 2]
    print(f"cache build: {args.n} images in {build:.1f} s ({args.n / build:.0f} img/s)")
    rounds = [round(s, 1) for s in slow]
    print(f"recompute frozen resnet18 each step: {slow_m:.1f} steps/s (median of {rounds})")
    print(f"cached features:                     {fast_m:.1f} steps/s")
    print(f"ratio cached / recompute: {fast_m / slow_m:.0f}x (target >= 20x)")
    print(f"load average: {os.getloadavg()}, threads {args.threads}")


if __name__ == "__main__":
    main()
