"""Classification heads on top of a featurizer's representation."""

from __future__ import annotations

from torch import nn


def build_classifier(n_inputs: int, num_classes: int) -> nn.Module:
    """A linear head."""
    return nn.Linear(n_inputs, num_classes)
