"""A verdict on a paper's claim "method A against method B", from per-seed rows, with bootstrap
intervals over seeds and one mechanical sentence per metric.

Input: rows as the FDDG reproductions write them (``rows.json``: one per method, held-out domain
and seed, with ``dp_ratio``, ``fairness_auc``, ``accuracy``, ``positive_rate`` and the
degenerate flags ``degenerate`` / ``test_degenerate``). Output: the difference A - B per
held-out domain and on average (the mean over domains of the per-domain differences of the
seed means), each with a 95 % percentile bootstrap interval, and for each metric "holds",
"does not hold" or "inconclusive at n seeds".

**What is resampled.** For every (method, held-out domain) cell, its seeds' values are drawn
with replacement, as many as it has, independently of every other cell; a replicate's
difference is the mean of A's draw minus the mean of B's, and the average's replicate is the
mean of those over the domains (all cells drawn together). Seeds are not paired across
methods: A's and B's seed k share a data split, not a model, and pairing would hide nothing
but assume more. The interval is the 2.5 % and 97.5 % quantiles of the replicates (numpy's
linear interpolation). A cell with fewer than two defined values has no interval (NaN).

**The claims.** Each metric has a direction and a margin (`Claim`): the claim holds when the
whole interval lies on the claimed side of the margin, does not hold when the whole interval
lies on the other side, and is inconclusive otherwise (said with the smallest number of seeds
behind the interval). Pure numpy, no torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

METRICS = ("dp_ratio", "fairness_auc", "accuracy")
AVG = "Avg"


@dataclass(frozen=True)
class Claim:
    """A claim on ``A - B`` for one metric: above ``margin`` (``direction`` +1) or below it
    (-1)."""

    metric: str
    text: str
    direction: int
    margin: float = 0.0


@dataclass(frozen=True)
class Interval:
    """``A - B`` (difference of seed means), its bootstrap interval, and the seeds behind it."""

    diff: float
    low: float
    high: float
    seeds: int


def values(rows: Sequence[Mapping[str, Any]], method: str, target: str, metric: str) -> list:
    """The defined values of `metric` over the seeds of (method, target)."""
    out = []
    for row in rows:
        if row["method"] == method and row["target"] == target:
            value = row.get(metric)
            if value is not None and not math.isnan(float(value)):
                out.append(float(value))
    return out


def _draws(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Means of `n` resamples of `x` with replacement."""
    return x[rng.integers(0, len(x), size=(n, len(x)))].mean(axis=1)


def bootstrap_differences(
    a: Mapping[str, Sequence[float]],
    b: Mapping[str, Sequence[float]],
    n_resamples: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, Interval]:
    """``A - B`` per key of `a` (held-out domains) and on average (key ``"Avg"``), with
    percentile bootstrap intervals over seeds (module docstring).

    Parameters
    ----------
    a, b
        Per-seed values of methods A and B by held-out domain (the same keys).
    n_resamples, seed, confidence
        Replicates, the seed of numpy's ``default_rng`` drawing them, the coverage.
    """
    if set(a) != set(b) or not a:
        raise ValueError(f"a and b need the same non-empty keys, got {sorted(a)} and {sorted(b)}")
    if not 0 < confidence < 1 or n_resamples < 1:
        raise ValueError(f"need 0 < confidence < 1 and n_resamples >= 1, got {confidence}, "
                         f"{n_resamples}")  # fmt: skip
    rng = np.random.default_rng(seed)
    q = [(1 - confidence) / 2, (1 + confidence) / 2]
    out: dict[str, Interval] = {}
    replicates: list[np.ndarray | None] = []
    for key in a:
        x, y = np.asarray(a[key], dtype=float), np.asarray(b[key], dtype=float)
        seeds = min(len(x), len(y))
        diff = float(x.mean() - y.mean()) if seeds else math.nan
        if seeds < 2:
            out[key] = Interval(diff, math.nan, math.nan, seeds)
            replicates.append(None)
            continue
        rep = _draws(x, n_resamples, rng) - _draws(y, n_resamples, rng)
        low, high = np.quantile(rep, q)
        out[key] = Interval(diff, float(low), float(high), seeds)
        replicates.append(rep)
    seeds = min(i.seeds for i in out.values())
    diff = float(np.mean([i.diff for i in out.values()]))
    drawn = [r for r in replicates if r is not None]
    if len(drawn) < len(replicates):
        out[AVG] = Interval(diff, math.nan, math.nan, seeds)
    else:
        low, high = np.quantile(np.mean(drawn, axis=0), q)
        out[AVG] = Interval(diff, float(low), float(high), seeds)
    return out


def outcome(claim: Claim, interval: Interval) -> str:
    """The claim's outcome on `interval`: holds, does not hold, or inconclusive at n seeds
    (module docstring)."""
    low, high = (
        claim.direction * (interval.low - claim.margin),
        claim.direction * (interval.high - claim.margin),
    )
    low, high = min(low, high), max(low, high)
    if not math.isnan(low) and low > 0:
        return "holds"
    if not math.isnan(high) and high <= 0:
        return "does not hold"
    n = interval.seeds
    return f"inconclusive at {n} seed{'s' if n != 1 else ''}"


def _scale(metric: str) -> float:
    return 100.0 if metric == "accuracy" else 1.0


def interval_text(metric: str, interval: Interval) -> str:
    """``"+0.05 [-0.02, +0.12]"`` (accuracy in points); no interval: ``"+0.05 [-]"``."""
    s = _scale(metric)
    if math.isnan(interval.diff):
        return "-"
    if math.isnan(interval.low):
        return f"{s * interval.diff:+.2f} [-]"
    return f"{s * interval.diff:+.2f} [{s * interval.low:+.2f}, {s * interval.high:+.2f}]"


def differences(
    rows: Sequence[Mapping[str, Any]],
    a: str,
    b: str,
    targets: Sequence[str],
    n_resamples: int = 10_000,
    seed: int = 0,
) -> dict[str, dict[str, Interval]]:
    """Metric -> `bootstrap_differences` of methods `a` and `b` over `targets`."""
    return {
        metric: bootstrap_differences(
            {t: values(rows, a, t, metric) for t in targets},
            {t: values(rows, b, t, metric) for t in targets},
            n_resamples,
            seed,
        )
        for metric in METRICS
    }


def _mean_std(xs: Sequence[float], metric: str) -> str:
    if not xs:
        return "-"
    s = _scale(metric)
    mean = s * float(np.mean(xs))
    return f"{mean:.2f}" + (f" ± {s * float(np.std(xs, ddof=1)):.2f}" if len(xs) > 1 else "")


def _flagged(rows: Sequence[Mapping[str, Any]], method: str, target: str) -> bool:
    return any(
        r.get("degenerate") or r.get("test_degenerate")
        for r in rows
        if r["method"] == method and r["target"] == target
    )


def _cell(rows: Sequence[Mapping[str, Any]], method: str, target: str) -> str:
    """One method on one held-out domain: "DP / AUC / accuracy [pr] (n)", a dagger when a seed
    is degenerate."""
    parts = [_mean_std(values(rows, method, target, m), m) for m in METRICS]
    rates = values(rows, method, target, "positive_rate")
    n = len(values(rows, method, target, "accuracy"))
    rate = f" [pr {np.mean(rates):.2f}]" if rates else ""
    dagger = "†" if _flagged(rows, method, target) else ""
    return " / ".join(parts) + f"{rate} (n={n}){dagger}"


def verdict_table(
    rows: Sequence[Mapping[str, Any]],
    methods: tuple[str, str],
    labels: tuple[str, str],
    targets: Sequence[str],
    diffs: Mapping[str, Mapping[str, Interval]],
    paper: Mapping[str, Sequence[float]] | None = None,
    paper_label: str = "paper",
) -> str:
    """Per held-out domain and on average: B's and A's cells (mean ± sample std over seeds, the
    held-out positive rate, the number of seeds), A - B per metric with its 95 % interval, and
    the paper's A - B (``paper``: domain or ``"Avg"`` -> differences in `METRICS` order)."""
    a, b = methods
    header = ["held-out domain", f"{labels[1]}: DP / AUC / acc %", f"{labels[0]}: DP / AUC / "
              "acc %", *(f"{labels[0]} - {labels[1]}: {m} [95 % CI]" for m in
                         ("DP ratio", "fairness AUC", "accuracy (points)"))]  # fmt: skip
    if paper is not None:
        header.append(f"{paper_label}: {labels[0]} - {labels[1]}")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key in (*targets, AVG):
        cells = [key, "", ""] if key == AVG else [key, _cell(rows, b, key), _cell(rows, a, key)]
        cells += [interval_text(m, diffs[m][key]) for m in METRICS]
        if paper is not None:
            given = paper.get(key)
            cells.append(
                " / ".join(f"{_scale(m) * v:+.2f}" for m, v in zip(METRICS, given, strict=True))
                if given
                else "-"
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# FDDG's claim on ccMNIST (the paper's Table 6 averages: DP 0.71 vs ERM 0.48, AUC 0.66 vs 0.78,
# accuracy 96.76 vs 97.24 %): fairer at about equal accuracy. "About equal" is ours: at most
# one point below (the paper's gap is 0.48 points).
ACCURACY_MARGIN = 0.01
FDDG_CLAIMS = (
    Claim("dp_ratio", "FDDG's DP ratio is higher than ERM's", +1),
    Claim("fairness_auc", "FDDG's fairness AUC is lower (closer to 0.5) than ERM's", -1),
    Claim(
        "accuracy",
        f"FDDG's accuracy is about equal to ERM's (at most {100 * ACCURACY_MARGIN:g} point below)",
        +1,
        -ACCURACY_MARGIN,
    ),
)
NAMES = {"dp_ratio": "DP ratio", "fairness_auc": "Fairness AUC", "accuracy": "Accuracy"}


def verdict_lines(
    diffs: Mapping[str, Mapping[str, Interval]],
    claims: Sequence[Claim] = FDDG_CLAIMS,
    paper: Mapping[str, tuple[float, float]] | None = None,
    degenerate: int = 0,
) -> list[str]:
    """One sentence per claim on the average over held-out domains: the difference, its
    interval, the paper's averages (``paper``: metric -> (A, B)), and the outcome."""
    out = []
    for claim in claims:
        interval = diffs[claim.metric][AVG]
        s = _scale(claim.metric)
        said = ""
        if paper and claim.metric in paper:
            pa, pb = paper[claim.metric]
            said = f"; the paper: {s * (pa - pb):+.2f} ({s * pa:.2f} vs {s * pb:.2f})"
        caution = (
            f" (caution: {degenerate} degenerate row(s) among the rows behind it, listed above)"
            if degenerate
            else ""
        )
        out.append(
            f"- {NAMES.get(claim.metric, claim.metric)}: difference on average "
            f"{interval_text(claim.metric, interval)} (95 % bootstrap interval; at least "
            f"{interval.seeds} seed(s) per method and domain){said}. {claim.text}: "
            f"**{outcome(claim, interval)}**{caution}."
        )
    return out
