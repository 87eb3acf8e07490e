"""The feature encoding of a table, stored as plain JSON so that new rows can be encoded alike.

`fit_encoding` decides, per feature column, numeric (values parse as numbers) or categorical
(one-hot over the sorted values seen); `encode` applies that decision to any frame holding the
same columns: the training file at load time, new rows at prediction time. A category unseen
when fitting is encoded as all zeros (unknown) with a warning; a missing column is an error
naming it. Standardisation statistics are added by training (`with_statistics`), computed on the
training split only.

`proxy_columns` finds feature columns that determine the sensitive attribute (one-feature
accuracy above a threshold): dropping the sensitive column does not remove it from the data
when such a column stays.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

ENCODING_FORMAT = 1


class UnknownCategoryWarning(UserWarning):
    """New rows hold a category that the model never saw (encoded as unknown: all zeros)."""


class ProxyWarning(UserWarning):
    """A feature column determines the sensitive attribute (almost) exactly."""


def fit_encoding(
    frame: pd.DataFrame, columns: Sequence[str], categorical: Sequence[str], max_categories: int
) -> dict[str, Any]:
    """Decide the encoding of `columns` of `frame` (string cells, NaN for missing).

    Returns
    -------
    dict
        ``{"format", "columns": [{"name", "kind": "numeric"|"categorical", "categories"}],
        "feature_names"}``: plain JSON.
    """
    specs = []
    for col in columns:
        values = pd.to_numeric(frame[col], errors="coerce")
        is_number = values.notna().sum() == frame[col].notna().sum()
        if col not in categorical and is_number:
            bad = np.flatnonzero(~np.isfinite(values.to_numpy(np.float64, na_value=0.0)))
            if len(bad):
                raise ValueError(
                    f"csv: column {col!r} holds {len(bad)} infinite value(s) (first rows "
                    f"{bad[:5].tolist()}); fix them, drop the column (drop={col!r}) or mark it "
                    f"categorical={col!r}"
                )
            specs.append({"name": col, "kind": "numeric"})
            continue
        levels = sorted(str(v) for v in frame[col].dropna().unique())
        if len(levels) > max_categories:
            raise ValueError(
                f"csv: column {col!r} has {len(levels)} distinct values, more than "
                f"max_categories={max_categories}; drop it (drop={col!r}) or raise "
                "max_categories"
            )
        specs.append({"name": col, "kind": "categorical", "categories": levels})
    names = []
    for spec in specs:
        if spec["kind"] == "numeric":
            names.append(spec["name"])
        else:
            names += [f"{spec['name']}={c}" for c in spec["categories"]]
    return {"format": ENCODING_FORMAT, "columns": specs, "feature_names": names}


def encode(frame: pd.DataFrame, encoding: dict[str, Any], what: str = "input") -> np.ndarray:
    """The float32 feature matrix of `frame` under `encoding` (before standardisation)."""
    missing = [s["name"] for s in encoding["columns"] if s["name"] not in frame.columns]
    if missing:
        raise ValueError(
            f"{what}: feature column {missing[0]!r} is missing"
            + (f" (and {len(missing) - 1} more: {missing[1:]})" if len(missing) > 1 else "")
            + "; the model was trained on columns "
            + str([s["name"] for s in encoding["columns"]])
        )
    parts = []
    for spec in encoding["columns"]:
        col = spec["name"]
        if spec["kind"] == "numeric":
            values = pd.to_numeric(frame[col], errors="coerce")
            bad = values.isna() & frame[col].notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise ValueError(
                    f"{what}: column {col!r} is numeric in the model but row {row} holds "
                    f"{frame[col].iloc[row]!r}"
                )
            parts.append(values.to_numpy(np.float32, na_value=np.nan)[:, None])
            continue
        cells = frame[col].astype(object).where(frame[col].notna(), None)
        cells = np.array([None if c is None else str(c) for c in cells], dtype=object)
        categories = np.asarray(spec["categories"], dtype=object)
        onehot = (cells[:, None] == categories[None, :]).astype(np.float32)
        unseen = sorted({c for c in cells[onehot.sum(1) == 0] if c is not None})
        if unseen:
            warnings.warn(
                f"{what}: column {col!r} holds value(s) {unseen[:5]} not seen in training; "
                "encoded as unknown (all its indicator columns 0)",
                UnknownCategoryWarning,
                stacklevel=2,
            )
        parts.append(onehot)
    if not parts:
        return np.zeros((len(frame), 0), np.float32)
    return np.concatenate(parts, axis=1)


def with_statistics(
    encoding: dict[str, Any], columns: Sequence[int], mean: Sequence[float], std: Sequence[float]
) -> dict[str, Any]:
    """`encoding` plus the standardisation ``x[:, columns] = (x - mean) / std`` (float32)."""
    return {
        **encoding,
        "standardize": {
            "columns": [int(c) for c in columns],
            "mean": [float(m) for m in mean],
            "std": [float(s) for s in std],
        },
    }


def standardize(x: np.ndarray, encoding: dict[str, Any]) -> np.ndarray:
    """Apply the stored standardisation (float32 arithmetic, as in training)."""
    stats = encoding.get("standardize")
    if not stats or not stats["columns"]:
        return x
    x = x.copy()
    cols = np.asarray(stats["columns"], dtype=np.intp)
    mean = np.asarray(stats["mean"], dtype=np.float32)
    std = np.asarray(stats["std"], dtype=np.float32)
    x[:, cols] = (x[:, cols] - mean) / std
    return x


def _majority_accuracy(values: pd.Series, groups: pd.Series) -> float:
    """Accuracy of predicting the group from the value by majority vote per value."""
    table = pd.crosstab(values, groups)
    return float(table.max(axis=1).sum() / table.to_numpy().sum())


def _threshold_accuracy(values: np.ndarray, is_first: np.ndarray) -> float:
    """Best accuracy of a single threshold on `values` separating a binary group."""
    order = np.argsort(values, kind="stable")
    v, g = values[order], is_first[order].astype(np.int64)
    n, n_first = len(v), int(g.sum())
    left_first = np.cumsum(g)
    left = np.arange(1, n + 1)
    cut = np.append(v[1:] != v[:-1], True)  # thresholds only between distinct values
    # first group on the left, second on the right (or the other way round)
    correct = left_first + (n - left) - (n_first - left_first)
    best = max(correct[cut].max(), n - correct[cut].min(), max(n_first, n - n_first))
    return float(best / n)


def proxy_columns(
    frame: pd.DataFrame,
    columns: Sequence[str],
    sensitive: pd.Series,
    threshold: float = 0.99,
    min_rows: int = 50,
) -> list[tuple[str, float]]:
    """Feature columns whose one-feature accuracy in predicting `sensitive` exceeds `threshold`.

    A column with few distinct values (at most one per five rows) predicts by majority vote per
    value; a numeric column with many values, for a binary attribute, by its best threshold.
    Columns with one distinct value per row or so are skipped (a vote per value is meaningless),
    and so are tables under `min_rows` rows (any column separates a handful of rows).
    """
    found: list[tuple[str, float]] = []
    n = len(frame)
    if n < min_rows:
        return found
    groups = sensitive.astype(str)
    base = float(groups.value_counts().max() / n)
    if base > threshold:  # one group is almost everyone: any column "predicts" it
        return []
    for col in columns:
        present = frame[col].notna().to_numpy()
        values = frame.loc[present, col]
        levels = values.nunique()
        if levels <= max(2, n // 5):
            accuracy = _majority_accuracy(values, groups[present])
        else:
            numbers = pd.to_numeric(values, errors="coerce")
            if numbers.isna().any() or groups.nunique() != 2:
                continue
            first = (groups[present] == groups.iloc[0]).to_numpy()
            accuracy = _threshold_accuracy(numbers.to_numpy(np.float64), first)
        if accuracy > threshold:
            found.append((col, accuracy))
    return found
