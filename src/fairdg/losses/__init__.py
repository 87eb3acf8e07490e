"""Losses and penalties: pure torch functions of representations, scores and labels."""

from fairdg.losses.affinity import MemoryBank, affinity_loss
from fairdg.losses.fairness import (
    FAIR_METRICS,
    relaxed_dp,
    relaxed_eo,
    relaxed_eopp,
    relaxed_gap,
)
from fairdg.losses.invariance import (
    coral_penalty,
    gaussian_kernel,
    irm_penalty,
    mmd_penalty,
    pairwise_penalty,
    vrex_penalty,
)

__all__ = ["FAIR_METRICS", "MemoryBank", "affinity_loss", "relaxed_dp", "relaxed_eo"]
__all__ += ["relaxed_eopp", "relaxed_gap"]
__all__ += [
    "coral_penalty",
    "gaussian_kernel",
    "irm_penalty",
    "mmd_penalty",
    "pairwise_penalty",
    "vrex_penalty",
]
