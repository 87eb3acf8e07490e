"""FairClassifier's parameters: flat hyperparameters (get_params, set_params, clone,
GridSearchCV), random_state, validation_fraction (no internal test split), the deprecated
names of the previous release, and the unseen-category warning `fairdg predict` gives."""

from __future__ import annotations

import numpy as np
import pytest
from people_fakes import make_people
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from fairdg import FairClassifier
from fairdg.data.tabular import UnknownCategoryWarning

# A few training steps often leave a constant model, which fit names with a warning; these tests
# are about parameters, and tests/practitioners/test_fairness_cli.py tests that warning.
pytestmark = pytest.mark.filterwarnings(
    "ignore::fairdg.metrics.degenerate.DegeneratePredictorWarning"
)


@pytest.fixture(scope="module")
def people():
    frame = make_people(200)
    return frame.drop(columns=["credit", "sex", "race"]), frame["credit"], frame["sex"]


def test_hyperparameters_are_flat_parameters():
    clf = FairClassifier(algorithm="erm", lr=1e-3, fair_lambda=0.5)
    params = clf.get_params()
    assert params["lr"] == 1e-3 and params["fair_lambda"] == 0.5
    assert params["random_state"] == 0 and params["validation_fraction"] == 0.2
    twin = clone(clf)
    assert twin.get_params() == params and twin is not clf
    twin.set_params(lr=1e-2)
    assert twin.get_params()["lr"] == 1e-2 and clf.get_params()["lr"] == 1e-3
    # a hyperparameter of the algorithm set in the same call as the algorithm
    irm = clone(clf).set_params(algorithm="irm", irm_lambda=10.0)
    assert irm.get_params()["irm_lambda"] == 10.0
    assert repr(FairClassifier(lr=0.1)) == "FairClassifier(lr=0.1)"


def test_unknown_names_are_refused_with_the_valid_ones():
    with pytest.raises(ValueError, match=r"'fair_lamda' is neither .*did you mean 'fair_lambda'"):
        FairClassifier().set_params(fair_lamda=1.0)
    with pytest.raises(ValueError, match="irm_lambda"):  # not a hyperparameter of erm
        FairClassifier(algorithm="erm").set_params(irm_lambda=1.0)


def test_unknown_hyperparameter_in_the_constructor_is_refused_by_fit(people):
    X, y, s = people
    with pytest.raises(ValueError, match="lr_rate"):
        FairClassifier(steps=2, lr_rate=1.0).fit(X, y, sensitive_features=s)


@pytest.mark.slow
def test_grid_search_over_hyperparameters(people):
    X, y, s = people
    base = FairClassifier(steps=6, eval_every=3, min_group_size=0)
    grid = GridSearchCV(base, {"lr": [1e-3, 1e-2], "fair_lambda": [0.0, 1.0]}, cv=2)
    grid.fit(X, y, sensitive_features=s)
    assert list(grid.cv_results_["params"]) == [
        {"fair_lambda": f, "lr": lr} for f in (0.0, 1.0) for lr in (1e-3, 1e-2)
    ]
    best = grid.best_estimator_
    assert {k: best.record_["hparams"][k] for k in ("lr", "fair_lambda")} == grid.best_params_


def test_random_state_and_the_deprecated_seed(people):
    X, y, s = people
    new = FairClassifier(steps=3, random_state=3, min_group_size=0).fit(X, y, sensitive_features=s)
    assert new.record_["seed"] == 3
    with pytest.warns(DeprecationWarning, match=r"use FairClassifier\(random_state=3\)"):
        old = FairClassifier(steps=3, seed=3, min_group_size=0).fit(X, y, sensitive_features=s)
    np.testing.assert_array_equal(old.predict_proba(X), new.predict_proba(X))
    with pytest.raises(ValueError, match="disagree"), pytest.warns(DeprecationWarning):
        FairClassifier(steps=3, seed=3, random_state=4).fit(X, y, sensitive_features=s)
    drawn = FairClassifier(steps=3, random_state=np.random.RandomState(1), min_group_size=0)
    assert drawn.fit(X, y, sensitive_features=s).record_["seed"] >= 0


def test_deprecated_hparams_dict(people):
    X, y, s = people
    with pytest.warns(DeprecationWarning, match=r"FairClassifier\(lr=0.01\)"):
        clf = FairClassifier(steps=3, hparams={"lr": 1e-2}, min_group_size=0)
        clf.fit(X, y, sensitive_features=s)
    assert clf.record_["hparams"]["lr"] == 1e-2
    with pytest.raises(ValueError, match="both in hparams= and as parameters"):
        with pytest.warns(DeprecationWarning):
            FairClassifier(steps=3, hparams={"lr": 1e-2}, lr=1e-3).fit(X, y, sensitive_features=s)


def test_validation_fraction_and_no_internal_test_split(people):
    X, y, s = people
    clf = FairClassifier(steps=3, validation_fraction=0.3, min_group_size=0)
    metrics = clf.fit(X, y, sensitive_features=s).record_["metrics"]
    assert metrics["test"] == {"n": 0.0}  # no test rows: it trains on the rest
    assert metrics["val"]["n"] == 0.3 * len(X)
    for bad in (0, 1, 1.5, "0.2"):
        with pytest.raises(ValueError, match="validation_fraction must be a number in"):
            FairClassifier(steps=3, validation_fraction=bad).fit(X, y, sensitive_features=s)


def test_unseen_category_warns_as_fairdg_predict_does(people):
    X, y, s = people
    clf = FairClassifier(steps=3, min_group_size=0).fit(X, y, sensitive_features=s)
    changed = X.copy()
    changed.loc[0, "job"] = "astronaut"
    with pytest.warns(
        UnknownCategoryWarning, match=r"column 'job' holds value\(s\) \['astronaut'\]"
    ):
        assert len(clf.predict(changed)) == len(X)
