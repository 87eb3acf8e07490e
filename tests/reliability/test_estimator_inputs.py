"""FairClassifier checks its inputs as scikit-learn does (issue 27, cases 13, 14 and 15), and
encodes rows with the one table encoder that ``fairdg predict`` uses (issue 25, point 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from run_helpers import make_table

import fairdg
from fairdg import FairClassifier

FEATURES = ["age", "income", "job"]


@pytest.fixture(scope="module")
def table():
    return make_table(160, seed=3)


def _fit(table, **parts):
    kwargs = {"y": table["y"], "sensitive_features": table["sex"], **parts}
    return FairClassifier(steps=2, min_group_size=0).fit(table[FEATURES], **kwargs)


# -- case 13: row counts ---------------------------------------------------------------------
@pytest.mark.parametrize("part", ["y", "sensitive_features", "domains"])
def test_row_counts_must_match(table, part):
    short = {"y": table["y"], "sensitive_features": table["sex"], "domains": table["sex"]}[part]
    with pytest.raises(ValueError, match=rf"^{part} \(column '\w+'\) has 155 rows but X has 160"):
        _fit(table, **{part: short[:-5]})


# -- case 14: NaN in y ------------------------------------------------------------------------
def test_missing_targets_are_counted_and_named(table):
    y = table["y"].astype(float).where(table.index % 40 != 7)
    with pytest.raises(
        ValueError, match=r"^y \(column 'y'\) holds 4 missing value\(s\) \(first rows \[7, 47"
    ):
        _fit(table, y=y)
    with pytest.raises(ValueError, match=r"^y holds 1 missing value\(s\) \(first rows \[0\]\)"):
        _fit(table, y=[None, *table["y"].tolist()[1:]])


# -- case 15: NaN in sensitive_features (not a group 'nan') ------------------------------------
def test_missing_sensitive_values_are_refused_not_grouped(table):
    sex = table["sex"].where(table.index != 3)
    with pytest.raises(
        ValueError, match=r"sensitive_features \(column 'sex'\) holds 1 missing value\(s\)"
    ):
        _fit(table, sensitive_features=sex)


def test_missing_feature_values_name_row_and_column(table):
    X = table[FEATURES].copy()
    X.loc[5, "job"] = None
    with pytest.raises(ValueError, match=r"^X: row 5, column 'job' is missing a value"):
        FairClassifier(steps=2).fit(X, table["y"], sensitive_features=table["sex"])


# -- one table encoder -------------------------------------------------------------------------
def test_estimator_and_predict_encode_rows_alike(table, tmp_path):
    """A FairClassifier run saved to output_dir predicts from its folder through
    fairdg.load_model with the same probabilities: one encoding, one standardisation."""
    clf = FairClassifier(steps=20, eval_every=10, min_group_size=0, output_dir=str(tmp_path))
    clf.fit(table[FEATURES], table["y"], sensitive_features=table["sex"])
    run_dir = tmp_path / clf.record_["run_id"]
    model = fairdg.load_model(run_dir)
    assert model.preprocessing["columns"] == clf.encoding_["columns"]
    assert model.preprocessing["standardize"] == clf.encoding_["standardize"]
    np.testing.assert_array_equal(
        model.predict_proba(table[FEATURES]), clf.predict_proba(table[FEATURES]).astype(np.float32)
    )
    np.testing.assert_array_equal(model.predict(table[FEATURES]), clf.predict(table[FEATURES]))
    assert model.predict(table[FEATURES]).dtype == clf.classes_.dtype == np.int64
    kinds = {c["name"]: c["kind"] for c in clf.encoding_["columns"]}
    assert kinds == {"age": "numeric", "income": "numeric", "job": "categorical"}


# 2 steps leave a constant model, which fit names (not what this test is about)
@pytest.mark.filterwarnings("ignore::fairdg.metrics.degenerate.DegeneratePredictorWarning")
def test_encoding_statistics_come_from_the_training_split_only(table):
    clf = FairClassifier(steps=2, min_group_size=0)
    clf.fit(table[FEATURES], table["y"], sensitive_features=table["sex"])
    stats = clf.encoding_["standardize"]
    assert stats["columns"] == [0, 1]  # age and income; the job indicators are not scaled
    assert stats["mean"][1] != pytest.approx(table["income"].mean(), abs=1e-6)
    assert pd.Series(stats["std"]).gt(0).all()
