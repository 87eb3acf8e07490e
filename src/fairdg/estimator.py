"""`FairClassifier`: any fairdg algorithm as a scikit-learn classifier, over `train()`.

``FairClassifier(algorithm="erm").fit(X, y, sensitive_features=s, domains=d)`` encodes the
columns of X with a fitted scikit-learn ``ColumnTransformer`` (one-hot for text, categorical and
boolean columns, standardisation for numbers), builds a `MultiDomainDataset` (one domain per
value of `domains`, or one), and trains with `fairdg.train` exactly as ``fairdg run`` does: a
train / validation / test split per domain (60 / 20 / 20, stratified by target and group), an
evaluation every ``eval_every`` steps and the checkpoint chosen by ``selection`` on the
validation rows. ``record_`` holds that run's summary record (metrics of the selected step,
undefined values with their reasons), ``model_`` the selected model.

It composes with fairlearn (``MetricFrame`` on its predictions, ``ThresholdOptimizer(
estimator=clf, prefit=True, predict_method="predict_proba")``) but does not need it.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.metrics.degenerate import DegeneratePredictorWarning
from fairdg.training.config import RunConfig
from fairdg.training.evaluate import degenerate_line
from fairdg.training.evaluate import predict_proba as _predict_proba
from fairdg.training.loop import train

__all__ = ["FairClassifier"]


class FairClassifier(ClassifierMixin, BaseEstimator):
    """A fairdg algorithm trained as a scikit-learn classifier.

    Parameters
    ----------
    algorithm : str
        Registry name (``fairdg algorithms``): ``"erm"``, ``"affinity"``, ``"irm"``, ...
    hparams : dict or None
        Hyperparameter overrides, e.g. ``{"fair_lambda": 1.0}`` (the -FC variant).
    steps : int
        Training steps.
    eval_every : int or None
        Evaluation (and selection) period; None: ``steps / 10``.
    selection : str
        Criterion choosing the returned checkpoint, ``"val.<metric>"``.
    seed : int
        Split, initialisation and minibatch seed.
    min_group_size : int
        Metrics comparing a group smaller than this in an evaluation set are recorded as
        undefined (``record_["metrics"][...]["undefined"]``).
    device : str
        Torch device.
    output_dir : str or None
        Folder for the run's records; None: a temporary folder, deleted after `fit`.
    categorical : list of str or None
        Columns to one-hot encode although they hold numbers (codes).
    max_groups : int
        Refuse `sensitive_features` with more distinct values (a continuous column: bin it).

    Attributes
    ----------
    classes_ : ndarray
        The class labels (sorted), as in scikit-learn.
    preprocessor_ : sklearn.compose.ColumnTransformer
        The fitted column encoding.
    model_ : fairdg.algorithms.Algorithm
        The trained model (the selected checkpoint), on the CPU, in eval mode.
    record_ : dict
        The run's summary record.
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    def __init__(
        self,
        algorithm: str = "erm",
        hparams: Mapping[str, Any] | None = None,
        steps: int = 500,
        eval_every: int | None = None,
        selection: str = "val.accuracy",
        seed: int = 0,
        min_group_size: int = 30,
        device: str = "cpu",
        output_dir: str | None = None,
        categorical: list[str] | None = None,
        max_groups: int = 20,
    ) -> None:
        self.algorithm = algorithm
        self.hparams = hparams
        self.steps = steps
        self.eval_every = eval_every
        self.selection = selection
        self.seed = seed
        self.min_group_size = min_group_size
        self.device = device
        self.output_dir = output_dir
        self.categorical = categorical
        self.max_groups = max_groups

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, *, sensitive_features: Any, domains: Any = None):
        """Train on rows `X` with target `y`, groups `sensitive_features` and optional `domains`.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sensitive_features : array-like of shape (n_samples,)
            Group of each row (at least two groups in every domain).
        domains : array-like of shape (n_samples,) or None
            Domain (environment) of each row; None: one domain.
        """
        frame = self._frame(X, fitting=True, y=y)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        n = len(frame)
        parts = {"sensitive_features": sensitive_features, "domains": domains}
        for name, values in parts.items():
            if values is not None and len(values) != n:
                raise ValueError(f"{name} has {len(values)} rows, X has {n}")
        self.classes_, y_ids = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has 1 class ({self.classes_[0]!r}); FairClassifier needs at least two"
            )
        groups, z_ids = np.unique(np.asarray(sensitive_features).astype(str), return_inverse=True)
        if len(groups) > self.max_groups:
            raise ValueError(
                f"sensitive_features has {len(groups)} distinct values, more than max_groups="
                f"{self.max_groups}; a continuous attribute is not a group label: bin it "
                "(e.g. pandas.cut) or raise max_groups"
            )
        self.preprocessor_ = self._preprocessor(frame).fit(frame)
        x = torch.from_numpy(self._transform(frame))
        labels = np.full(n, "all") if domains is None else np.asarray(domains).astype(str)
        dataset = MultiDomainDataset(
            name="estimator",
            domains=[
                Domain(
                    str(d),
                    x[torch.from_numpy(labels == d)],
                    torch.from_numpy(y_ids[labels == d].astype(np.int64)),
                    torch.from_numpy(z_ids[labels == d].astype(np.int64)),
                )
                for d in np.unique(labels)
            ],
            input_shape=(x.shape[1],),
            class_names=[str(c) for c in self.classes_],
            group_names=[str(g) for g in groups],
            sensitive_name="sensitive_features",
            default_steps=int(self.steps),
        )
        with tempfile.TemporaryDirectory(prefix="fairdg-estimator-") as tmp:
            config = RunConfig(
                dataset="estimator",
                algorithm=self.algorithm,
                hparams=dict(self.hparams or {}),
                seed=int(self.seed),
                steps=int(self.steps),
                eval_every=self.eval_every,
                selection=self.selection,
                min_group_size=int(self.min_group_size),
                device=self.device,
                output_dir=self.output_dir or tmp,
                quiet=True,
                save_model=self.output_dir is not None,
            )
            result = train(config, dataset=dataset, force=True)
        self.model_ = result.algorithm.cpu().eval()
        self.record_ = result.record
        self.sensitive_groups_ = groups
        line = degenerate_line(self.record_["metrics"])
        if line:  # a constant model is "fair" by every measure: say so, in one line
            warnings.warn(
                f"FairClassifier({self.algorithm!r}) on {line}",
                DegeneratePredictorWarning,
                stacklevel=2,
            )
        return self

    def _frame(self, X: Any, fitting: bool, y: Any = None) -> pd.DataFrame:
        """X as a DataFrame, checked as scikit-learn checks it (names, width, sparse, empty)."""
        if isinstance(X, pd.DataFrame):
            if fitting and y is None:
                raise ValueError(
                    "FairClassifier requires y to be passed, but the target y is None"
                )
            validate_data(self, X, reset=fitting, skip_check_array=True)
            return X
        if fitting:
            arr, _ = validate_data(self, X, y, reset=True, dtype=np.float64)
        else:
            arr = validate_data(self, X, reset=False, dtype=np.float64)
        return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])

    def _preprocessor(self, frame: pd.DataFrame) -> ColumnTransformer:
        forced = set(self.categorical or ())
        text = [
            c
            for c in frame.columns
            if c in forced or not pd.api.types.is_numeric_dtype(frame[c]) or frame[c].dtype == bool
        ]
        numbers = [c for c in frame.columns if c not in text]
        return ColumnTransformer(
            [
                ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), text),
                ("numeric", StandardScaler(), numbers),
            ],
            verbose_feature_names_out=False,
        )

    def _transform(self, frame: pd.DataFrame) -> np.ndarray:
        x = np.asarray(self.preprocessor_.transform(frame), dtype=np.float32)
        if not np.isfinite(x).all():
            raise ValueError("X holds missing or infinite values; impute them before fit/predict")
        return np.ascontiguousarray(x)

    # -- prediction ----------------------------------------------------------------------------
    def predict_proba(self, X: Any, *, sensitive_features: Any = None) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``. `sensitive_features` is
        needed only by algorithms that decide with each row's group (``fairlearn-threshold``,
        post-processing), as in fairlearn's ``ThresholdOptimizer.predict``."""
        check_is_fitted(self)
        x = torch.from_numpy(self._transform(self._frame(X, fitting=False)))
        z = None if sensitive_features is None else self._group_ids(sensitive_features, len(x))
        return _predict_proba(self.model_, x, z=z).numpy().astype(np.float64)

    def predict(self, X: Any, *, sensitive_features: Any = None) -> np.ndarray:
        """The most probable class of each row (a label of ``classes_``)."""
        probabilities = self.predict_proba(X, sensitive_features=sensitive_features)
        return self.classes_[probabilities.argmax(axis=1)]

    def _group_ids(self, sensitive_features: Any, n: int) -> torch.Tensor:
        """The ids of the groups seen in `fit` (an unseen group is an error naming it)."""
        values = np.asarray(sensitive_features).astype(str)
        if len(values) != n:
            raise ValueError(f"sensitive_features has {len(values)} rows, X has {n}")
        index = {g: i for i, g in enumerate(self.sensitive_groups_)}
        unseen = sorted(set(values) - set(index))
        if unseen:
            raise ValueError(
                f"sensitive_features holds group(s) {unseen[:5]} not seen in fit; known: "
                f"{list(self.sensitive_groups_)}"
            )
        return torch.tensor([index[v] for v in values], dtype=torch.long)
