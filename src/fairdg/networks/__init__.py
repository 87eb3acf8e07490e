"""Featurizers and heads, built from an input shape and hyperparameters.

``build_featurizer(input_shape, hparams)`` returns a module mapping inputs to the
representation (``rep_dim`` features): an MLP for tabular vectors, the small CNN of DomainBed's
MNIST experiments (plus a linear projection to ``rep_dim``) for images.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from fairdg.hparams import Choice, Fixed, HParam, Interval

_COUNT = Interval(1, integer=True)
NETWORK_HPARAMS = {
    "rep_dim": HParam(20, Fixed(), "size of the representation layer", _COUNT),
    "mlp_width": HParam(128, Choice((64, 128, 256)), "hidden units of the MLP featurizer", _COUNT),
    "mlp_depth": HParam(
        1,
        Choice((1, 2, 3)),
        "hidden layers before the representation",
        Interval(0, integer=True),
    ),
    "mlp_dropout": HParam(
        0.0,
        Choice((0.0, 0.1, 0.5)),
        "dropout in the MLP featurizer",
        Interval(0, 1, high_open=True),
    ),
    "cnn_width": HParam(
        64, Choice((32, 64)), "channels of the first CNN layer (others double)", _COUNT
    ),
}


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


def build_featurizer(input_shape: tuple[int, ...], hparams: Mapping[str, Any]) -> nn.Module:
    """An MLP for 1-D inputs, the small CNN for (C, H, W) images."""
    rep_dim = int(hparams["rep_dim"])
    if len(input_shape) == 1:
        return MLP(
            input_shape[0],
            rep_dim,
            int(hparams["mlp_width"]),
            int(hparams["mlp_depth"]),
            float(hparams["mlp_dropout"]),
        )
    if len(input_shape) == 3:
        return SmallCNN(input_shape, rep_dim, int(hparams["cnn_width"]))
    raise ValueError(f"input_shape must be (features,) or (C, H, W), got {input_shape}")


def build_classifier(n_inputs: int, num_classes: int) -> nn.Module:
    """A linear head."""
    return nn.Linear(n_inputs, num_classes)
