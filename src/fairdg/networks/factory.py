"""The featurizer factory: a network family chosen from the input shape, sized by hyperparameters.

``build_featurizer(input_shape, hparams)`` returns a module mapping inputs to the
representation (``rep_dim`` features): an MLP for tabular vectors, the small CNN of DomainBed's
MNIST experiments (plus a linear projection to ``rep_dim``) for images.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from fairdg.hparams import Choice, Fixed, HParam, Interval
from fairdg.networks.cnn import SmallCNN
from fairdg.networks.mlp import MLP

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
