"""The dependence score of a domain (FDDG, Table 1), as defined in METHODS.md."""

from __future__ import annotations

import math

import torch


def dependence_score(counts: torch.Tensor) -> float:
    """Demographic-parity ratio of the true labels: min_a P(y=1|z=a) / max_a P(y=1|z=a).

    `counts` has shape (2, num_groups): rows y = 0, 1; columns z. 1 means y and z independent;
    NaN when a group is empty or no group has a positive.
    """
    counts = counts.double()
    totals = counts.sum(0)
    if (totals == 0).any():
        return math.nan
    rates = counts[1] / totals
    if float(rates.max()) == 0:
        return math.nan
    return float(rates.min() / rates.max())
