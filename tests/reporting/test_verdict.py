"""The verdict's bootstrap intervals against the exact bootstrap distribution (every resample
enumerated), its mechanical outcomes, and its table and sentences on a small fixture."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from fairdg.reporting.verdict import (
    AVG,
    FDDG_CLAIMS,
    Claim,
    Interval,
    bootstrap_differences,
    differences,
    outcome,
    verdict_lines,
    verdict_table,
)


def _exact_means(x: list[float]) -> np.ndarray:
    """The mean of every one of the n^n equally likely resamples of `x` (slow and obvious)."""
    return np.array([np.mean(draw) for draw in itertools.product(x, repeat=len(x))])


def _inverted_cdf(values: np.ndarray, p: float) -> float:
    """The smallest value whose share of `values` at or below it reaches p."""
    ordered = np.sort(values)
    return float(ordered[math.ceil(p * len(ordered)) - 1])


def test_intervals_match_the_exact_bootstrap_distribution():
    a = {"x": [0.1, 0.4, 0.9], "y": [0.3, 0.35, 0.7]}
    b = {"x": [0.2, 0.3, 0.35], "y": [0.1, 0.6, 0.25]}
    got = bootstrap_differences(a, b, n_resamples=40_000, seed=1)
    exact = {k: np.subtract.outer(_exact_means(a[k]), _exact_means(b[k])).ravel() for k in a}
    exact[AVG] = np.add.outer(exact["x"], exact["y"]).ravel() / 2
    for key, dist in exact.items():
        low, high = _inverted_cdf(dist, 0.025), _inverted_cdf(dist, 0.975)
        assert got[key].low == pytest.approx(low, abs=0.01), key
        assert got[key].high == pytest.approx(high, abs=0.01), key
    assert got["x"].diff == pytest.approx(np.mean(a["x"]) - np.mean(b["x"]))
    assert got[AVG].diff == pytest.approx((got["x"].diff + got["y"].diff) / 2)
    assert got[AVG].seeds == 3
    again = bootstrap_differences(a, b, n_resamples=40_000, seed=1)
    assert again == got  # seeded


def test_one_seed_has_no_interval_and_bad_input_is_refused():
    got = bootstrap_differences({"x": [0.5]}, {"x": [0.2, 0.3]})
    assert got["x"].diff == pytest.approx(0.25) and math.isnan(got["x"].low)
    assert math.isnan(got[AVG].high) and got[AVG].seeds == 1
    with pytest.raises(ValueError, match="same non-empty keys"):
        bootstrap_differences({"x": [1.0]}, {"y": [1.0]})


@pytest.mark.parametrize(
    ("claim", "low", "high", "expected"),
    [
        (Claim("dp_ratio", "", +1), 0.01, 0.3, "holds"),
        (Claim("dp_ratio", "", +1), -0.3, -0.01, "does not hold"),
        (Claim("dp_ratio", "", +1), -0.1, 0.2, "inconclusive at 5 seeds"),
        (Claim("fairness_auc", "", -1), -0.2, -0.01, "holds"),
        (Claim("fairness_auc", "", -1), 0.0, 0.1, "does not hold"),
        (Claim("accuracy", "", +1, -0.01), -0.009, 0.02, "holds"),
        (Claim("accuracy", "", +1, -0.01), -0.05, -0.02, "does not hold"),
        (Claim("accuracy", "", +1, -0.01), -0.05, 0.01, "inconclusive at 5 seeds"),
        (Claim("accuracy", "", +1, -0.01), math.nan, math.nan, "inconclusive at 5 seeds"),
    ],
)
def test_outcomes_follow_from_the_interval(claim, low, high, expected):
    assert outcome(claim, Interval(0.0, low, high, 5)) == expected


def _rows():
    """ERM and FDDG on two held-out domains, three seeds each: FDDG's DP ratio clearly higher,
    its AUC clearly higher too (the claim fails), accuracies overlapping."""
    rows = []
    for target, shift in (("a", 0.0), ("b", 0.1)):
        for seed in range(3):
            for method, dp, auc, acc in (("erm", 0.4, 0.70, 0.90), ("fddg", 0.7, 0.80, 0.89)):
                rows.append({
                    "method": method, "target": target, "seed": seed,
                    "dp_ratio": dp + shift + 0.01 * seed, "fairness_auc": auc + 0.01 * seed,
                    "accuracy": acc + 0.02 * (seed - 1) * (1 if method == "erm" else -1),
                    "positive_rate": 0.5,
                })  # fmt: skip
    rows[-1]["test_degenerate"] = True
    return rows


def test_table_and_sentences_on_a_fixture():
    rows = _rows()
    diffs = differences(rows, "fddg", "erm", ["a", "b"], n_resamples=2000)
    assert diffs["dp_ratio"]["a"].diff == pytest.approx(0.3)
    paper = {"a": (0.1, -0.1, -0.01), AVG: (0.23, -0.12, -0.0048)}
    table = verdict_table(rows, ("fddg", "erm"), ("FDDG", "ERM"), ["a", "b"], diffs, paper)
    lines = table.splitlines()
    assert lines[0].startswith("| held-out domain | ERM: DP / AUC / acc % | FDDG: DP / AUC")
    assert lines[0].endswith("| paper: FDDG - ERM |")
    a = lines[2].split(" | ")
    assert a[1] == "0.41 ± 0.01 / 0.71 ± 0.01 / 90.00 ± 2.00 [pr 0.50] (n=3)"
    assert a[3].startswith("+0.30 [+0.") and a[-1] == "+0.10 / -0.10 / -1.00 |"
    assert lines[3].split(" | ")[2].endswith("(n=3)†")  # FDDG on b: a degenerate seed
    assert lines[4].startswith("| Avg |  |  | +0.30")
    assert lines[4].endswith("+0.23 / -0.12 / -0.48 |")
    sentences = verdict_lines(diffs, FDDG_CLAIMS, {"dp_ratio": (0.71, 0.48)}, degenerate=1)
    assert "**holds**" in sentences[0] and "the paper: +0.23 (0.71 vs 0.48)" in sentences[0]
    assert "**does not hold**" in sentences[1]
    assert "**inconclusive at 3 seeds**" in sentences[2]
    assert all("1 degenerate row(s)" in s for s in sentences)
