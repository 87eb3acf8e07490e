"""FairClassifier: the scikit-learn contract, pickling, and composition with fairlearn."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from people_fakes import make_people
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_classifiers_train, parametrize_with_checks

from fairdg import FairClassifier


class BoundSensitive(FairClassifier):
    """scikit-learn's checks call ``fit(X, y)``: this test-only subclass supplies an arbitrary
    sensitive attribute (alternating rows) so that every check exercises the real fit."""

    def fit(self, X, y):
        n = X.shape[0] if hasattr(X, "shape") else len(np.asarray(X))
        return super().fit(X, y, sensitive_features=np.arange(n) % 2)


@parametrize_with_checks(
    [BoundSensitive(steps=3, eval_every=3, min_group_size=0)],
    expected_failed_checks=lambda est: {
        "check_classifiers_train": "3 training steps are too few; run separately with 100"
    },
)
@pytest.mark.slow
# 3 steps often leave a constant model, which fit names (a warning the checks do not expect)
@pytest.mark.filterwarnings("ignore::fairdg.metrics.degenerate.DegeneratePredictorWarning")
def test_sklearn_checks(estimator, check):
    check(estimator)


@pytest.mark.filterwarnings("ignore::fairdg.metrics.degenerate.DegeneratePredictorWarning")
def test_sklearn_classifiers_train_with_enough_steps():
    check_classifiers_train(
        "FairClassifier",
        BoundSensitive(steps=100, eval_every=100, min_group_size=0, lr=1e-2),
    )


@pytest.fixture(scope="module")
def fitted():
    frame = make_people(400)
    X = frame.drop(columns=["credit", "sex", "race"])
    clf = FairClassifier(steps=30, eval_every=10, random_state=0)
    clf.fit(X, frame["credit"], sensitive_features=frame["sex"], domains=frame["site"])
    return frame, X, clf


def test_fit_predict_pickle_and_params(fitted):
    frame, X, clf = fitted
    assert clf.classes_.tolist() == ["bad", "good"]
    probs = clf.predict_proba(X)
    assert probs.shape == (len(X), 2) and np.allclose(probs.sum(1), 1)
    assert set(clf.predict(X)) <= {"bad", "good"}
    assert clf.score(X, frame["credit"]) == pytest.approx(
        (clf.predict(X) == frame["credit"]).mean()
    )
    assert clf.get_params()["steps"] == 30 and clone(clf).set_params(steps=5).steps == 5
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), probs)
    assert clf.record_["selected_step"] in (10, 20, 30)
    assert clf.feature_names_in_.tolist() == ["age", "job", "income", "site"]
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(X[["job", "age", "income", "site"]])


def test_fairlearn_metricframe_and_threshold_optimizer(fitted):
    from fairlearn.metrics import MetricFrame, selection_rate
    from fairlearn.postprocessing import ThresholdOptimizer

    frame, X, clf = fitted
    y = (frame["credit"] == "good").to_numpy(int)
    predicted = (clf.predict(X) == "good").astype(int)
    mf = MetricFrame(
        metrics=selection_rate, y_true=y, y_pred=predicted, sensitive_features=frame["sex"]
    )
    for group, rate in mf.by_group.items():
        assert rate == pytest.approx(predicted[frame["sex"] == group].mean())
    post = ThresholdOptimizer(
        estimator=clf,
        prefit=True,
        predict_method="predict_proba",
        constraints="demographic_parity",
    )
    post.fit(X, y, sensitive_features=frame["sex"])
    fair = post.predict(X, sensitive_features=frame["sex"], random_state=0)
    after = MetricFrame(
        metrics=selection_rate, y_true=y, y_pred=fair, sensitive_features=frame["sex"]
    )
    assert after.difference() <= mf.difference() + 0.05


def test_continuous_sensitive_features_are_refused():
    frame = make_people(200)
    with pytest.raises(ValueError, match="sensitive_features has 5[0-9] distinct values"):
        FairClassifier(steps=2).fit(
            frame[["job"]], frame["credit"], sensitive_features=frame["age"]
        )
