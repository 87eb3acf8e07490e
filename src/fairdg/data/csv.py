"""Your own data: a CSV file with a target, a sensitive attribute and optionally a domain column.

``fairdg run --dataset csv --data-option path=FILE --data-option target=COL
--data-option sensitive=COL [--data-option domain=COL]``.

Every other column is a feature (unless listed in ``drop``). A column is numeric when all its
values parse as numbers (and it is not listed in ``categorical``); numeric columns are
standardised with the training split's statistics (by `MultiDomainDataset.split`), the others
are one-hot encoded. Target, sensitive and domain values are mapped to ids in sorted order and
keep their names (``class_names``, ``group_names``, domain names). Rows missing the target, the
sensitive value or the domain are dropped (counted in ``meta``); missing feature values are an
error unless ``missing="drop"``. Every problem raises a ValueError naming the column.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.data.info import DatasetInfo

DATASET_INFO = {
    "csv": DatasetInfo(
        input_kind="tabular",
        shape="(features after one-hot,)",
        domains=(),
        domains_note="values of the domain= column (or one)",
        classes="values of the target= column",
        groups="values of the sensitive= column",
        source="user file",
        default_steps=1000,
        default_hparams={"batch_size": 128, "lr": 1e-3},
    ),
}


def _names(value: Sequence[str] | str | None, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise TypeError(
        f"csv: {what} must be a column name, a comma-separated string or a list of "
        f"names, got {value!r}"
    )


def _read(
    path: str | None, root: str | None, sep: str, encoding: str = "utf-8"
) -> tuple[pd.DataFrame, Path]:
    if not path:
        raise ValueError("csv: option path is required (--data-option path=FILE)")
    file = Path(path).expanduser()
    if not file.is_absolute() and root is not None:
        file = Path(root).expanduser() / file
    if file.is_dir():
        raise ValueError(
            f"csv: {file} is a folder, not a CSV file (option path={path!r}); give the path of "
            "the file inside it"
        )
    if not file.is_file():
        raise FileNotFoundError(f"csv: file {str(file)!r} not found (option path={path!r})")
    try:
        frame = pd.read_csv(
            file,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            na_values=["", "NA", "NaN", "nan", "?"],
            encoding=encoding,
        )
    except pd.errors.EmptyDataError:
        raise ValueError(f"csv: {file} is empty; it needs a header row and data rows") from None
    except UnicodeDecodeError as err:
        raise ValueError(
            f"csv: {file} is not {encoding} text (byte {err.object[err.start]:#04x} at offset "
            f"{err.start}); pass its encoding, e.g. --data-option encoding=latin-1"
        ) from None
    except LookupError:
        raise ValueError(f"csv: unknown encoding {encoding!r} (e.g. utf-8, latin-1)") from None
    except pd.errors.ParserError as err:
        detail = " ".join(str(err).split())
        raise ValueError(f"csv: {file} cannot be parsed ({detail}); check sep={sep!r}") from None
    if frame.empty:
        raise ValueError(f"csv: {file} holds no rows")
    return frame, file


def _check_column(frame: pd.DataFrame, column: str | None, option: str, file: Path) -> None:
    if column is None:
        raise ValueError(
            f"csv: option {option} is required (--data-option {option}=COLUMN); "
            f"columns of {file.name}: {list(frame.columns)}"
        )
    if column not in frame.columns:
        raise ValueError(
            f"csv: {option} column {column!r} is not in {file.name}; "
            f"columns: {list(frame.columns)}"
        )


def _check_distinct_roles(target: str, sensitive: str, domain: str | None) -> None:
    roles = {"target": target, "sensitive": sensitive, "domain": domain}
    named = [(k, v) for k, v in roles.items() if v is not None]
    for i, (a, col) in enumerate(named):
        for b, other in named[i + 1 :]:
            if col == other:
                raise ValueError(
                    f"csv: {a} and {b} are both column {col!r}; each role needs its own column"
                )


def _labels_canonical(frame: pd.DataFrame, roles: list[str]) -> pd.DataFrame:
    """Label columns without stray spaces, numbers in one spelling (``1`` and ``1.0``)."""
    frame = frame.copy()
    for col in roles:
        values = frame[col].str.strip().replace("", np.nan)
        numbers = pd.to_numeric(values, errors="coerce")
        if values.notna().any() and numbers.notna().sum() == values.notna().sum():
            values = numbers.map(_number_text, na_action="ignore")
        frame[col] = values
    return frame


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _ids(values: pd.Series, option: str, column: str) -> tuple[np.ndarray, list[str]]:
    names = sorted(values.unique(), key=_sort_key)
    if not names:
        raise ValueError("csv: no rows left after dropping rows with missing values; fill them in")
    if len(names) < 2:
        raise ValueError(
            f"csv: {option} column {column!r} has a single value {names[0]!r}; "
            "it needs at least two"
        )
    index = {n: i for i, n in enumerate(names)}
    return values.map(index).to_numpy(np.int64), [str(n) for n in names]


def _sort_key(value: str) -> tuple[int, float | str]:
    """Numbers in numeric order, then strings."""
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


def _features(
    frame: pd.DataFrame, columns: list[str], categorical: list[str], max_categories: int
) -> tuple[pd.DataFrame, list[str]]:
    numeric, parts = [], []
    for col in columns:
        values = pd.to_numeric(frame[col], errors="coerce")
        is_number = values.notna().sum() == frame[col].notna().sum()
        if col not in categorical and is_number:
            bad = np.flatnonzero(~np.isfinite(values.to_numpy(np.float64)))
            if len(bad):
                raise ValueError(
                    f"csv: column {col!r} holds {len(bad)} infinite value(s) (first rows "
                    f"{bad[:5].tolist()}); fix them, drop the column (drop={col!r}) or mark it "
                    f"categorical={col!r}"
                )
            parts.append(values.astype(np.float32).rename(col))
            numeric.append(col)
            continue
        levels = frame[col].nunique()
        if levels > max_categories:
            raise ValueError(
                f"csv: column {col!r} has {levels} distinct values, more than "
                f"max_categories={max_categories}; drop it (drop={col!r}) or raise "
                "max_categories"
            )
        parts.append(pd.get_dummies(frame[col], prefix=col, prefix_sep="=", dtype=np.float32))
    return pd.concat(parts, axis=1), numeric


def load_csv(
    root: str | None = None,
    *,
    path: str | None = None,
    target: str | None = None,
    sensitive: str | None = None,
    domain: str | None = None,
    drop: Sequence[str] | str | None = None,
    categorical: Sequence[str] | str | None = None,
    include_sensitive: bool = False,
    missing: str = "error",
    max_categories: int = 100,
    sep: str = ",",
    encoding: str = "utf-8",
) -> MultiDomainDataset:
    """Load a CSV file as a `MultiDomainDataset`.

    Parameters
    ----------
    root
        Folder that a relative `path` is read from.
    path
        The CSV file (header row required).
    target, sensitive
        Columns of the target and of the sensitive attribute (each at least two values).
    domain
        Column whose values are the domains (None: one domain, ``all``).
    drop
        Columns that are not features (an identifier, a leaking column).
    categorical
        Columns to one-hot encode even when their values are numbers (codes).
    include_sensitive
        Keep the sensitive column among the features.
    missing
        ``"error"`` (default) or ``"drop"``: what to do with rows missing a feature value.
    max_categories
        Refuse a categorical column with more distinct values (likely an identifier).
    sep
        Field separator.
    encoding
        Text encoding of the file (e.g. ``latin-1``).
    """
    if missing not in ("error", "drop"):
        raise ValueError(f"csv: missing must be 'error' or 'drop', got {missing!r}")
    frame, file = _read(path, root, sep, encoding)
    _check_column(frame, target, "target", file)
    _check_column(frame, sensitive, "sensitive", file)
    if domain is not None:
        _check_column(frame, domain, "domain", file)
    _check_distinct_roles(target, sensitive, domain)
    dropped, forced = _names(drop, "drop"), _names(categorical, "categorical")
    for option, cols in (("drop", dropped), ("categorical", forced)):
        for col in cols:
            if col not in frame.columns:
                raise ValueError(
                    f"csv: {option} column {col!r} is not in {file.name}; "
                    f"columns: {list(frame.columns)}"
                )
    roles = [c for c in (target, sensitive, domain) if c is not None]
    n_rows = len(frame)
    frame = _labels_canonical(frame, roles)
    empty = [c for c in roles if frame[c].isna().all()] or roles
    frame = frame.dropna(subset=roles).reset_index(drop=True)
    if frame.empty:
        raise ValueError(
            f"csv: no row of {file.name} has values in all of {roles} (column(s) {empty} "
            "empty); fill them or choose other columns"
        )
    columns = [c for c in frame.columns if c not in roles and c not in dropped]
    if include_sensitive:
        columns.append(sensitive)
    if not columns:
        raise ValueError(f"csv: {file.name} has no feature columns left besides {roles}")
    holes = frame[columns].isna()
    if holes.to_numpy().any():
        if missing == "error":
            col = holes.sum().idxmax()
            rows = np.flatnonzero(holes[col].to_numpy())[:5].tolist()
            raise ValueError(
                f"csv: column {col!r} has {int(holes[col].sum())} missing value(s) "
                f"(first rows {rows}); fill them, drop the column "
                f"(drop={col!r}) or pass missing='drop'"
            )
        frame = frame[~holes.any(axis=1).to_numpy()].reset_index(drop=True)

    y, class_names = _ids(frame[target], "target", target)
    z, group_names = _ids(frame[sensitive], "sensitive", sensitive)
    encoded, numeric = _features(frame, columns, forced, max_categories)
    x = torch.from_numpy(encoded.to_numpy(np.float32, copy=True))
    labels = frame[domain] if domain is not None else pd.Series("all", index=frame.index)
    domains = []
    for name in sorted(labels.unique(), key=_sort_key):
        mask = (labels == name).to_numpy(copy=True)
        present = np.unique(z[mask])
        if len(present) < 2:
            raise ValueError(
                f"csv: domain {name!r} (column {domain!r}) holds only sensitive group "
                f"{group_names[present[0]]!r} of column {sensitive!r}; every domain needs at "
                "least two groups: merge or drop it"
            )
        domains.append(
            Domain(str(name), x[mask], torch.from_numpy(y[mask]), torch.from_numpy(z[mask]))
        )
    return MultiDomainDataset(
        name="csv",
        domains=domains,
        input_shape=(x.shape[1],),
        class_names=class_names,
        group_names=group_names,
        sensitive_name=sensitive,
        standardize=[encoded.columns.get_loc(c) for c in numeric],
        feature_names=[str(c) for c in encoded.columns],
        default_steps=DATASET_INFO["csv"].default_steps,
        default_hparams=dict(DATASET_INFO["csv"].default_hparams),
        meta={
            "file": str(file),
            "target": target,
            "sensitive": sensitive,
            "domain": domain,
            "rows_read": n_rows,
            "rows_used": len(frame),
            "numeric": numeric,
            "categorical": [c for c in columns if c not in numeric],
        },
    )
