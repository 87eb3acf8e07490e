"""The featurizer factory: a network family chosen from the input shape, sized by hyperparameters.

``build_featurizer(input_shape, hparams)`` returns a module mapping inputs to the
representation (``rep_dim`` features): an MLP for tabular vectors, the small CNN of DomainBed's
MNIST experiments (plus a linear projection to ``rep_dim``) for images, or with
``backbone=resnet18|resnet50|vgg16|vgg19`` a torchvision-layout backbone (`backbones`), whose
features are the representation unless ``rep_layer`` adds a ``rep_dim`` layer on top. With
``freeze=all`` and 1-D inputs, the inputs are taken to be that backbone's cached features
(`feature_cache`) and only the trainable part is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fairdg.hparams import Choice, Fixed, HParam, Interval, OneOf
from fairdg.networks.backbones import (
    BACKBONES,
    FREEZE,
    N_FEATURES,
    BackboneFeaturizer,
    CachedFeatureHead,
    check_backbone,
    check_freeze,
)
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
    "backbone": HParam(
        "auto",
        Fixed(),
        "auto (MLP / small CNN) or resnet18, resnet50, vgg16, vgg19",
        OneOf(("auto", *BACKBONES)),
    ),
    "pretrained": HParam("", Fixed(), "backbone weights file (.pth or .safetensors); '' random"),
    "freeze": HParam(
        "none", Fixed(), "backbone: none, bn (batch-norm statistics) or all", OneOf(FREEZE)
    ),
    "rep_layer": HParam(False, Fixed(), "backbone: add a trainable rep_dim layer on top"),
}


# What `build_featurizer` builds: each has `n_outputs`, the size of the representation.
Featurizer = MLP | SmallCNN | BackboneFeaturizer | CachedFeatureHead


def build_featurizer(input_shape: tuple[int, ...], hparams: Mapping[str, Any]) -> Featurizer:
    """An MLP for 1-D inputs, the small CNN for (C, H, W) images."""
    rep_dim = int(hparams["rep_dim"])
    backbone = str(hparams.get("backbone", "auto"))
    if backbone != "auto":
        return _backbone_featurizer(input_shape, backbone, hparams)
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


def _backbone_featurizer(
    input_shape: tuple[int, ...], name: str, hparams: Mapping[str, Any]
) -> BackboneFeaturizer | CachedFeatureHead:
    check_backbone(name)
    freeze = check_freeze(str(hparams.get("freeze", "none")))
    rep = int(hparams["rep_dim"]) if hparams.get("rep_layer", False) else 0
    if len(input_shape) == 3 and input_shape[0] in (1, 3):
        return BackboneFeaturizer(name, hparams.get("pretrained") or None, freeze, rep)
    if tuple(input_shape) == (N_FEATURES[name],) and freeze == "all":
        return CachedFeatureHead(N_FEATURES[name], rep)
    raise ValueError(
        f"backbone={name} needs images of shape (1 or 3, H, W) (or, with freeze=all, its "
        f"cached {N_FEATURES[name]} features), got inputs of shape {tuple(input_shape)}"
    )
