"""The MLP featurizer for tabular vectors."""

from __future__ import annotations

from torch import nn


class MLP(nn.Module):
    """``in -> [Linear(width) ReLU Dropout] * depth -> Linear(rep_dim) ReLU``.

    The last ReLU layer is the representation (the paper's "20-unit layer").
    """

    def __init__(self, n_inputs: int, rep_dim: int, width: int, depth: int, dropout: float):
        super().__init__()
        layers: list[nn.Module] = []
        size = n_inputs
        for _ in range(depth):
            layers += [nn.Linear(size, width), nn.ReLU(), nn.Dropout(dropout)]
            size = width
        layers += [nn.Linear(size, rep_dim), nn.ReLU()]
        self.net = nn.Sequential(*layers)
        self.n_outputs = rep_dim

    def forward(self, x):
        return self.net(x.flatten(1))
