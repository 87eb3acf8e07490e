"""LR: scikit-learn's ``LogisticRegression`` (L2-regularised, lbfgs) as a table row beside
fairdg's methods, the standard baseline of the fairness literature (e.g. Agarwal et al. 2018).

Objective: the regularised log-loss ``C * sum_i CE(w x_i + b, y_i) + ||w||^2 / 2`` over every
training row of the training domains, pooled (multinomial for more than two classes). The one
update fits it to convergence; the coefficients are kept as tensors, so prediction is
``softmax(x W^T + b)``, exactly scikit-learn's ``predict_proba``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from fairdg.algorithms.sklearn_adapter import LR_HPARAMS, SklearnModel, linear_decision, log_loss
from fairdg.hparams import HParam


def logistic_regression(hparams: dict[str, Any]):
    """An unfitted LogisticRegression with the run's ``lr_c`` and ``lr_max_iter``."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=float(hparams["lr_c"]), max_iter=int(hparams["lr_max_iter"]))


def class_coefficients(model, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A fitted LogisticRegression as one row of weights and one intercept per class, in class
    order, such that ``softmax(x W^T + b)`` is its ``predict_proba`` (classes absent from the
    training rows get a logit of -1e4)."""
    coef, intercept = np.asarray(model.coef_), np.asarray(model.intercept_)
    if len(model.classes_) == 2:  # one decision function: logits (0, w x + b)
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    weights = np.zeros((num_classes, coef.shape[1]))
    bias = np.full(num_classes, -1e4)
    weights[model.classes_], bias[model.classes_] = coef, intercept
    return weights, bias


class LR(SklearnModel):
    """scikit-learn's LogisticRegression, fitted once on the pooled training rows."""

    HPARAMS: ClassVar[dict[str, HParam]] = dict(LR_HPARAMS)

    coef: torch.Tensor  # registered buffers
    intercept: torch.Tensor

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        n_features = int(np.prod(self.input_shape))
        self.register_buffer(
            "coef", torch.zeros(self.num_classes, n_features, dtype=torch.float64)
        )
        self.register_buffer("intercept", torch.zeros(self.num_classes, dtype=torch.float64))

    def fit(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> dict[str, float]:
        model = logistic_regression(self.hparams).fit(x, y)
        weights, bias = class_coefficients(model, self.num_classes)
        self.coef.copy_(torch.from_numpy(weights))
        self.intercept.copy_(torch.from_numpy(bias))
        probs = np.zeros((len(y), self.num_classes))
        probs[:, model.classes_] = model.predict_proba(x)
        return {"loss": log_loss(probs, y)}

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return linear_decision(x, self.coef, self.intercept).float()
