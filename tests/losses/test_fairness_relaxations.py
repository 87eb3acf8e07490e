"""The relaxed fairness gaps against slow, obviously correct references (loops over rows)."""

import itertools

import pytest
import torch

from fairdg.losses.fairness import (
    group_rates,
    rates_gap,
    relaxed_dp,
    relaxed_eo,
    relaxed_eopp,
    relaxed_gap,
)


def _mean(values):
    return sum(values) / len(values)


def slow_gap(scores, z, keep):
    """max - min over groups of the mean score of the rows `keep` admits (0 for < 2 groups)."""
    by_group = {}
    for s, g, k in zip(scores.tolist(), z.tolist(), keep, strict=True):
        if k:
            by_group.setdefault(g, []).append(s)
    means = [_mean(v) for v in by_group.values()]
    return max(means) - min(means) if len(means) > 1 else 0.0


def slow_eopp(scores, y, z):
    return slow_gap(scores, z, [v == 1 for v in y.tolist()])


def slow_eo(scores, y, z):
    fpr = slow_gap(scores, z, [v == 0 for v in y.tolist()])
    return max(slow_eopp(scores, y, z), fpr)


def test_hand_computed_eight_rows():
    s = torch.tensor([0.9, 0.4, 0.6, 0.2, 0.8, 0.7, 0.4, 0.6])
    y = torch.tensor([1, 1, 0, 0, 1, 1, 1, 0])
    z = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    # soft TPR: a (0.9 + 0.4) / 2 = 0.65, b (0.8 + 0.7 + 0.4) / 3 = 0.6333
    assert relaxed_eopp(s, y, z).item() == pytest.approx(0.65 - 1.9 / 3)
    # soft FPR: a (0.6 + 0.2) / 2 = 0.4, b 0.6: the larger gap is 0.2
    assert relaxed_eo(s, y, z).item() == pytest.approx(0.2)
    assert relaxed_dp(s, z).item() == pytest.approx(abs(0.525 - 0.625))


@pytest.mark.parametrize("seed", range(20))
def test_against_the_slow_reference(seed):
    g = torch.Generator().manual_seed(seed)
    n = int(torch.randint(2, 40, (1,), generator=g))
    s = torch.rand(n, generator=g)
    y = torch.randint(0, 2, (n,), generator=g)
    z = torch.randint(0, 1 + seed % 3 + 1, (n,), generator=g)  # 2 to 3 groups, maybe fewer
    assert relaxed_eopp(s, y, z).item() == pytest.approx(slow_eopp(s, y, z), abs=1e-6)
    assert relaxed_eo(s, y, z).item() == pytest.approx(slow_eo(s, y, z), abs=1e-6)
    keep = [True] * n
    assert relaxed_gap("dp", s, z).item() == pytest.approx(slow_gap(s, z, keep), abs=1e-6)


@pytest.mark.parametrize("metric", ["dp", "eo", "eopp"])
def test_one_group_or_one_label_gives_zero_with_a_gradient(metric):
    for y, z in itertools.product(
        [torch.ones(6, dtype=torch.long), torch.tensor([0, 1, 0, 1, 0, 1])],
        [torch.zeros(6, dtype=torch.long), torch.tensor([0, 0, 0, 1, 1, 1])],
    ):
        s = torch.rand(6, requires_grad=True)
        gap = relaxed_gap(metric, s, z, y)
        gap.backward()  # a gradient path exists even when the gap is 0
        assert torch.isfinite(gap) and gap.item() >= 0


def test_unknown_metric_and_missing_labels_are_errors():
    s, z = torch.rand(4), torch.tensor([0, 0, 1, 1])
    with pytest.raises(ValueError, match="fair_metric"):
        relaxed_gap("eodds", s, z)
    with pytest.raises(ValueError, match="pass y"):
        relaxed_gap("eo", s, z)


@pytest.mark.parametrize("metric", ["dp", "eo", "eopp"])
@pytest.mark.parametrize("seed", range(10))
def test_decision_rates_and_their_gap_against_the_slow_reference(metric, seed):
    g = torch.Generator().manual_seed(seed)
    n = int(torch.randint(2, 40, (1,), generator=g))
    decided = (torch.rand(n, generator=g) > 0.5).float()
    y = torch.randint(0, 2, (n,), generator=g)
    z = torch.randint(0, 3, (n,), generator=g)
    rates, present = group_rates(decided, z, y, metric, 3)
    keeps = {"dp": [[True] * n], "eopp": [(y == 1).tolist()]}
    keeps["eo"] = [(y == 1).tolist(), (y == 0).tolist()]
    for kind, keep in enumerate(keeps[metric]):
        for group in range(3):
            triples = zip(decided.tolist(), keep, z.tolist(), strict=True)
            rows = [d for d, k, a in triples if k and a == group]
            assert bool(present[kind, group]) == bool(rows)
            assert rates[kind, group].item() == pytest.approx(_mean(rows) if rows else 0.0)
    expected = max(slow_gap(decided, z, keep) for keep in keeps[metric])
    seen = torch.where(present, rates, torch.nan)
    assert rates_gap(seen).item() == pytest.approx(expected)
