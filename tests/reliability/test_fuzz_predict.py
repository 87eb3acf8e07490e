"""Fuzzing ``fairdg predict``: generated CSV files (missing cells, duplicate or missing columns,
odd numbers and types, encodings, formula-injection strings) against a trained csv run.

For each file the outcome is checked against an independent reading of the same bytes (Python's
``csv`` module): exit code 0 exactly when the policy accepts the file, then one prediction per
accepted row and none for a refused one, every score a probability and no cell that a
spreadsheet would run as a formula; otherwise exit code 2 with one line. Never a traceback.
Examples are derandomized (CI is reproducible) and not shrunk (bounded time); 200 files.
"""

from __future__ import annotations

import csv
import io
import math
import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from run_helpers import cli, fuzz_settings

FEATURES = {"age": "number", "income": "number", "job": "category"}
MISSING = {"", "NA", "NaN", "nan", "?"}  # fairdg's missing-value spellings
INJECTION = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@A1", "\tx", "=1"]
ODD = ["", "NA", "?", "nan", "NaN", "inf", "-inf", "1e400", " 7", "abc", "é", "ü", "1,5", '"']


def _rarely(common, rare, one_in: int):
    """`rare` about once in `one_in` draws, else `common`: most files should get through
    (hypothesis leans to the first of sampled values, so that one is the common case)."""
    return st.sampled_from([False] * (one_in - 1) + [True]).flatmap(
        lambda is_rare: rare if is_rare else common
    )


NUMBERS = _rarely(
    st.one_of(
        st.integers(-5, 90).map(str),
        st.floats(-100, 200, allow_nan=False).map(lambda v: f"{v:.4g}"),
    ),
    st.sampled_from(ODD + INJECTION),
    one_in=25,
)
CATEGORIES = _rarely(
    st.sampled_from(["clerk", "manager", "technician"]),
    st.sampled_from(["pilot", "", "nan", "?", "é", "Manager", *INJECTION]),
    one_in=6,
)
OTHER = st.one_of(NUMBERS, CATEGORIES, st.text(max_size=6).filter(lambda t: "\r" not in t))
EXTRA = ["note", "note2", "=HEAD()", "sex", "age", "job", "score"]


@st.composite
def files(draw):
    """(bytes of a CSV file, predict options)."""
    features = [f for f in FEATURES if draw(st.sampled_from([True] * 14 + [False]))]
    extra = draw(st.lists(st.sampled_from(EXTRA), max_size=3)) if draw(st.booleans()) else []
    headers = ["id", *draw(st.permutations(features + extra))]
    n_rows = draw(st.integers(0, 25))
    rows = []
    for i in range(n_rows):
        row = [f"r{i}"]
        for name in headers[1:]:
            kind = FEATURES.get(name)
            row.append(draw(NUMBERS if kind == "number" else CATEGORIES if kind else OTHER))
        rows.append(row)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([headers, *rows])
    written = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "latin-1", "utf-16"]))
    options = []
    if draw(st.booleans()):
        options += ["--encoding", draw(st.sampled_from(["utf-8", "latin-1"]))]
    if draw(st.booleans()):
        options += ["--missing", draw(st.sampled_from(["error", "drop"]))]
    if draw(st.integers(0, 4)) == 0:
        options.append("--no-escape-formulas")
    return buffer.getvalue().encode(written, errors="replace"), options


def expected(data: bytes, options: list[str]) -> list[str] | None:
    """The ids of the rows that get a prediction, or None when the file must be refused."""
    encoding = options[options.index("--encoding") + 1] if "--encoding" in options else "utf-8"
    drop = "--missing" in options and options[options.index("--missing") + 1] == "drop"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    header, *rows = list(csv.reader(io.StringIO(text), skipinitialspace=True))
    if len(set(header)) != len(header) or {"score", "prediction"} & set(header):
        return None
    if not set(FEATURES) <= set(header):
        return None
    kept = []
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        if any(cells[name] in MISSING for name in FEATURES):
            if not drop:
                return None
            continue
        for name, kind in FEATURES.items():
            if kind == "number" and not _finite(cells[name]):
                return None  # text in a number column, inf: refused whatever the policy
        kept.append(cells["id"])
    return kept


def _finite(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


FORMULA = re.compile(r"^[=+\-@\t\r]")
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


@pytest.mark.slow  # about 5 s: 200 runs of fairdg predict
@fuzz_settings(200)
@given(case=files())
def test_predict_predicts_exactly_the_rows_the_policy_accepts(table_run, case):
    data, options = case
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "new.csv").write_bytes(data)
        code, out, err = cli(table_run.predict_argv(table_run.run_dir, Path(folder), *options))
        want = expected(data, options)
        assert "Traceback" not in err and code in (0, 2), err
        if want is None:
            lines = err.strip().splitlines()
            assert code == 2 and len(lines) == 1 and lines[0].startswith("fairdg: error: "), err
            assert not (Path(folder) / "out.csv").exists()
            return
        assert code == 0, err
        assert f"wrote {len(want)} rows" in out
        written = pd.read_csv(Path(folder) / "out.csv", dtype=str, keep_default_na=False)
    assert written["id"].tolist() == want
    assert written["prediction"].isin(["0", "1"]).all()
    assert written["score"].astype(float).between(0, 1).all()
    if "--no-escape-formulas" not in options:
        cells = [*written.columns, *written.to_numpy().ravel().tolist()]
        assert not [c for c in cells if FORMULA.match(c) and not NUMBER.fullmatch(c)]
