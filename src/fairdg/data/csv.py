"""Your own data: a CSV file with a target, a sensitive attribute and optionally a domain column.

``fairdg run --dataset csv --data-option path=FILE --data-option target=COL
--data-option sensitive=COL [--data-option domain=COL]``.

Every other column is a feature (unless listed in ``drop``): columns that define the domains
in another form (``age`` when the domains are age bands) stay features unless dropped. A column
is numeric when all its values parse as numbers (and it is not listed in ``categorical``);
numeric columns are standardised with the training split's statistics (by
`MultiDomainDataset.split`), the others are one-hot encoded; the encoding is kept as
``dataset.preprocessing`` (plain JSON) so that a trained model can be applied to new rows.
Target, sensitive and domain values are mapped to ids in sorted order and keep their names
(``class_names``, ``group_names``, domain names); ``positive=`` names the positive class and
``sensitive_map=`` merges or renames groups. A feature column that predicts the sensitive
attribute on its own with accuracy above 0.99 is named in a `ProxyWarning`. Rows missing the
target, the sensitive value or the domain are dropped (counted in ``meta``); missing feature
values are an error unless ``missing="drop"``. Every problem raises a ValueError naming the
column. From Python, ``path`` may also be a pandas DataFrame.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.data.tabular import (
    ProxyWarning,
    check_unique_columns,
    encode,
    fit_encoding,
    proxy_columns,
    read_table,
)
from fairdg.datasets_info import DATASET_INFO


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
    path: Any, root: str | None, sep: str, encoding: str = "utf-8"
) -> tuple[pd.DataFrame, Path]:
    """The table as strings (NaN for missing); a DataFrame is parsed exactly like a file."""
    if isinstance(path, pd.DataFrame):
        file = Path("DataFrame")
        check_unique_columns(list(path.columns), "csv: the DataFrame")
        frame = parse_table(io.StringIO(path.to_csv(index=False, sep=sep)), file, sep, encoding)
    else:
        if not path:
            raise ValueError("csv: option path is required (--data-option path=FILE)")
        file = Path(path).expanduser()
        if not file.is_absolute() and root is not None:
            file = Path(root).expanduser() / file
        if file.is_dir():
            raise ValueError(
                f"csv: {file} is a folder, not a CSV file (option path={path!r}); give the path "
                "of the file inside it"
            )
        if not file.is_file():
            raise FileNotFoundError(f"csv: file {str(file)!r} not found (option path={path!r})")
        frame = parse_table(file, file, sep, encoding)
    if frame.empty:
        raise ValueError(f"csv: {file} holds no rows")
    return frame, file


def parse_table(
    source: Any, file: Path, sep: str, encoding: str, option: str = "--data-option "
) -> pd.DataFrame:
    """`read_table` with each parsing failure as one line naming the file and the fix
    (`option` spells the command's encoding option: ``--data-option encoding=...``); a file
    whose header names a column twice is refused (pandas would rename the copy ``age.1``)."""
    try:
        frame = read_table(source, sep, encoding)
        if isinstance(source, str | Path):
            header = pd.read_csv(
                source, sep=sep, encoding=encoding, header=None, nrows=1, dtype=str
            )
            check_unique_columns(list(header.iloc[0]) if len(header) else [], str(file))
        return frame
    except pd.errors.EmptyDataError:
        raise ValueError(f"csv: {file} is empty; it needs a header row and data rows") from None
    except UnicodeDecodeError as err:
        raise ValueError(
            f"csv: {file} is not {encoding} text (byte {err.object[err.start]:#04x} at offset "
            f"{err.start}); pass its encoding, e.g. {option}encoding=latin-1"
        ) from None
    except LookupError:
        raise ValueError(f"csv: unknown encoding {encoding!r} (e.g. utf-8, latin-1)") from None
    except pd.errors.ParserError as err:
        detail = " ".join(str(err).split())
        raise ValueError(f"csv: {file} cannot be parsed ({detail}); check sep={sep!r}") from None


def parse_mapping(spec: Mapping[str, Any] | str | None, option: str) -> dict[str, str]:
    """``"a=x,b=x,*=y"``, a JSON file of such a mapping, or a dict: value -> new value.

    ``*`` maps every value not listed; without it, unlisted values are kept.
    """
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        return {str(k): str(v) for k, v in spec.items()}
    if not isinstance(spec, str):
        raise TypeError(f"csv: {option} must be 'VALUE=NEW,...', a JSON file or a dict")
    if spec.strip().endswith(".json"):
        file = Path(spec.strip()).expanduser()
        if not file.is_file():
            raise FileNotFoundError(f"csv: {option} file {str(file)!r} not found")
        data = json.loads(file.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"csv: {option} file {file} must hold a JSON object value -> new")
        return {str(k): str(v) for k, v in data.items()}
    mapping = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(
                f"csv: {option} item {item!r} is not VALUE=NEW; write e.g. "
                f"{option}='African-American=1,*=0' or give a JSON file"
            )
        mapping[key.strip()] = value.strip()
    return mapping


def _map_values(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    if not mapping:
        return values
    default = mapping.get("*")
    return values.map(lambda v: mapping.get(v, v if default is None else default))


def _check_column(frame: pd.DataFrame, column: str | None, option: str, file: Path) -> str:
    """`column`; an error with the file's columns when it is not given or absent."""
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
    return column


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
        stripped = frame[col].str.strip()
        values = stripped.where(stripped != "", np.nan)  # an empty cell is a missing label
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


def _target_ids(values: pd.Series, column: str, positive: Any) -> tuple[np.ndarray, list[str]]:
    """Class ids; with `positive`, that value is class 1 and every other value class 0."""
    if positive is None:
        return _ids(values, "target", column)
    positive = str(positive)
    names = sorted(values.unique(), key=_sort_key)
    if positive not in names:
        raise ValueError(
            f"csv: positive={positive!r} is not a value of target column {column!r}; "
            f"values: {names[:10]}"
        )
    others = [str(n) for n in names if n != positive]
    if not others:
        raise ValueError(f"csv: target column {column!r} holds only {positive!r}")
    negative = others[0] if len(others) == 1 else f"not {positive}"
    return (values == positive).to_numpy(np.int64), [negative, positive]


def _check_groups(values: pd.Series, column: str, max_groups: int) -> None:
    levels = values.nunique()
    if levels > max_groups:
        raise ValueError(
            f"csv: sensitive column {column!r} has {levels} distinct values, more than "
            f"max_groups={max_groups}; a continuous column is not a group label: bin it "
            "(sensitive_map=FILE.json mapping each value to its band) or raise max_groups"
        )


def _warn_proxies(frame: pd.DataFrame, columns: list[str], z: pd.Series, sensitive: str) -> None:
    for col, accuracy in proxy_columns(frame, columns, z):
        warnings.warn(
            f"csv: feature column {col!r} predicts sensitive column {sensitive!r} on its own "
            f"(accuracy {accuracy:.3f}): the model can use the attribute through it; drop it "
            f"(drop={col!r}) unless that is intended",
            ProxyWarning,
            stacklevel=4,
        )


def _sort_key(value: str) -> tuple[int, float | str]:
    """Numbers in numeric order, then strings."""
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


def load_csv(
    root: str | None = None,
    *,
    path: str | pd.DataFrame | None = None,
    target: str | None = None,
    sensitive: str | None = None,
    domain: str | None = None,
    drop: Sequence[str] | str | None = None,
    categorical: Sequence[str] | str | None = None,
    include_sensitive: bool = False,
    missing: str = "error",
    max_categories: int = 100,
    sep: str = ",",
    positive: str | None = None,
    sensitive_map: Mapping[str, str] | str | None = None,
    max_groups: int = 20,
    encoding: str = "utf-8",
) -> MultiDomainDataset:
    """Load a CSV file as a `MultiDomainDataset`.

    Parameters
    ----------
    root
        Folder that a relative `path` is read from.
    path
        The CSV file (header row required), or a pandas DataFrame (from Python).
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
    positive
        The target value that is the positive class (1); every other value is class 0. None:
        classes in sorted order.
    sensitive_map
        Merge or rename sensitive groups: ``"African-American=1,*=0"`` (``*``: every other
        value; without it unlisted values stay), a JSON file of that mapping, or a dict.
    max_groups
        Refuse a sensitive column with more distinct values (a continuous column: bin it).
    encoding
        Text encoding of the file (e.g. ``latin-1``).
    """
    if missing not in ("error", "drop"):
        raise ValueError(f"csv: missing must be 'error' or 'drop', got {missing!r}")
    frame, file = _read(path, root, sep, encoding)
    target = _check_column(frame, target, "target", file)
    sensitive = _check_column(frame, sensitive, "sensitive", file)
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
            worst = holes.sum().idxmax()
            rows = np.flatnonzero(holes[worst].to_numpy())[:5].tolist()
            raise ValueError(
                f"csv: column {worst!r} has {int(holes[worst].sum())} missing value(s) "
                f"(first rows {rows}); fill them, drop the column "
                f"(drop={worst!r}) or pass missing='drop'"
            )
        frame = frame[~holes.any(axis=1).to_numpy()].reset_index(drop=True)

    y, class_names = _target_ids(frame[target], target, positive)
    group_mapping = parse_mapping(sensitive_map, "sensitive_map")
    groups = _map_values(frame[sensitive], group_mapping)
    _check_groups(groups, sensitive, max_groups)
    z, group_names = _ids(groups, "sensitive", sensitive)
    spec = fit_encoding(frame, columns, forced, max_categories)
    if not include_sensitive:
        _warn_proxies(frame, columns, groups, sensitive)
    x = torch.from_numpy(encode(frame, spec, "csv"))
    numeric = [c["name"] for c in spec["columns"] if c["kind"] == "numeric"]
    feature_names = spec["feature_names"]
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
        standardize=[feature_names.index(c) for c in numeric],
        feature_names=list(feature_names),
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
            "positive": None if positive is None else class_names[1],
            "note": "columns not named target/sensitive/domain/drop are features",
        },
        preprocessing={
            **spec,
            "target": target,
            "sensitive": sensitive,
            "domain": domain,
            "class_names": class_names,
            "group_names": group_names,
            "sensitive_map": group_mapping,  # new rows' groups (post-processing models)
            "include_sensitive": include_sensitive,
        },
    )
