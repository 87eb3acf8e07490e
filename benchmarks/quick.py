"""The quick start and the quick reproductions against their stated times (issue 28 point 4).

    FAIRDG_DATA=... python benchmarks/quick.py                  # all three, once each
    FAIRDG_DATA=... python benchmarks/quick.py quickstart --repeats 3
    FAIRDG_DATA=... python benchmarks/quick.py rotated ccmnist --baseline

Runs each command in a fresh folder (nothing reused), one after the other, and prints its wall
time against its target on an idle two-core machine, the CPU time of its whole process tree
(user + system of the command and the worker processes it waited for) and the load average
before and after:

- ``quickstart``: ``fairdg run`` (Affinity and ERM on the bundled Adult; target 12 s);
- ``rotated``: ``fairdg reproduce affinity-da-rotated --quick`` (target 180 s; needs MNIST);
- ``ccmnist``: ``fairdg reproduce fddg-ccmnist --quick`` (target 480 s; needs MNIST).

``--baseline`` also runs each with the earlier defaults, alternating with the current ones:
the reproductions with ``--workers 1`` (one process with all of torch's threads), the quick
start as its two runs one after the other (``--compare none``, then ERM alone: one more start
of Python than before). On a busy machine the wall times say little: CPU time is the steadier
figure, and a CPU-bound command that keeps ``p`` processes busy takes about CPU / min(2, p) of
wall time on two idle cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FAIRDG = [sys.executable, "-m", "fairdg", "-q"]
SEQUENTIAL = [["run", "--compare", "none"], ["run", "--algorithm", "erm", "--compare", "none"]]
COMMANDS = {  # name -> (target in seconds, the command, the earlier default's commands)
    "quickstart": (12, [["run"]], SEQUENTIAL),
    "rotated": (180, [["reproduce", "affinity-da-rotated", "--quick"]], None),
    "ccmnist": (480, [["reproduce", "fddg-ccmnist", "--quick"]], None),
}  # fmt: skip


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(commands: list[list[str]], folder: Path) -> tuple[float, float]:
    """Wall and process-tree CPU seconds of `commands`, one after the other, in `folder`."""
    folder.mkdir(parents=True)
    cpu, started = children_cpu(), time.perf_counter()
    for command in commands:
        extra = ["--output", str(folder / "out")] if command[0] == "reproduce" else []
        subprocess.run([*FAIRDG, *command, *extra], cwd=folder, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - started, children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"of {list(COMMANDS)} (default: all)")
    parser.add_argument("--repeats", type=int, default=1, help="times each (default 1)")
    parser.add_argument("--baseline", action="store_true", help="also the earlier defaults")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(COMMANDS))
    if unknown:
        parser.error(f"unknown {unknown}; choose from {list(COMMANDS)}")
    print(f"{os.cpu_count()} CPUs; {load()}; fairdg from {Path(__file__).resolve().parents[1]}")
    with tempfile.TemporaryDirectory(prefix="fairdg-quick-") as root:
        for name in args.names or COMMANDS:
            target, now, before = COMMANDS[name]
            if before is None:  # a reproduction: --workers 1 was the default
                before = [[*now[0], "--workers", "1"]]
            kinds = {"now": now, **({"before": before} if args.baseline else {})}
            walls: dict[str, list[float]] = {kind: [] for kind in kinds}
            for r in range(args.repeats):
                for kind in kinds if r % 2 == 0 else reversed(kinds):
                    was = load()
                    wall, cpu = timed(kinds[kind], Path(root) / f"{name}-{kind}-{r}")
                    walls[kind].append(wall)
                    print(f"  {name} ({kind}): wall {wall:.1f} s, CPU {cpu:.1f} s "
                          f"(target {target} s: {wall / target:.2f}x; {was} -> {load()[5:]})",
                          flush=True)  # fmt: skip
            median = {kind: statistics.median(w) for kind, w in walls.items()}
            line = f"{name}: median wall {median['now']:.1f} s, target {target} s"
            line += f" ({'met' if median['now'] <= target else 'MISSED'} on this machine)"
            if args.baseline:
                line += f"; earlier defaults {median['before']:.1f} s"
                line += f" ({median['before'] / median['now']:.2f}x the time)"
            print(line, flush=True)


if __name__ == "__main__":
    main()
