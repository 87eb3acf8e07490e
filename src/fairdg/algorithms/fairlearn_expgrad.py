"""fairlearn's ExponentiatedGradient (Agarwal, Beygelzimer, Dudík, Langford & Wallach 2018, "A
reductions approach to fair classification") around scikit-learn's LogisticRegression.

Objective: the randomised classifier ``Q`` (a mixture of logistic regressions) minimising the
error subject to ``|gamma_j(Q)| <= eps`` for the moments of DemographicParity (``fair_metric``
dp), EqualizedOdds (eo) or TruePositiveRateParity (eopp), solved as a saddle point by
exponentiated-gradient updates of the Lagrange multipliers, each best response a weighted
logistic regression. The one update runs fairlearn's ``fit`` on the pooled training rows
(``sensitive_features`` = the run's groups). Each predictor's coefficients and its weight are
kept as tensors; a row's probability of a positive decision is ``sum_t w_t 1[h_t(x) = 1]``
(fairlearn's ``_pmf_predict``) and the decision is drawn as fairlearn's ``predict`` draws it,
seeded by the run's seed (`fairdg.algorithms.sklearn_adapter.randomized_logits`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from fairdg.algorithms.lr import logistic_regression
from fairdg.algorithms.sklearn_adapter import (
    FAIR_METRIC,
    LR_HPARAMS,
    SklearnModel,
    check_binary,
    fairlearn_module,
    linear_decision,
    log_loss,
    quiet_fairlearn,
    randomized_logits,
)
from fairdg.hparams import Fixed, HParam, Interval

MOMENTS = {"dp": "DemographicParity", "eo": "EqualizedOdds", "eopp": "TruePositiveRateParity"}
# A constant best response (fairlearn's DummyClassifier) as a linear rule: w = 0, b = +-CONSTANT.
CONSTANT = 1e6


def predictor_rule(predictor, n_features: int) -> tuple[np.ndarray, float]:
    """A best response of the mixture as ``(w, b)`` with ``h(x) = 1[w x + b > 0]``."""
    if hasattr(predictor, "coef_"):
        if list(predictor.classes_) != [0, 1]:
            raise ValueError(f"unexpected classes {predictor.classes_} of a best response")
        return np.asarray(predictor.coef_[0], dtype=float), float(predictor.intercept_[0])
    constant = int(predictor.predict(np.zeros((1, n_features)))[0])  # DummyClassifier
    return np.zeros(n_features), CONSTANT if constant == 1 else -CONSTANT


class FairlearnExpGrad(SklearnModel):
    """ExponentiatedGradient(LogisticRegression, DemographicParity | EqualizedOdds | ...)."""

    HPARAMS: ClassVar[dict[str, HParam]] = {
        **LR_HPARAMS,
        "fair_metric": FAIR_METRIC,
        "expgrad_eps": HParam(
            0.01, Fixed(), "allowed violation of the constraint (fairlearn's eps)", Interval(0)
        ),
        "expgrad_max_iter": HParam(
            50, Fixed(), "iterations of exponentiated gradient", Interval(1, integer=True)
        ),
    }
    RESIZABLE: ClassVar[tuple[str, ...]] = ("coefs", "intercepts", "weights")

    coefs: torch.Tensor  # registered buffers
    intercepts: torch.Tensor
    weights: torch.Tensor

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        check_binary("fairlearn-expgrad", self.num_classes)
        reductions = fairlearn_module("reductions", "fairlearn-expgrad")
        self._moment = getattr(reductions, MOMENTS[self.hparams["fair_metric"]])
        self._expgrad = reductions.ExponentiatedGradient
        n_features = int(np.prod(self.input_shape))
        # one predictor that always says 0 until fitted
        self.register_buffer("coefs", torch.zeros(1, n_features, dtype=torch.float64))
        self.register_buffer("intercepts", torch.full((1,), -CONSTANT, dtype=torch.float64))
        self.register_buffer("weights", torch.ones(1, dtype=torch.float64))

    def fit(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> dict[str, float]:
        model = self._expgrad(
            logistic_regression(self.hparams),
            constraints=self._moment(),
            eps=float(self.hparams["expgrad_eps"]),
            max_iter=int(self.hparams["expgrad_max_iter"]),
        )
        with quiet_fairlearn():
            model.fit(x, y, sensitive_features=z)
        index = list(model.weights_.index)
        rules = [predictor_rule(model.predictors_[t], x.shape[1]) for t in index]
        device, double = self.coefs.device, torch.float64
        self.coefs = torch.tensor(np.stack([w for w, _ in rules]), dtype=double, device=device)
        self.intercepts = torch.tensor([b for _, b in rules], dtype=double, device=device)
        self.weights = torch.tensor(model.weights_.to_numpy(), dtype=double, device=device)
        pmf = model._pmf_predict(x)  # noqa: SLF001 - fairlearn's own expected decision
        return {"loss": log_loss(pmf, y), "predictors": float(len(index))}

    def positive_probability(self, x: torch.Tensor) -> torch.Tensor:
        """The mixture's probability of deciding 1 for each row (fairlearn's pmf)."""
        votes = (linear_decision(x, self.coefs, self.intercepts) > 0).to(torch.float64)
        return votes @ self.weights

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return randomized_logits(self.positive_probability(x), int(self.prediction_seed))
