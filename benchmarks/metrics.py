"""Time the rank-based fairness AUC and ``evaluate`` against a quadratic reference.

Run with ``python benchmarks/metrics.py [--huge]`` (fairdg installed, or ``PYTHONPATH=src``).
Targets: ``fairness_auc`` and ``evaluate`` on 1,000,000 samples well under 1 s, and
``fairness_auc`` at least 100x faster than the FDDG-style quadratic Python loop at 2,000
samples. ``--huge`` also
times ``evaluate`` at 10,000,000 samples against one ``np.argsort`` of its scores (it sorts once:
integer group labels are encoded with a bincount, not ``np.unique``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np

from fairdg.metrics import evaluate, fairness_auc


def quadratic_auc(scores: np.ndarray, z: np.ndarray) -> float:
    """The FDDG code's double loop over group pairs, with ties counted one half (folded)."""
    s1, s0 = scores[z == 1].tolist(), scores[z == 0].tolist()
    wins = 0.0
    for a in s1:
        for b in s0:
            wins += (a > b) + 0.5 * (a == b)
    value = wins / (len(s1) * len(s0))
    return max(value, 1.0 - value)


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Minimum wall time over ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, n)
    y = rng.integers(0, 2, n)
    # scores depend on y and a little on z; rounded so that ties occur
    scores = np.round(np.clip(0.35 * y + 0.1 * z + 0.55 * rng.random(n), 0.0, 1.0), 4)
    return y, scores, z


def main() -> None:
    huge = "--huge" in sys.argv
    y_small, s_small, z_small = make_data(2_000)
    y_big, s_big, z_big = make_data(1_000_000)
    names = np.array(["female", "male", "other"])[np.random.default_rng(1).integers(0, 3, 10**6)]

    fast = fairness_auc(None, s_small, sensitive_features=z_small)
    slow = quadratic_auc(s_small, z_small)
    if abs(fast - slow) > 1e-12:
        raise SystemExit(f"rank-based AUC {fast!r} != quadratic reference {slow!r}")

    cases = [  # (name, n, call, repeats)
        (
            "fairness_auc (rank-based)",
            2_000,
            lambda: fairness_auc(None, s_small, sensitive_features=z_small),
            20,
        ),
        ("fairness_auc (quadratic loop)", 2_000, lambda: quadratic_auc(s_small, z_small), 3),
        (
            "fairness_auc (rank-based)",
            10**6,
            lambda: fairness_auc(None, s_big, sensitive_features=z_big),
            5,
        ),
        (
            "evaluate (binary, 2 groups)",
            10**6,
            lambda: evaluate(y_big, s_big, sensitive_features=z_big),
            5,
        ),
        (
            "evaluate (3 string groups)",
            10**6,
            lambda: evaluate(y_big, s_big, sensitive_features=names),
            3,
        ),
    ]
    if huge:
        y_h, s_h, z_h = make_data(10**7)
        cases += [
            (
                "evaluate (binary, 2 groups)",
                10**7,
                lambda: evaluate(y_h, s_h, sensitive_features=z_h),
                3,
            ),
            ("one np.argsort of the scores", 10**7, lambda: np.argsort(s_h), 3),
        ]
    rows = [(name, n, best_time(call, repeats)) for name, n, call, repeats in cases]
    print(f"{'case':<32}{'n':>12}{'time (s)':>12}")
    for name, n, seconds in rows:
        print(f"{name:<32}{n:>12,}{seconds:>12.5f}")

    speedup = rows[1][2] / rows[0][2]
    checks = [
        (
            f"speed-up over the quadratic loop at 2,000: {speedup:,.0f}x",
            "target >= 100x",
            speedup >= 100,
        ),
        (f"fairness_auc at 1,000,000: {rows[2][2]:.3f} s", "target < 1 s", rows[2][2] < 1.0),
        (f"evaluate at 1,000,000: {rows[3][2]:.3f} s", "target < 1 s", rows[3][2] < 1.0),
    ]
    print()
    for text, target, ok in checks:
        print(f"{text} ({target}): {'ok' if ok else 'MISSED'}")
    if huge:
        ratio = rows[5][2] / rows[6][2]
        print(f"evaluate at 10,000,000 / one argsort of its scores: {ratio:.2f}x")
    print(f"values agree at 2,000: {fast:.12f} (rank-based) vs {slow:.12f} (quadratic)")


if __name__ == "__main__":
    main()
