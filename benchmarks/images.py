"""Image storage: peak memory of holding a generated 200,000 x 3 x 64 x 64 image set, and
training speed from the memory-mapped cache.

Each variant runs in its own subprocess (peak RSS = ``ru_maxrss``) and holds the set the way a
loader does, then splits it (train / val / test) as a run does:

- ``float32``: float32 pixels in memory, as fairdg held images before (split copies rows);
- ``uint8``: uint8 pixels in memory (split parts are `ImageRows` views, no copy);
- ``memmap``: uint8 pixels memory-mapped from a cache file written by
  `fairdg.data.images.write_uint8_cache` (the file is built in another subprocess first).

Targets: uint8 peak <= 0.3x float32; memmap peak < 1 GiB; ERM steps/s reading batches from the
memory-mapped cache >= 0.8x from in-memory uint8 (interleaved rounds in one process; the file was
just written, so its pages are likely in the page cache: a warm-cache figure). ``baseline`` is
the peak of importing fairdg and torch alone. The float32 set at full size needs ~10 GiB
(x2 while split copies); with less memory available the script lowers N and says so (peaks
scale linearly with N above the baseline). Run:

    python benchmarks/images.py [--n 200000] [--rounds 3] [--steps 30]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROW = 3 * 64 * 64


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _pixels(n: int, chunk: int = 8192):
    import torch

    g = torch.Generator().manual_seed(0)
    for start in range(0, n, chunk):
        yield torch.randint(0, 256, (min(chunk, n - start), 3, 64, 64), generator=g,
                            dtype=torch.uint8)  # fmt: skip


def _dataset(x):
    import torch

    from fairdg.data.base import Domain, MultiDomainDataset

    n = len(x)
    y = torch.arange(n) % 2
    z = (torch.arange(n) // 2) % 2
    return MultiDomainDataset(
        "bench", [Domain("all", x, y, z)], (3, 64, 64), ["a", "b"], ["g", "h"]
    )


def child(variant: str, n: int, path: str) -> dict:
    import numpy as np
    import torch

    from fairdg.data.images import hold_pixels, write_uint8_cache

    start = time.perf_counter()
    if variant == "build":
        write_uint8_cache(Path(path), (n, 3, 64, 64), (b.numpy() for b in _pixels(n)), "b", True)
        return {"peak_gib": _peak_gib(), "seconds": time.perf_counter() - start}
    if variant == "baseline":
        x = torch.zeros(16, 3, 64, 64, dtype=torch.uint8)
    elif variant == "float32":
        x = torch.empty(n, 3, 64, 64)
        for i, block in enumerate(_pixels(n)):
            x[i * 8192 : i * 8192 + len(block)] = block.float().div_(255)
    elif variant == "uint8":
        x = torch.empty(n, 3, 64, 64, dtype=torch.uint8)
        for i, block in enumerate(_pixels(n)):
            x[i * 8192 : i * 8192 + len(block)] = block
    else:  # memmap
        x = hold_pixels(np.load(path, mmap_mode="r"), memory_limit_gb=0)
    split = _dataset(x).split(0)
    assert len(split.parts["all"]["train"]) > 0
    return {"peak_gib": _peak_gib(), "seconds": time.perf_counter() - start}


def speed(n: int, path: str, rounds: int, steps: int) -> dict:
    import numpy as np
    import torch

    from fairdg.algorithms import build_algorithm
    from fairdg.data.images import hold_pixels
    from fairdg.training.sampler import DomainSampler

    torch.set_num_threads(1)
    mapped = np.load(path, mmap_mode="r")
    sets = {"memmap": hold_pixels(mapped, 0), "uint8": hold_pixels(mapped, 1e9)}
    loops = {}
    for name, x in sets.items():
        split = _dataset(x).split(0)
        torch.manual_seed(0)
        algorithm = build_algorithm("erm", (3, 64, 64), 2, 1, {"batch_size": 32, "cnn_width": 32})
        loops[name] = (algorithm, DomainSampler(split.train(), 32, seed=0))
    rates: dict[str, list[float]] = {"memmap": [], "uint8": []}
    for algorithm, sampler in loops.values():  # warm-up
        for _ in range(3):
            algorithm.update(sampler())
    for _ in range(rounds):
        for name, (algorithm, sampler) in loops.items():
            start = time.perf_counter()
            for _ in range(steps):
                algorithm.update(sampler())
            rates[name].append(steps / (time.perf_counter() - start))
    return {k: sorted(v)[len(v) // 2] for k, v in rates.items()}


def _run(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True,
                         text=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def _available_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 2**20
    return float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--path", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = (speed(args.n, args.path, args.rounds, args.steps) if args.child == "speed"
                  else child(args.child, args.n, args.path))  # fmt: skip
        print(json.dumps(result))
        return
    n, free = args.n, _available_gib()
    # the float32 variant peaks near 3x its set (split copies, the finite-value check); use at
    # most half of the available memory on a shared machine
    need = 3.0 * n * ROW * 4 / 2**30 + 0.5
    if need > free / 2:
        n = int(args.n * (free / 2 - 0.5) / (need - 0.5)) // 1000 * 1000
        print(f"note: float32 at N={args.n} needs ~{need:.1f} GiB, {free:.1f} GiB available; "
              f"measuring at N={n} ({n / args.n:.2f} of the requested scale)")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "images.npy")
        build = _run(["--child", "build", "--n", str(n), "--path", path])
        peaks = {v: _run(["--child", v, "--n", str(n), "--path", path])
                 for v in ("baseline", "float32", "uint8", "memmap")}  # fmt: skip
        rates = _run(["--child", "speed", "--n", str(n), "--path", path,
                      "--rounds", str(args.rounds), "--steps", str(args.steps)])  # fmt: skip
    print(f"N = {n} images of 3 x 64 x 64 (float32 {n * ROW * 4 / 2**30:.2f} GiB, uint8 "
          f"{n * ROW / 2**30:.2f} GiB); peak RSS, each variant in its own process:")  # fmt: skip
    print(
        f"  building the uint8 cache file: {build['peak_gib']:.2f} GiB, {build['seconds']:.0f} s"
    )
    for name, r in peaks.items():
        print(f"  {name:8s} hold + split: {r['peak_gib']:.2f} GiB ({r['seconds']:.1f} s)")
    ratio = peaks["uint8"]["peak_gib"] / peaks["float32"]["peak_gib"]
    print(f"uint8 / float32 peak: {ratio:.3f} (target <= 0.3)")
    print(f"memmap peak: {peaks['memmap']['peak_gib']:.2f} GiB (target < 1 GiB)")
    speed_ratio = rates["memmap"] / rates["uint8"]
    print(f"ERM steps/s (small CNN, batch 32): memmap {rates['memmap']:.1f}, in-memory uint8 "
          f"{rates['uint8']:.1f}; ratio {speed_ratio:.2f} (target >= 0.8)")  # fmt: skip
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
