"""`FairClassifier`: any fairdg algorithm as a scikit-learn classifier, over `train()`.

``FairClassifier(algorithm="erm").fit(X, y, sensitive_features=s, domains=d)`` encodes the
columns of X with fairdg's one table encoder (`fairdg.data.tabular`, as the ``csv`` dataset and
``fairdg predict`` do: one-hot for text, categorical and boolean columns, numbers standardised
with the training split's statistics), builds a `MultiDomainDataset` (one domain per value of
`domains`, or one), and trains with `fairdg.train` as ``fairdg run`` does, with one difference:
no test split (the caller holds its own test rows). Each domain's rows are split into
validation (``validation_fraction``, default 0.2, stratified by target and group) and training
(the rest); an evaluation every ``eval_every`` steps and the checkpoint chosen by ``selection``
on the validation rows. ``record_`` holds that run's summary record (metrics of the selected step,
undefined values with their reasons), ``model_`` the selected model. With ``output_dir`` the run
folder also predicts from the command line (``fairdg predict``, `fairdg.load_model`).

Inputs are checked as scikit-learn checks them (one value per row of X, none missing). The
algorithm's hyperparameters are flat constructor parameters (``FairClassifier(lr=1e-3,
fair_lambda=1.0)``) held like a meta-estimator's: `get_params` lists them, `set_params`,
`clone` and ``GridSearchCV`` set them, and an unknown name is refused with the valid ones.
``seed=`` and ``hparams={...}`` (the previous release's names) warn with a `DeprecationWarning`.

It composes with fairlearn (``MetricFrame`` on its predictions, ``ThresholdOptimizer(
estimator=clf, prefit=True, predict_method="predict_proba")``) but does not need it.
"""

from __future__ import annotations

import numbers
import tempfile
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from fairdg.algorithms import ALGORITHMS
from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.data.tabular import (
    as_text,
    check_finite,
    encode_rows,
    fit_encoding,
    missing_rows,
    numeric_features,
)
from fairdg.metrics.degenerate import DegeneratePredictorWarning
from fairdg.registry import close_match
from fairdg.training.config import RunConfig, build_config
from fairdg.training.evaluate import degenerate_line
from fairdg.training.evaluate import predict_proba as _predict_proba
from fairdg.training.loop import preprocessing, train

_IMPUTE = "impute them before fit/predict (FairClassifier takes no missing values)"

__all__ = ["FairClassifier"]


class FairClassifier(ClassifierMixin, BaseEstimator):
    """A fairdg algorithm trained as a scikit-learn classifier.

    Parameters
    ----------
    algorithm : str
        Registry name (``fairdg algorithms``): ``"erm"``, ``"affinity"``, ``"irm"``, ...
    steps : int
        Training steps.
    eval_every : int or None
        Evaluation (and selection) period; None: ``steps / 10``.
    selection : str
        Criterion choosing the returned checkpoint, ``"val.<metric>"``.
    random_state : int, numpy.random.RandomState or None
        Seed of the split, initialisation and minibatches: an int is used as it is (the same
        run as ``fairdg run --seed``); a RandomState or None draws one.
    validation_fraction : float
        Share of each domain's rows held out to select the checkpoint (stratified by target
        and group); the model trains on the rest (no internal test split).
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
    run_options : dict or None
        Any other `fairdg.training.RunConfig` field, e.g. ``{"min_positive_rate": 0.05}``.
    seed : int or None
        Deprecated: ``random_state`` (accepted with a `DeprecationWarning` for one release).
    hparams : dict or None
        Deprecated: pass each hyperparameter as a parameter of its own (accepted with a
        `DeprecationWarning` for one release).
    **hyperparameters
        The algorithm's hyperparameters (``fairdg algorithms NAME`` lists them), e.g.
        ``lr=1e-3``, ``fair_lambda=1.0`` (the -FC variant); unset ones take the algorithm's
        (and the data's) defaults.

    Attributes
    ----------
    classes_ : ndarray
        The class labels (sorted), as in scikit-learn.
    encoding_ : dict
        The fitted column encoding, with the training split's standardisation: the format of
        a run's ``preprocessing.json`` (`fairdg.data.tabular.fit_encoding`).
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
        *,
        steps: int = 500,
        eval_every: int | None = RunConfig.eval_every,
        selection: str = RunConfig.selection,
        random_state: Any = RunConfig.seed,
        validation_fraction: float = 0.2,
        min_group_size: int = RunConfig.min_group_size,
        device: str = RunConfig.device,
        output_dir: str | None = None,
        categorical: list[str] | None = None,
        max_groups: int = 20,
        run_options: Mapping[str, Any] | None = None,
        seed: int | None = None,
        hparams: Mapping[str, Any] | None = None,
        **hyperparameters: Any,
    ) -> None:
        self.algorithm = algorithm
        self.steps = steps
        self.eval_every = eval_every
        self.selection = selection
        self.random_state = random_state
        self.validation_fraction = validation_fraction
        self.min_group_size = min_group_size
        self.device = device
        self.output_dir = output_dir
        self.categorical = categorical
        self.max_groups = max_groups
        self.run_options = run_options
        self.seed = seed
        self.hparams = hparams
        self._hyperparameters = dict(hyperparameters)

    # -- parameters: the constructor's own and the algorithm's hyperparameters -----------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters and the hyperparameters set on this estimator."""
        return {**super().get_params(deep=deep), **self._hyperparameters}

    def set_params(self, **params: Any) -> FairClassifier:
        """Set constructor parameters and hyperparameters of the algorithm (after `algorithm`,
        when both are given); a name that is neither is refused with the valid names."""
        own = self._get_param_names()
        super().set_params(**{k: v for k, v in params.items() if k in own})
        extra = {k: v for k, v in params.items() if k not in own}
        valid = _hyperparameter_names(self.algorithm)  # None: fit names the unknown algorithm
        if valid is not None and (unknown := sorted(set(extra) - valid)):
            raise ValueError(_unknown_parameter(unknown[0], self.algorithm, own, valid))
        self._hyperparameters.update(extra)
        return self

    def _resolved_hparams(self) -> dict[str, Any]:
        """The hyperparameter overrides of the run: the deprecated ``hparams`` dict, then the
        flat parameters (a name in both is an error)."""
        old = dict(self.hparams or {})
        if self.hparams is not None:
            warnings.warn(
                "FairClassifier(hparams={...}) is deprecated and will be removed in the next "
                "release; pass each hyperparameter as a parameter: "
                f"FairClassifier({', '.join(f'{k}={v!r}' for k, v in old.items())})",
                DeprecationWarning,
                stacklevel=4,
            )
        both = sorted(set(old) & set(self._hyperparameters))
        if both:
            raise ValueError(f"hyperparameter(s) {both} given both in hparams= and as parameters")
        return {**old, **self._hyperparameters}

    def _resolved_seed(self) -> int:
        """The run's seed from ``random_state`` (or the deprecated ``seed``)."""
        if self.seed is not None:
            warnings.warn(
                "FairClassifier(seed=...) is deprecated and will be removed in the next "
                f"release; use FairClassifier(random_state={self.seed!r})",
                DeprecationWarning,
                stacklevel=4,
            )
            if self.random_state not in (RunConfig.seed, self.seed):
                raise ValueError(
                    f"seed={self.seed!r} and random_state={self.random_state!r} disagree; "
                    "pass random_state only"
                )
            return int(self.seed)
        if isinstance(self.random_state, numbers.Integral) and not isinstance(
            self.random_state, bool
        ):
            if self.random_state < 0:
                raise ValueError(f"random_state must be >= 0, got {self.random_state}")
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

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
        n = len(frame)
        y = column_or_1d(_column(y, "y", n), warn=True)
        check_classification_targets(y)
        z = _column(sensitive_features, "sensitive_features", n)
        self.classes_, y_ids = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has 1 class ({self.classes_[0]!r}); FairClassifier needs at least two"
            )
        groups, z_ids = np.unique(z.astype(str), return_inverse=True)
        if len(groups) > self.max_groups:
            raise ValueError(
                f"sensitive_features has {len(groups)} distinct values, more than max_groups="
                f"{self.max_groups}; a continuous attribute is not a group label: bin it "
                "(e.g. pandas.cut) or raise max_groups"
            )
        x, spec = self._encode_new(frame)
        labels = np.full(n, "all") if domains is None else _column(domains, "domains", n)
        names = ([str(c) for c in self.classes_], [str(g) for g in groups])
        dataset = _dataset(x, spec, (y_ids, z_ids, labels.astype(str)), names, int(self.steps))
        with tempfile.TemporaryDirectory(prefix="fairdg-estimator-") as tmp:
            config = self._config(self.output_dir or tmp)
            result = train(config, dataset=dataset, force=True)
        if result.algorithm is None or result.split is None:  # train(force=True) trains
            raise RuntimeError(f"training returned no model for run {result.run_dir}")
        self.model_ = result.algorithm.cpu().eval()
        self.record_ = result.record
        self.encoding_ = preprocessing(dataset, result.split)  # with the split's statistics
        self.sensitive_groups_ = groups
        line = degenerate_line(self.record_["metrics"])
        if line:  # a constant model is "fair" by every measure: say so, in one line
            warnings.warn(
                f"FairClassifier({self.algorithm!r}) on {line}",
                DegeneratePredictorWarning,
                stacklevel=2,
            )
        return self

    def _config(self, output_dir: str) -> RunConfig:
        """The run's `RunConfig`, through the one builder (unknown `run_options` keys name the
        closest field); the fields set from the estimator's own parameters are not options."""
        own = {"dataset", "data_options", "test_domains", "output_dir", "save_model"}
        own |= {"algorithm", "hparams", "seed", "steps", "eval_every", "selection"}
        own |= {"min_group_size", "device", "val_fraction", "test_fraction"}
        taken = sorted(own & set(self.run_options or {}))
        if taken:
            raise ValueError(f"run_options: {taken} are set by FairClassifier's own parameters")
        fraction = self.validation_fraction
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, numbers.Real)
            or not 0 < fraction < 1
        ):
            raise ValueError(f"validation_fraction must be a number in (0, 1), got {fraction!r}")
        values = {
            "algorithm": self.algorithm,
            "hparams": self._resolved_hparams(),
            "seed": self._resolved_seed(),
            "steps": int(self.steps),
            "eval_every": self.eval_every,
            "selection": self.selection,
            "min_group_size": int(self.min_group_size),
            "device": self.device,
            "val_fraction": float(fraction),
            "test_fraction": 0.0,  # no internal test split: the caller holds its own test rows
            "output_dir": output_dir,
            "save_model": self.output_dir is not None,
            **(self.run_options or {}),
        }
        base = RunConfig(dataset="estimator", quiet=True)
        return build_config(values, base, what="FairClassifier run option")

    def _encode_new(self, frame: pd.DataFrame) -> tuple[torch.Tensor, dict[str, Any]]:
        """Encoded (not yet standardised) features of the training rows and their encoding;
        numeric dtypes are numbers unless listed in ``categorical``, other dtypes categories."""
        text = as_text(frame)
        missing_rows(text, list(text.columns), "X", "error", _IMPUTE)
        forced = set(self.categorical or ())
        numeric = [
            str(c)
            for c in frame.columns
            if c not in forced
            and pd.api.types.is_numeric_dtype(frame[c])
            and frame[c].dtype != bool
        ]
        check_finite(text, numeric, "X")
        categorical = [c for c in text.columns if c not in numeric]
        spec = fit_encoding(text, list(text.columns), categorical, None)
        x, _ = encode_rows(text, spec, "X", "error", _IMPUTE)
        return torch.from_numpy(np.ascontiguousarray(x)), spec

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

    def _transform(self, frame: pd.DataFrame) -> np.ndarray:
        x, _ = encode_rows(as_text(frame), self.encoding_, "X", "error", _IMPUTE)
        return np.ascontiguousarray(x, dtype=np.float32)

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


def _dataset(
    x: torch.Tensor,
    spec: dict[str, Any],
    rows: tuple[np.ndarray, np.ndarray, np.ndarray],
    names: tuple[list[str], list[str]],
    steps: int,
) -> MultiDomainDataset:
    """The encoded rows `x` (class ids, group ids and domain labels in `rows`) as a dataset of
    one domain per label, with the encoding `spec` a run folder keeps."""
    y_ids, z_ids, labels = rows
    class_names, group_names = names
    domains = [
        Domain(
            str(d),
            x[torch.from_numpy(labels == d)],
            torch.from_numpy(y_ids[labels == d].astype(np.int64)),
            torch.from_numpy(z_ids[labels == d].astype(np.int64)),
        )
        for d in np.unique(labels)
    ]
    kept = {k: spec[k] for k in ("format", "columns", "feature_names")}
    return MultiDomainDataset(
        name="estimator",
        domains=domains,
        input_shape=(x.shape[1],),
        class_names=class_names,
        group_names=group_names,
        sensitive_name="sensitive_features",
        standardize=numeric_features(spec),
        feature_names=list(spec["feature_names"]),
        default_steps=steps,
        preprocessing={**kept, "class_names": class_names, "group_names": group_names},
    )


def _hyperparameter_names(algorithm: Any) -> set[str] | None:
    """The hyperparameters `algorithm` declares (None for a name that is not registered:
    `fit` refuses it with the closest name)."""
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS.names():
        return None
    return set(ALGORITHMS.get(algorithm).declared_hparams())


def _unknown_parameter(name: str, algorithm: str, own: list[str], valid: set[str]) -> str:
    return (
        f"FairClassifier: {name!r} is neither a parameter nor a hyperparameter of "
        f"{algorithm!r}{close_match(name, [*own, *valid])}; parameters: {', '.join(own)}; "
        f"hyperparameters: {', '.join(sorted(valid))}"
    )


def _column(values: Any, name: str, n: int) -> np.ndarray:
    """`values` as an array of one value per row of X, none missing; otherwise a one-line
    error with the count, the first rows and the column's name."""
    if getattr(values, "name", None) is not None:
        name = f"{name} (column {values.name!r})"
    array = np.asarray(values)
    if len(array) != n:
        raise ValueError(f"{name} has {len(array)} rows but X has {n}; give one per row of X")
    holes = np.flatnonzero(pd.isna(array).reshape(len(array), -1).any(axis=1))
    if len(holes):
        raise ValueError(
            f"{name} holds {len(holes)} missing value(s) (first rows {holes[:5].tolist()}); "
            "drop those rows or fill them in (FairClassifier takes no missing values)"
        )
    return array
