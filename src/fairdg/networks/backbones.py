"""Pretrained image backbones as featurizers: building, loading weights, freezing, normalising.

``--hparam backbone=resnet50 --hparam pretrained=PATH --hparam freeze=bn`` builds a ResNet-50 in
torchvision's layout, loads a torchvision (or timm) state dict from ``PATH`` (``.pth``/``.pt``
through ``torch.load(weights_only=True)``, or ``.safetensors``) with ``strict=True``, and drops
its 1,000-class head. Inputs in [0, 1] are normalised with the ImageNet mean and standard
deviation the weights expect (one-channel images are repeated to three). ``freeze``: ``none``
trains everything; ``bn`` keeps every batch-norm layer in evaluation mode (running statistics
frozen, as DomainBed does); ``all`` freezes the whole backbone (its features can then be
computed once and cached, see `fairdg.networks.feature_cache`). Without ``pretrained`` the
backbone starts from random weights, and fairdg says so once per process.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fairdg.networks.resnet import ResNet, resnet18, resnet50
from fairdg.networks.vgg import VGG, vgg16, vgg19

log = logging.getLogger("fairdg")

# The backbone families: torchvision's layout, `n_features` and `penultimate(x)` (a new family
# joins this union and `BACKBONES`).
Backbone = ResNet | VGG
BACKBONES: dict[str, Callable[..., Backbone]] = {
    "resnet18": resnet18,
    "resnet50": resnet50,
    "vgg16": vgg16,
    "vgg19": vgg19,
}
FREEZE = ("none", "bn", "all")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_warned_random: set[str] = set()


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a ``.safetensors`` file or a torch file (safe, tensors-only load).

    A torch file holding ``{"state_dict": ...}`` or ``{"model": ...}`` is unwrapped, and a
    ``module.`` prefix (DataParallel) is dropped.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pretrained weights file {path} does not exist")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state: Any = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
        for key in ("state_dict", "model"):
            if isinstance(state, Mapping) and isinstance(state.get(key), Mapping):
                state = state[key]
    if not isinstance(state, Mapping):
        raise ValueError(f"{path}: expected a state dict (name -> tensor), got {type(state)}")
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_pretrained(model: nn.Module, path: str | Path, name: str = "backbone") -> None:
    """Load torchvision-layout weights into `model` with ``strict=True`` (clear error if not)."""
    state = read_state_dict(path)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        raise ValueError(
            f"{path} does not hold {name} weights in torchvision's layout: "
            f"{len(missing)} missing key(s) {missing[:3]}, {len(unexpected)} unexpected "
            f"{unexpected[:3]}, {len(wrong)} of another shape {wrong[:3]}"
        )
    model.load_state_dict(state, strict=True)


def weights_digest(path: str | Path | None) -> str:
    """Short content hash of a weights file ("random" without one)."""
    if not path:
        return "random"
    h = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()[:16]


class BackboneFeaturizer(nn.Module):
    """ImageNet normalisation -> backbone without its head (-> optional representation layer).

    Parameters
    ----------
    name
        One of `BACKBONES`.
    pretrained
        Weights file in torchvision's layout, or None/"" for random weights.
    freeze
        ``none``, ``bn`` or ``all`` (see the module docstring).
    rep_dim
        Size of a trainable ``Linear + ReLU`` representation layer on top of the backbone's
        features; 0 for none (the features are the representation).
    """

    mean: torch.Tensor  # ImageNet's, registered buffers
    std: torch.Tensor

    def __init__(self, name: str, pretrained: str | None, freeze: str, rep_dim: int = 0):
        super().__init__()
        self.net = build_backbone(name, pretrained)
        drop_head(self.net)
        self.backbone_name, self.freeze = name, check_freeze(freeze)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)
        if freeze == "all":
            self.net.requires_grad_(False)
        self.project = feature_head(self.net.n_features, rep_dim)
        self.n_outputs = rep_dim or self.net.n_features

    def backbone_features(self, x: torch.Tensor) -> torch.Tensor:
        """The (frozen or not) backbone's features of images in [0, 1]."""
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = (x - self.mean) / self.std
        if self.freeze == "all":
            with torch.no_grad():
                return self.net.penultimate(x)
        return self.net.penultimate(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.backbone_features(x))

    def train(self, mode: bool = True) -> BackboneFeaturizer:
        super().train(mode)
        if self.freeze == "all":
            self.net.eval()
        elif self.freeze == "bn":
            for m in self.net.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self


def drop_head(model: Backbone) -> None:
    """Replace the 1,000-class layer by the identity (it is not part of the features)."""
    if isinstance(model, ResNet):
        model.fc = nn.Identity()
    else:
        model.classifier[-1] = nn.Identity()


N_FEATURES = {"resnet18": 512, "resnet50": 2048, "vgg16": 4096, "vgg19": 4096}


def feature_head(n_features: int, rep_dim: int) -> nn.Module:
    """``Linear(n_features, rep_dim) + ReLU`` (rep_dim > 0) or the identity."""
    if rep_dim > 0:
        return nn.Sequential(nn.Linear(n_features, rep_dim), nn.ReLU())
    return nn.Identity()


class CachedFeatureHead(nn.Module):
    """The trainable part of a frozen-backbone featurizer, applied to cached features."""

    def __init__(self, n_features: int, rep_dim: int = 0):
        super().__init__()
        self.project = feature_head(n_features, rep_dim)
        self.n_outputs = rep_dim or n_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(x)


def check_freeze(freeze: str) -> str:
    """`freeze` if it is one of `FREEZE`, else a clear error."""
    if freeze not in FREEZE:
        raise ValueError(f"hyperparameter 'freeze' must be one of {FREEZE}, got {freeze!r}")
    return freeze


def check_backbone(name: str) -> str:
    """`name` if it is one of `BACKBONES`, else a clear error."""
    if name not in BACKBONES:
        raise ValueError(
            f"hyperparameter 'backbone' must be 'auto' (MLP / small CNN) or one of "
            f"{sorted(BACKBONES)}, got {name!r}"
        )
    return name


def build_backbone(name: str, pretrained: str | None = None) -> Backbone:
    """A backbone with its 1,000-class head, loaded from `pretrained` when given."""
    model = BACKBONES[check_backbone(name)]()
    if pretrained:
        load_pretrained(model, pretrained, name)
    elif name not in _warned_random:
        _warned_random.add(name)
        log.warning(
            "%s starts from random weights (no --hparam pretrained=PATH); the papers use "
            "ImageNet-pretrained weights",
            name,
        )
    return model
