"""fairdg's run lock (`fairdg.runlock`) against the filelock package, which torch already
installs: acquire + release of an uncontended lock, and what a second process learns.

    python scripts/lock_vs_filelock.py [ROUNDS]

Interleaved rounds (each times both), median per acquire+release, the ratio and the load
average. CONTRIBUTING.md ("Hand-written where a library exists") quotes its figures.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from filelock import FileLock

from fairdg.runlock import RunLockedError, run_lock


def main(rounds: int = 20, per_round: int = 200) -> None:
    """Time both locks in interleaved rounds; show what a second taker is told."""
    folder = Path(tempfile.mkdtemp())
    ours, theirs = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(per_round):
            with run_lock(folder / "run"):
                pass
        ours.append((time.perf_counter() - started) / per_round)
        lock = FileLock(folder / "other.lock")
        started = time.perf_counter()
        for _ in range(per_round):
            with lock:
                pass
        theirs.append((time.perf_counter() - started) / per_round)
    a, b = statistics.median(ours) * 1e6, statistics.median(theirs) * 1e6
    print(f"acquire+release, median of {rounds} rounds x {per_round}:")
    print(f"  fairdg.runlock {a:.1f} us, filelock {b:.1f} us, ratio {a / b:.2f}")
    with run_lock(folder / "run"):  # what a second taker is told (a child process)
        pid = os.fork()
        if pid == 0:
            try:
                with run_lock(folder / "run"):
                    pass
            except RunLockedError as err:
                print(f"  runlock, second taker: {err}")
            try:
                with FileLock(folder / "run.lock", timeout=0, is_singleton=False):
                    pass
            except Exception as err:  # filelock.Timeout
                print(f"  filelock, second taker: {err}")
            os._exit(0)
        os.waitpid(pid, 0)
    print("  load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
