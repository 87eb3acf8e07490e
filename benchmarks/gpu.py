"""GPU throughput: ERM steps/s with a ResNet-50 at 224 px, float32 vs bf16 autocast.

Skips (exit 0, one line) without CUDA; written and guarded on CPU-only machines, not yet
measured by us. Both variants run interleaved on the same GPU; prints steps/s and images/s of
each and the bf16 / fp32 ratio. Data-parallel scaling is measured by running `fairdg run`
under ``torchrun --nproc-per-node N`` (docs/scale.md). Run:

    python benchmarks/gpu.py [--batch 64] [--steps 20] [--rounds 3] [--device cuda]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

import torch

from fairdg.algorithms import build_algorithm
from fairdg.data.base import Batch


def _rate(algorithm, batch, steps: int, bf16: bool) -> float:
    context = torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        with context:
            algorithm.update([batch])
    torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--backbone", default="resnet50")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("benchmarks/gpu.py: no CUDA device; skipped")
        return
    device = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.batch, 3, 224, 224, generator=g).to(device)
    y = torch.randint(2, (args.batch,), generator=g).to(device)
    batch = Batch(x, y, y.clone(), torch.zeros_like(y))
    hp = {"backbone": args.backbone, "freeze": "bn", "batch_size": args.batch}
    algorithms = {}
    for name in ("fp32", "bf16"):
        torch.manual_seed(0)
        algorithms[name] = build_algorithm("erm", (3, 224, 224), 2, 1, hp).to(device)
        _rate(algorithms[name], batch, 3, name == "bf16")  # warm-up
    rates: dict[str, list[float]] = {"fp32": [], "bf16": []}
    for _ in range(args.rounds):
        for name, algorithm in algorithms.items():
            rates[name].append(_rate(algorithm, batch, args.steps, name == "bf16"))
    median = {k: sorted(v)[len(v) // 2] for k, v in rates.items()}
    for name, rate in median.items():
        print(f"{args.backbone} {name}: {rate:.2f} steps/s, {rate * args.batch:.0f} images/s")
    print(f"bf16 / fp32: {median['bf16'] / median['fp32']:.2f}x on {torch.cuda.get_device_name()}")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
