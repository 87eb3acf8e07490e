"""Losses and penalties: pure torch functions of representations, scores and labels."""

from fairdg.losses.affinity import MemoryBank, affinity_loss
from fairdg.losses.fairness import relaxed_dp
from fairdg.losses.invariance import (
    coral_penalty,
    gaussian_kernel,
    irm_penalty,
    mmd_penalty,
    pairwise_penalty,
    vrex_penalty,
)

__all__ = ["MemoryBank", "affinity_loss", "relaxed_dp"]
__all__ += [
    "coral_penalty",
    "gaussian_kernel",
    "irm_penalty",
    "mmd_penalty",
    "pairwise_penalty",
    "vrex_penalty",
]
