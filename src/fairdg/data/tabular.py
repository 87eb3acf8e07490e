"""The feature encoding of a table, stored as plain JSON so that new rows can be encoded alike.

The one table encoder of fairdg: the ``csv`` dataset, ``fairdg predict`` / `fairdg.load_model`
and `fairdg.FairClassifier` all read cells as text (`read_table`, `as_text`), decide the
encoding with `fit_encoding` and apply it with `encode_rows`.

`fit_encoding` decides, per feature column, numeric (values parse as numbers) or categorical
(one-hot over the sorted values seen); `encode` applies that decision to any frame holding the
same columns: the training file at load time, new rows at prediction time. A category unseen
when fitting is encoded as all zeros (unknown) with a warning; a missing column is an error
naming it. Standardisation statistics are added by training (`with_statistics`), computed on the
training split only. `encode_rows` adds the missing-value policy of training (refuse, naming
the row and column, or drop the row) and refuses numbers that are not finite.
`check_encoding` checks a stored encoding (``preprocessing.json``) against its schema and the
model it belongs to.

`proxy_columns` finds feature columns that determine the sensitive attribute (one-feature
accuracy above a threshold): dropping the sensitive column does not remove it from the data
when such a column stays.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairdg.records import (
    NUMBER,
    TEXT,
    CorruptRunError,
    Fields,
    Is,
    ListOf,
    check_schema,
    short,
)

ENCODING_FORMAT = 1
MISSING_POLICIES = ("error", "drop")
# How fairdg reads a table: every cell as text, these spellings (and nothing else) missing.
_NA_VALUES = ["", "NA", "NaN", "nan", "?"]


class UnknownCategoryWarning(UserWarning):
    """New rows hold a category that the model never saw (encoded as unknown: all zeros)."""


class ProxyWarning(UserWarning):
    """A feature column determines the sensitive attribute (almost) exactly."""


def read_table(source: Any, sep: str = ",", encoding: str = "utf-8") -> pd.DataFrame:
    """Read a CSV file (or buffer) as strings, with fairdg's missing-value markers."""
    return pd.read_csv(
        source,
        sep=sep,
        encoding=encoding,
        dtype=str,
        keep_default_na=False,
        skipinitialspace=True,
        na_values=_NA_VALUES,
    )


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame`'s cells as `read_table` reads them from a CSV file (text, NaN for missing), so
    that a DataFrame and a file with the same rows are encoded alike."""
    check_unique_columns(list(frame.columns), "the DataFrame")
    return read_table(io.StringIO(frame.to_csv(index=False)))


def check_unique_columns(names: Sequence[Any], what: str) -> None:
    """Refuse a header that names a column twice (pandas would rename the copy ``age.1``)."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names, 1):
        if str(name) in seen:
            raise ValueError(
                f"{what}: column {short(str(name))} appears twice (columns {seen[str(name)]} "
                f"and {position}); rename or remove one of them"
            )
        seen[str(name)] = position


def fit_encoding(
    frame: pd.DataFrame,
    columns: Sequence[str],
    categorical: Sequence[str],
    max_categories: int | None,
) -> dict[str, Any]:
    """Decide the encoding of `columns` of `frame` (string cells, NaN for missing); None for
    `max_categories`: no limit.

    Returns
    -------
    dict
        ``{"format", "columns": [{"name", "kind": "numeric"|"categorical", "categories"}],
        "feature_names"}``: plain JSON.
    """
    specs: list[dict[str, Any]] = []
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
        if max_categories is not None and len(levels) > max_categories:
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


def check_columns(frame: pd.DataFrame, encoding: dict[str, Any], what: str) -> None:
    """Refuse `frame` when it lacks a feature column of `encoding` (all are named)."""
    missing = [s["name"] for s in encoding["columns"] if s["name"] not in frame.columns]
    if missing:
        names = [s["name"] for s in encoding["columns"]]
        raise ValueError(
            f"{what}: feature column {short(missing[0])} is missing"
            + (f" (and {len(missing) - 1} more: {short(missing[1:])})" if len(missing) > 1 else "")
            + f"; the model was trained on columns {short(names, 400)}"
        )


def encode(frame: pd.DataFrame, encoding: dict[str, Any], what: str = "input") -> np.ndarray:
    """The float32 feature matrix of `frame` under `encoding` (before standardisation)."""
    check_columns(frame, encoding, what)
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
                    f"{short(frame[col].iloc[row])}"
                )
            parts.append(values.to_numpy(np.float32, na_value=np.nan)[:, None])
            continue
        cells = frame[col].astype(object).where(frame[col].notna(), None)
        cells = np.array([None if c is None else str(c) for c in cells], dtype=object)
        categories = np.asarray(spec["categories"], dtype=object)
        onehot = (cells[:, None] == categories[None, :]).astype(np.float32)
        unseen = sorted({c for c in cells[onehot.sum(1) == 0] if c is not None})
        if unseen:
            shown = ", ".join(short(v) for v in unseen[:5])
            more = f" and {len(unseen) - 5} more" if len(unseen) > 5 else ""
            warnings.warn(
                f"{what}: column {col!r} holds value(s) [{shown}]{more} not seen in training; "
                "encoded as unknown (all its indicator columns 0)",
                UnknownCategoryWarning,
                stacklevel=2,
            )
        parts.append(onehot)
    if not parts:
        return np.zeros((len(frame), 0), np.float32)
    return np.concatenate(parts, axis=1)


def numeric_features(encoding: dict[str, Any]) -> list[int]:
    """Positions of the numeric features among the encoded ones (those to standardise)."""
    positions, at = [], 0
    for spec in encoding["columns"]:
        if spec["kind"] == "numeric":
            positions.append(at)
        at += 1 if spec["kind"] == "numeric" else len(spec["categories"])
    return positions


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


def encode_rows(
    frame: pd.DataFrame, encoding: dict[str, Any], what: str, missing: str = "error", fix: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """Standardised features of the rows of `frame` (text cells, as `read_table` gives them)
    that the missing-value policy keeps, and the boolean mask of those rows.

    A feature cell that is missing is refused (``missing="error"``: the row, the column and
    `fix` in the message) or its row dropped (``"drop"``); a numeric cell that is not a finite
    number (``inf``, ``1e400``) is always refused, as in training.
    """
    check_columns(frame, encoding, what)
    keep = missing_rows(frame, [s["name"] for s in encoding["columns"]], what, missing, fix)
    kept = frame[keep].reset_index(drop=True)
    numeric = [s["name"] for s in encoding["columns"] if s["kind"] == "numeric"]
    check_finite(kept, numeric, what, np.flatnonzero(keep))
    return standardize(encode(kept, encoding, what), encoding), keep


def missing_rows(
    frame: pd.DataFrame, columns: Sequence[str], what: str, missing: str, fix: str = ""
) -> np.ndarray:
    """The mask of rows with a value in every one of `columns`; under ``missing="error"`` a
    row without one is refused (the row, the column, how many rows and `fix`)."""
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be 'error' or 'drop', got {short(missing)}")
    holes = frame[list(columns)].isna().to_numpy()
    keep = np.asarray(~holes.any(axis=1), dtype=bool)
    if missing == "error" and not keep.all():
        row = int(np.flatnonzero(~keep)[0])
        col = columns[int(np.flatnonzero(holes[row])[0])]
        rows = np.flatnonzero(~keep)[:5].tolist()
        raise ValueError(
            f"{what}: row {row}, column {short(col)} is missing a value ({int((~keep).sum())} "
            f"row(s) are, first rows {rows}); {fix or 'fill them'}"
        )
    return keep


def check_finite(frame: pd.DataFrame, columns: Sequence[str], what: str, rows=None) -> None:
    """Refuse a cell of the numeric `columns` that is an infinite number (``inf``, ``1e400``);
    `rows` maps positions of `frame` to the row numbers to name (default: the positions)."""
    for col in columns:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(np.isinf(values))
        if len(bad):
            row = int(bad[0] if rows is None else rows[bad[0]])
            raise ValueError(
                f"{what}: row {row}, column {short(col)} holds {short(frame[col].iloc[bad[0]])}, "
                f"not a finite number ({len(bad)} such row(s)); fix those cells"
            )


# -- the stored encoding (preprocessing.json): its schema and its fit with the model ----------
_KIND = Is((str,), "'numeric' or 'categorical'", lambda v: v in ("numeric", "categorical"))
_INDEX = Is((int,), "a feature index >= 0", lambda v: v >= 0)
_SCALE = Is((int, float), "a finite number > 0", lambda v: v > 0)
ENCODING_SPEC = Fields(
    {
        "format": Is(
            (int,),
            f"{ENCODING_FORMAT} (the format this fairdg reads)",
            lambda v: v == ENCODING_FORMAT,
        ),
        "columns": ListOf(Fields({"name": TEXT, "kind": _KIND}, {"categories": ListOf(TEXT)})),
        "feature_names": ListOf(TEXT),
    },
    {
        "standardize": Fields(
            {"columns": ListOf(_INDEX), "mean": ListOf(NUMBER), "std": ListOf(_SCALE)}
        ),
        "class_names": ListOf(TEXT),
        "group_names": ListOf(TEXT),
    },
)


def check_encoding(
    path: Any, encoding: Any, n_features: int, n_classes: int | None, fix: str
) -> dict[str, Any]:
    """`encoding` checked against `ENCODING_SPEC` and against the model it encodes for:
    `n_features` inputs and `n_classes` classes (None: not checked); `CorruptRunError` (one
    line naming `path` and the field) otherwise."""
    check_schema(path, encoding, ENCODING_SPEC, fix)

    def bad(field: str, problem: str) -> CorruptRunError:
        return CorruptRunError(f"{path}: field {field!r} {problem}; {fix}")

    columns = encoding["columns"]
    for i, spec in enumerate(columns):
        if spec["kind"] == "categorical" and "categories" not in spec:
            raise bad(f"columns[{i}].categories", "is missing (a categorical column)")
    width = sum(1 if s["kind"] == "numeric" else len(s["categories"]) for s in columns)
    if width != len(encoding["feature_names"]) or width != n_features:
        raise bad(
            "columns",
            f"gives {width} features, 'feature_names' names {len(encoding['feature_names'])} "
            f"and the model takes {n_features}",
        )
    stats = encoding.get("standardize")
    if stats is not None:
        if not len(stats["columns"]) == len(stats["mean"]) == len(stats["std"]):
            raise bad(
                "standardize",
                f"has {len(stats['columns'])} columns, {len(stats['mean'])} means and "
                f"{len(stats['std'])} standard deviations; they must be as many",
            )
        if any(c >= n_features for c in stats["columns"]):
            raise bad("standardize.columns", f"names a feature beyond the {n_features}")
    names = encoding.get("class_names")
    if names is not None and n_classes is not None and len(names) != n_classes:
        raise bad(
            "class_names", f"lists {len(names)} class name(s); the model has {n_classes} classes"
        )
    return encoding


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
