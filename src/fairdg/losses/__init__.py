"""Losses and penalties: pure torch functions of representations, scores and labels."""

from fairdg.losses.fairness import relaxed_dp

__all__ = ["relaxed_dp"]
