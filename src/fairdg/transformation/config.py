"""`TransformationConfig`: everything that defines the architecture and training of T.

The loss weights and optimiser defaults are the FDDG authors' (METHODS.md, "FDDG"); the network
widths are scaled down from their "tiny MUNIT" so that T trains on a CPU in minutes (authors /
ours: outer width 64 / 8, semantic map 128 / 32 channels, AdaIN MLP 256 / 64 hidden units,
first encoder and last decoder convolutions 7x7 / 5x5, upsampling convolutions 5x5 / 3x3, a
28 x 28 image downsampled once to a 14 x 14 map, as theirs). The tabular sizes are those of
appendix C.5 for NYSF (hidden 32, semantic 16, content 8).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

FAMILIES = ("conv", "mlp")

# The authors' loss weights (tiny_munit.yaml and the inner-level configuration).
DEFAULT_WEIGHTS = {
    "recon_x": 10.0,  # ||G_out(E_m(x), E_s(x)) - x||_1
    "recon_m": 5.0,  # ||G_in(E_c(m), E_a(m)) - m||_1 and ||E_m(x_fake) - m_fake||_1
    "recon_c": 1.0,  # content factor kept through decode -> re-encode
    "recon_s": 1.0,  # sampled style code recovered from the decoded image
    "recon_a": 1.0,  # sampled sensitive code recovered from the decoded image
    "gan_x": 1.0,  # LSGAN on images (outer discriminator)
    "gan_m": 1.0,  # LSGAN on semantic factors (inner discriminator)
    "sensitive": 1.0,  # cross-entropy of h(E_a(m)) against z
    # ours (not in the paper): h must read the sampled label z' = argmax h(a') back off the
    # decoded sample, so that a' (not the style code) decides the sensitive attribute of x'
    "sensitive_cycle": 1.0,
    # ours: the encoded style and sensitive codes of real data are pulled towards their N(0, I)
    # priors (batch mean 0, covariance I), so that codes drawn from the priors (DataAug) fall
    # where real codes lie and h gives both groups
    "prior": 1.0,
}

# The objective variants of `TransformationConfig.objective`: "ours" (the default, the three
# additions above switched on) and "paper" (the paper's terms only: an unconditional image
# discriminator, no sensitive cycle, no prior matching). The T-using competitors (MBDG, DDG,
# FATDM) and "FDDG w/o sf" are described by their papers with the paper's objective.
# objective -> (conditional image discriminator, loss weights of our additions)
OBJECTIVES: dict[str, tuple[bool, dict[str, float]]] = {
    "ours": (True, {"sensitive_cycle": 1.0, "prior": 1.0}),
    "paper": (False, {"sensitive_cycle": 0.0, "prior": 0.0}),
}


def objective_changes(objective: str) -> dict[str, Any]:
    """The `TransformationConfig` fields of a named objective (``"ours"`` or ``"paper"``)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {sorted(OBJECTIVES)}, got {objective!r}")
    conditional_gan, weights = OBJECTIVES[objective]
    return {"conditional_gan": conditional_gan, "weights": dict(weights)}


@dataclass(frozen=True)
class TransformationConfig:
    """Architecture, loss weights and optimiser of the transformation model.

    Parameters
    ----------
    input_shape
        ``(C, H, W)`` for images (convolutional family) or ``(features,)`` (MLP family).
    num_groups
        Number of sensitive groups (outputs of the sensitive classifier h).
    use_sensitive
        False: no inner level (content and style only), the "FDDG w/o sf" ablation.
    conditional_gan
        The outer discriminator judges (x, z) pairs: one head per sensitive group, a real image
        judged by the head of its z, a decoded sample by that of its label z' (ours; the paper's
        discriminator is unconditional). It makes x' show the sampled sensitive attribute.
    style_dim, sensitive_dim
        Sizes of the style code and the sensitive code (priors N(0, I)); 2 as the authors.
    width, semantic_channels, content_channels, mlp_dim, n_res, n_downsample
        Convolutional family: channels of the first outer layer, of the semantic map m, of the
        content map c, hidden units of the MLPs that produce AdaIN parameters, residual blocks,
        stride-2 downsamplings (None: 1 up to 32 pixels, 2 up to 64, 3 above, so that a 28 x 28
        image gives a 14 x 14 map and a 64 x 64 image a 16 x 16 one; a 7 x 7 map loses the
        strokes of MNIST digits).
    disc_width, disc_scales
        Discriminator channels and number of image scales (None: up to 3 that fit the image).
    hidden, semantic_dim, content_dim
        MLP family: hidden units of the outer networks, sizes of m and c (appendix C.5).
    x_low, x_high
        Range of the real inputs (images are mapped to the decoder's [-1, 1] with it); set
        by the trainer from the training data, None for tabular data.
    weights
        Loss weights (see ``DEFAULT_WEIGHTS``).
    lr, beta1, beta2, weight_decay, batch_size
        Adam settings and minibatch size of T's trainer.
    """

    input_shape: tuple[int, ...]
    num_groups: int = 2
    use_sensitive: bool = True
    conditional_gan: bool = True
    style_dim: int = 2
    sensitive_dim: int = 2
    width: int = 8
    semantic_channels: int = 32
    content_channels: int = 32
    mlp_dim: int = 64
    n_res: int = 1
    n_downsample: int | None = None
    disc_width: int = 16
    disc_scales: int | None = None
    hidden: int = 32
    semantic_dim: int = 16
    content_dim: int = 8
    x_low: float | None = None
    x_high: float | None = None
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    weight_decay: float = 1e-4
    batch_size: int = 32

    def __post_init__(self) -> None:
        shape = tuple(int(s) for s in self.input_shape)
        object.__setattr__(self, "input_shape", shape)
        if len(shape) not in (1, 3) or min(shape) < 1:
            raise ValueError(f"input_shape must be (features,) or (C, H, W), got {shape}")
        unknown = sorted(set(self.weights) - set(DEFAULT_WEIGHTS))
        if unknown:
            raise ValueError(f"unknown loss weight(s) {unknown}; valid: {sorted(DEFAULT_WEIGHTS)}")
        object.__setattr__(self, "weights", {**DEFAULT_WEIGHTS, **dict(self.weights)})
        positive = (
            "num_groups",
            "style_dim",
            "sensitive_dim",
            "width",
            "semantic_channels",
            "content_channels",
            "mlp_dim",
            "disc_width",
            "hidden",
            "semantic_dim",
            "content_dim",
            "batch_size",
        )
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.num_groups < 2:
            raise ValueError(f"num_groups must be >= 2, got {self.num_groups}")
        if self.family == "conv" and min(shape[1:]) < 8:
            raise ValueError(f"images must be at least 8 x 8 pixels, got {shape}")
        if self.n_downsample is not None and self.n_downsample not in (1, 2, 3):
            raise ValueError(f"n_downsample must be 1, 2, 3 or None, got {self.n_downsample!r}")
        low, high = self.x_low, self.x_high
        if (low is None) != (high is None) or (
            low is not None and high is not None and not high > low
        ):
            raise ValueError(
                f"x_low < x_high (or both None) required, got {self.x_low!r}, {self.x_high!r}"
            )
        for name in ("lr", "weight_decay"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")

    @property
    def family(self) -> str:
        """``"conv"`` for images, ``"mlp"`` for feature vectors."""
        return "conv" if len(self.input_shape) == 3 else "mlp"

    @property
    def downsamplings(self) -> int:
        if self.n_downsample is not None:
            return self.n_downsample
        size = max(self.input_shape[1:])
        return 1 if size <= 32 else 2 if size <= 64 else 3

    @property
    def discriminator_scales(self) -> int:
        """Scales of the image discriminator: halve while two stride-2 convolutions still fit."""
        if self.disc_scales is not None:
            return self.disc_scales
        size, scales = min(self.input_shape[1:]), 0
        while size >= 4 and scales < 3:
            scales += 1
            size = (size + 1) // 2
        return scales

    @property
    def objective(self) -> str:
        """``"paper"`` when none of our three additions is on, ``"ours"`` when all are (the
        defaults), ``"mixed"`` otherwise."""
        on = [
            self.conditional_gan,
            self.weights["sensitive_cycle"] > 0,
            self.weights["prior"] > 0,
        ]
        return "ours" if all(on) else "paper" if not any(on) else "mixed"

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["input_shape"] = list(self.input_shape)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransformationConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown TransformationConfig field(s) {unknown}; valid: {sorted(known)}"
            )
        return cls(**{**data, "input_shape": tuple(data["input_shape"])})

    def replace(self, **changes: Any) -> TransformationConfig:
        return dataclasses.replace(self, **changes)

    def differences(self, other: TransformationConfig) -> dict[str, tuple[Any, Any]]:
        """Fields whose values differ: name -> (self's, other's)."""
        mine, theirs = self.to_dict(), other.to_dict()
        return {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}
