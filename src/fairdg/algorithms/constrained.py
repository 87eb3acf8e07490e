"""Shared pieces of the model-based, constrained methods (FDDG, MBDG, DDG, FATDM).

- `WithTransformation`: a featurizer -> classifier trained next to a fixed, trained
  transformation model T (`fairdg.transformation`), checked at construction (input shape, with
  or without the sensitive factor) and kept in eval mode.
- `PrimalDual`: Lagrange multipliers as a buffer (saved with the model and in ``extra_state``)
  and the projected dual ascent ``lambda <- clip(lambda + eta (constraint - margin), 0, upper)``
  of MBDG, DDG and FDDG (`dual_ascent`, defined beside `Algorithm` because the
  ``fair_tolerance`` constraint of every algorithm uses it too).
- `prediction_kl`: the KL distance between the predictions on x and on its transformation
  (MBDG's and FDDG's invariance constraint).
- `random_partners`: for each row, a random other row with the same key, optionally from a
  different group (contrastive pairs, positive pairs, cross-domain translation targets).

Registry-driven tests build these with a tiny T from ``tests/algorithms/algorithm_helpers.extras``
(``USES_TRANSFORMATION``, ``SENSITIVE_FACTOR``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from fairdg.algorithms.base import FeaturizerClassifier, dual_ascent
from fairdg.transformation import TransformationModel, check_compatible
from fairdg.transformation.artifact import TRAIN_HINT


def prediction_kl(logits: torch.Tensor, logits_aug: torch.Tensor) -> torch.Tensor:
    """``KL(softmax(logits) || softmax(logits_aug))``, batch mean; gradient through both
    (MBDG's ``kl_div(log f(G(x)), f(x))``)."""
    return F.kl_div(
        F.log_softmax(logits_aug, dim=1),
        F.log_softmax(logits, dim=1),
        log_target=True,
        reduction="batchmean",
    )


def random_partners(key: torch.Tensor, group: torch.Tensor | None = None) -> torch.Tensor:
    """Index of a random partner for each row: another row with the same `key` and, when
    `group` is given, a different group; a row without any such partner is its own partner.
    Draws from torch's global generator (reproducible under ``torch.manual_seed``)."""
    n = len(key)
    valid = key[:, None] == key[None, :]
    valid &= ~torch.eye(n, dtype=torch.bool, device=key.device)
    if group is not None:
        valid &= group[:, None] != group[None, :]
    scores = torch.rand(n, n, device=key.device).masked_fill(~valid, -1.0)
    best = scores.argmax(1)
    return torch.where(valid.any(1), best, torch.arange(n, device=key.device))


class WithTransformation(FeaturizerClassifier):
    """Featurizer -> classifier trained with a fixed transformation model T.

    ``SENSITIVE_FACTOR``: T must have (True) or lack (False) the sensitive factor; MBDG, DDG and
    FATDM use T without it (content and style only).
    """

    USES_TRANSFORMATION: ClassVar[bool] = True
    SENSITIVE_FACTOR: ClassVar[bool] = False
    WITHOUT_T_HINT: ClassVar[str] = ""  # appended to the "needs a T" error

    def __init__(
        self, *args: Any, transformation: TransformationModel | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.transformation = self._check_transformation(transformation)

    def _check_transformation(self, t: TransformationModel | None) -> TransformationModel | None:
        name = type(self).__name__
        if not self.USES_TRANSFORMATION:
            if t is not None:
                raise ValueError(f"{name} uses no transformation model; drop --transformation")
            return None
        if t is None:
            flag = "" if self.SENSITIVE_FACTOR else " (with --no-sensitive)"
            raise ValueError(
                f"{name} needs a trained transformation model: {TRAIN_HINT}{flag} and "
                "pass it with `fairdg run --transformation PATH` (RunConfig."
                f"transformation){self.WITHOUT_T_HINT}"
            )
        if not isinstance(t, TransformationModel):
            raise TypeError(
                f"transformation must be a TransformationModel, got {type(t).__name__}"
            )
        check_compatible(t, None, self.input_shape)
        if t.config.use_sensitive != self.SENSITIVE_FACTOR:
            want = "with" if self.SENSITIVE_FACTOR else "without"
            flag = "" if self.SENSITIVE_FACTOR else " --no-sensitive"
            raise ValueError(
                f"{name} needs a transformation model trained {want} the "
                f"sensitive factor (`fairdg transform train ...{flag}`)"
            )
        t.requires_grad_(False)  # T is fixed: only the classifier is trained
        return t.eval()

    def train(self, mode: bool = True) -> WithTransformation:
        super().train(mode)
        if self.transformation is not None:
            self.transformation.eval()
        return self

    @property
    def fixed_transformation(self) -> TransformationModel:
        """T, for a method that uses one (checked when built)."""
        if self.transformation is None:
            raise ValueError(f"{type(self).__name__} was built without a transformation model")
        return self.transformation

    @torch.no_grad()
    def swap_style(self, x: torch.Tensor, partner: torch.Tensor) -> torch.Tensor:
        """x decoded with its own content and the style code of row ``partner[i]`` of the
        batch (exemplar-guided translation with T), in data space."""
        t = self.fixed_transformation
        m, s = t.encode(t.to_model(x))
        c, a = t.split(m)
        return t.to_data(t.decode(t.merge(c, a), s[partner]))


class PrimalDual(WithTransformation):
    """`WithTransformation` plus Lagrange multipliers updated by projected dual ascent."""

    multipliers: torch.Tensor  # a registered buffer

    def init_multipliers(self, values: Sequence[float]) -> None:
        self.register_buffer("multipliers", torch.tensor(list(values), dtype=torch.float32))

    def dual_update(
        self,
        violations: torch.Tensor,
        step_sizes: Sequence[float],
        upper: float | None = None,
    ) -> None:
        eta = torch.tensor(list(step_sizes), device=self.multipliers.device)
        self.multipliers.copy_(dual_ascent(self.multipliers, violations, eta, upper))

    def extra_state(self) -> dict[str, Any]:
        return {**super().extra_state(), "multipliers": self.multipliers.tolist()}

    def load_extra(self, state: Mapping[str, Any]) -> None:
        super().load_extra(state)
        if "multipliers" in state:
            self.multipliers.copy_(torch.tensor(state["multipliers"]))
