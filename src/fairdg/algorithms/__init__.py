"""Algorithms: one file each, one line each in `_ENTRIES`.

``ALGORITHMS.get(name)`` returns the class; ``build_algorithm`` constructs one for a dataset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fairdg.algorithms.adversarial import CDANN, DANN
from fairdg.algorithms.affinity import Affinity
from fairdg.algorithms.alignment import CORAL, MMD
from fairdg.algorithms.base import Algorithm
from fairdg.algorithms.ddg import DDG, DDGFC
from fairdg.algorithms.eiil import EIIL
from fairdg.algorithms.erm import ERM
from fairdg.algorithms.fairlearn_expgrad import FairlearnExpGrad
from fairdg.algorithms.fairlearn_threshold import FairlearnThreshold
from fairdg.algorithms.farconvae import FarconVAE
from fairdg.algorithms.fatdm import FATDM
from fairdg.algorithms.fddg import FDDG, FDDGNoFC, FDDGNoSF, FDDGNoT
from fairdg.algorithms.groupdro import GroupDRO
from fairdg.algorithms.irm import IRM
from fairdg.algorithms.lr import LR
from fairdg.algorithms.mbdg import MBDG, MBDGFC
from fairdg.algorithms.mixup import Mixup
from fairdg.algorithms.mldg import MLDG
from fairdg.algorithms.randaug import RandAug
from fairdg.algorithms.vrex import VREx
from fairdg.registry import Registry

ALGORITHMS = Registry("algorithm")

_ENTRIES = [
    ("erm", ERM, "empirical risk minimisation on the pooled training domains", "Vapnik 1998"),
    ("irm", IRM, "invariant risk minimisation (IRMv1 penalty, annealed)", "Arjovsky et al. 2019"),
    (
        "groupdro",
        GroupDRO,
        "robust optimisation over domains or (domain, sensitive group) pairs",
        "Sagawa et al. 2020",
    ),
    ("mixup", Mixup, "inter-domain mixup of inputs and targets", "Yan et al. 2020"),
    ("mldg", MLDG, "first-order meta-learning across training domains", "Li et al. 2018"),
    (
        "coral",
        CORAL,
        "align means and covariances of representations across domains",
        "Sun & Saenko 2016",
    ),
    (
        "mmd",
        MMD,
        "align representations across domains with a Gaussian-kernel MMD",
        "Li et al. 2018",
    ),
    ("dann", DANN, "domain-adversarial representations", "Ganin et al. 2016"),
    ("cdann", CDANN, "class-conditional domain-adversarial representations", "Li et al. 2018"),
    (
        "vrex",
        VREx,
        "variance of the domain risks as a penalty (risk extrapolation)",
        "Krueger et al. 2021",
    ),
    (
        "randaug",
        RandAug,
        "ERM with random colour jitter (images) or feature noise (tabular)",
        "DomainBed",
    ),
    (
        "affinity",
        Affinity,
        "ERM + affinity loss on the representation (fair representations)",
        "affinity eq. 1, 3",
    ),
    (
        "fddg",
        FDDG,
        "primal-dual invariance + fairness constraints on synthetic domains from T",
        "FDDG alg. 1",
    ),
    ("fddg-no-sf", FDDGNoSF, "FDDG ablation: T without the sensitive factor", "FDDG Table 4"),
    (
        "fddg-no-t",
        FDDGNoT,
        "FDDG ablation: no T, fairness constraint on real data only",
        "FDDG Table 4",
    ),
    ("fddg-no-fc", FDDGNoFC, "FDDG ablation: no fairness constraint", "FDDG Table 4"),
    ("mbdg", MBDG, "primal-dual KL invariance under a learned style transformation", "Robey 2021"),
    ("mbdg-fc", MBDGFC, "MBDG + relaxed-DP constraint with its own multiplier", "FDDG sec. 5"),
    ("ddg", DDG, "primal-dual invariance to resampled variation + semantic recon", "Zhang 2022"),
    ("ddg-fc", DDGFC, "DDG + relaxed-DP constraint with its own multiplier", "FDDG sec. 5"),
    ("eiil", EIIL, "ERM reference, inferred environments, IRM on them", "Creager et al. 2021"),
    ("farconvae", FarconVAE, "two-latent VAE, distributional contrast, swap recon", "Oh 2022"),
    ("fatdm", FATDM, "invariance under y- and (y,z)-preserving domain maps + EO", "Pham 2023"),
    ("lr", LR, "scikit-learn LogisticRegression on the pooled training rows", "sklearn"),
    (
        "fairlearn-expgrad",
        FairlearnExpGrad,
        "fairlearn ExponentiatedGradient around logistic regression (needs fairdg[fairlearn])",
        "Agarwal et al. 2018",
    ),
    (
        "fairlearn-threshold",
        FairlearnThreshold,
        "ERM + fairlearn ThresholdOptimizer on the sources' val rows (needs fairdg[fairlearn])",
        "Hardt et al. 2016",
    ),
]
for _name, _cls, _description, _paper in _ENTRIES:
    ALGORITHMS.register(_name, _cls, _description, _paper)


def build_algorithm(
    name: str,
    input_shape: tuple[int, ...],
    num_classes: int,
    num_domains: int,
    hparams: Mapping[str, Any] | None = None,
    num_groups: int = 2,
    **extra: Any,
) -> Algorithm:
    """Construct a registered algorithm (``extra`` carries objects such as a transformation)."""
    cls = ALGORITHMS.get(name)
    return cls(input_shape, num_classes, num_domains, hparams, num_groups=num_groups, **extra)


__all__ = ["ALGORITHMS", "Algorithm", "build_algorithm"]
