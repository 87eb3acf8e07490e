"""RandAug: ERM on randomly augmented inputs (the data-augmentation baseline of DomainBed and of
the FDDG comparison).

Objective: the pooled cross-entropy of ERM on a randomly perturbed copy of each minibatch.
Images get a colour jitter with one random brightness, contrast, saturation and hue per image
(`fairdg.algorithms.augment.color_jitter`, torchvision's ``ColorJitter`` semantics, inputs in
[0, 1]); tabular rows get Gaussian noise of standard deviation ``aug_noise`` (features are
standardised).
One update is one Adam step on that loss; the optional relaxed-DP penalty (``fair_lambda``) is
computed on the same (augmented) batch, whose sensitive attributes are those of the real rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from fairdg.algorithms.augment import color_jitter, gaussian_noise
from fairdg.algorithms.base import FeaturizerClassifier
from fairdg.data.base import Batch, cat
from fairdg.hparams import HParam, Interval, LogUniform, Uniform


class RandAug(FeaturizerClassifier):
    """ERM with random colour jitter (images) or Gaussian feature noise (tabular)."""

    HPARAMS = {
        "aug_brightness": HParam(
            0.3, Uniform(0.0, 0.5), "brightness factor spread (images)", Interval(0)
        ),
        "aug_contrast": HParam(
            0.3, Uniform(0.0, 0.5), "contrast factor spread (images)", Interval(0)
        ),
        "aug_saturation": HParam(
            0.3, Uniform(0.0, 0.5), "saturation factor spread (images)", Interval(0)
        ),
        "aug_hue": HParam(
            0.1, Uniform(0.0, 0.5), "hue shift spread in turns (images)", Interval(0)
        ),
        "aug_noise": HParam(
            0.1, LogUniform(-2, 0), "std of Gaussian feature noise (tabular)", Interval(0)
        ),
    }

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        h = self.hparams
        if x.dim() == 4:
            return color_jitter(
                x, h["aug_brightness"], h["aug_contrast"], h["aug_saturation"], h["aug_hue"]
            )
        return gaussian_noise(x, float(h["aug_noise"]))

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        pooled = cat(batches)
        x = self.augment(pooled.x)
        y = pooled.y
        logits = self.predict(x)
        loss = F.cross_entropy(logits, y)
        stats = {"loss": loss.item()}
        total = self.add_fairness(loss, logits, pooled.z, stats, pooled.y)
        self.step(total)
        return stats
