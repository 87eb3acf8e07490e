"""The small CNN featurizer of DomainBed's MNIST experiments."""

from __future__ import annotations

from torch import nn


class SmallCNN(nn.Module):
    """DomainBed's MNIST CNN: four 3x3 convolutions (w, 2w stride 2, 2w, 2w), each followed by
    ReLU and GroupNorm(8), global average pooling, then a linear map to ``rep_dim`` and ReLU.
    """

    def __init__(self, input_shape: tuple[int, ...], rep_dim: int, width: int):
        super().__init__()
        c = input_shape[0]
        w2 = 2 * width
        self.trunk = nn.Sequential(
            nn.Conv2d(c, width, 3, padding=1),
            nn.ReLU(),
            nn.GroupNorm(8, width),
            nn.Conv2d(width, w2, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.GroupNorm(8, w2),
            nn.Conv2d(w2, w2, 3, padding=1),
            nn.ReLU(),
            nn.GroupNorm(8, w2),
            nn.Conv2d(w2, w2, 3, padding=1),
            nn.ReLU(),
            nn.GroupNorm(8, w2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.project = nn.Sequential(nn.Linear(w2, rep_dim), nn.ReLU())
        self.n_outputs = rep_dim

    def forward(self, x):
        return self.project(self.trunk(x))
