"""The FDDG reproductions' rows: each (target, method, trial) read at the evaluation a selection
rule picks, and never at a degenerate one.

Rules (the spec's ``selection``):

``paper``           the default: our reading of the paper's appendix C.6-C.7,
                    `fairdg.reporting.paper_selection` (leave-one-training-domain-out accuracy
                    among non-degenerate evaluations, the folds' DP ratio recorded beside it);
                    the plan adds the leave-one-domain-out pair runs and their T models.
``fair-threshold``  ours, the former default: the highest validation accuracy of the sources
                    among evaluations whose validation DP ratio is at least 0.8
                    (`fairdg.reporting.selection` rule ``fair``). Not the paper's: the paper
                    gives no threshold.
``training``        training-domain validation accuracy (DomainBed).
``lodo``            leave-one-domain-out accuracy (DomainBed; pair runs added), without the
                    fold checks of ``paper``.
``oracle``          the held-out domain's validation accuracy at the last step: a reference,
                    not a result.
``last``            the last evaluation of the default configuration (no selection).

Degenerate evaluations are never selected, whatever the rule: before any rule runs, the
evaluations whose ``val`` predictions (and, for ``oracle``, ``oracle`` predictions) are flagged
degenerate are removed. A row whose rule finds nothing falls back to ``training`` among the
remaining evaluations (column ``selected_by``); a row with no non-degenerate evaluation at all
has no metrics and says so (``degenerate``), as does a ``last`` row whose last evaluation is
degenerate. Each row records the held-out domain's positive rate and whether its test
predictions are degenerate (``test_degenerate``), so that tables can flag them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from fairdg.reporting.paper_selection import FOLD_COLUMNS, flagged, select_paper
from fairdg.reporting.selection import select
from fairdg.reproductions.protocol import Results, number

SELECTIONS = ("paper", "fair-threshold", "training", "lodo", "oracle", "last")
# the rules of `fairdg.reporting.selection` by the spec's names
_REPORTING = {"fair-threshold": "fair", "training": "training", "lodo": "lodo", "oracle": "oracle"}
CELL = ("dp_ratio", "fairness_auc", "accuracy")
NOTHING = "every evaluation of its runs is degenerate on validation: none selected"


DAGGER = "†"
DAGGER_NOTE = (
    f"{DAGGER}: at least one trial of the cell is degenerate (its held-out predictions have a "
    "positive rate outside [0.02, 0.98], or no evaluation of its runs was non-degenerate on "
    "validation); such rows are listed below the table."
)


def degenerate_row(row: dict[str, Any]) -> bool:
    """Whether a row is degenerate: nothing selectable (``degenerate``), or its selected
    evaluation's held-out predictions are (``test_degenerate``)."""
    return bool(row.get("degenerate") or row.get("test_degenerate"))


def degenerate_lines(
    rows: list[dict[str, Any]], labels: dict[str, str] | None = None
) -> list[str]:
    """One line per degenerate row (`degenerate_row`; methods named by `labels`), or a line
    saying there is none."""
    labels = labels or {}
    found = [r for r in rows if degenerate_row(r)]
    if not found:
        return ["- degenerate rows: none"]
    out = [f"- degenerate rows: {len(found)}"]
    for r in found:
        why = r.get("degenerate") or f"held-out positive rate {number(r.get('positive_rate')):.3f}"
        out.append(f"  - {labels.get(r['method'], r['method'])} / {r['target']} / seed "
                   f"{r['seed']}: {why}")  # fmt: skip
    return out


def failed_lines(rows: list[dict[str, Any]]) -> list[str]:
    """How many rows have no result because their runs failed, one line per row."""
    partial = sum(len(r.get("failed_configs", ())) for r in rows)
    failed = [r for r in rows if r.get("error")]
    more = f" (and {partial} failed configurations of selected rows)" if partial else ""
    out = [f"- failed runs: {len(failed)}{more}"]
    out += [
        f"  - {r['method']} / {r['target']} / seed {r['seed']}: {r['error'][:200]}" for r in failed
    ]
    return out


def uses_lodo(selection: str) -> bool:
    """Whether rule `selection` needs the leave-one-domain-out pair runs."""
    return selection in ("paper", "lodo")


def eligible(evals: pd.DataFrame, rule: str) -> pd.DataFrame:
    """`evals` without the selectable evaluations (one domain held out, or none) whose
    validation predictions are degenerate; pair runs stay (they are folds, not candidates)."""
    if evals.empty:
        return evals
    candidate = evals["n_test"] <= 1
    bad = flagged(evals, "val") | (flagged(evals, "oracle") if rule == "oracle" else False)
    return evals[~(candidate & bad)]


def pick(evals: pd.DataFrame, rule: str) -> pd.DataFrame:
    """One evaluation per (experiment, algorithm, target, trial) by `rule`, degenerate
    evaluations excluded (module docstring)."""
    kept = eligible(evals, rule)
    if kept.empty:
        return kept
    return select_paper(kept) if rule == "paper" else select(kept, _REPORTING[rule])


def rows_of(results: Results, spec) -> list[dict[str, Any]]:
    """One row per (target, method, trial): the held-out domain's metrics at the evaluation
    the spec's selection rule picks, or why there are none (``error``, ``degenerate``)."""
    notes, rows = results.plan.notes, []
    for target in notes["targets"]:
        for method in notes["methods"]:
            for seed in range(spec.seeds_of(method)):
                keys = [(target, method, seed, h) for h in range(spec.candidates())]
                errors = [e for e in map(results.error, keys) if e is not None]
                row: dict[str, Any] = {"method": method, "target": target, "seed": seed}
                row.update({m: math.nan for m in CELL})
                if spec.selection == "last" and not errors:
                    _last(row, results, keys[0])
                if errors and (spec.selection == "last" or len(errors) == len(keys)):
                    row["error"] = errors[0]
                elif errors:  # the rule selects among the configurations that completed
                    row["failed_configs"] = errors
                rows.append(row)
    return rows if spec.selection == "last" else _selected(results, rows, spec.selection)


def _last(row: dict[str, Any], results: Results, key) -> None:
    last = results.last(key)
    test = last["metrics"]["test"]
    row.update(stats=last["stats"], run_dir=str(results.folder(key)), selected_by="last")
    if last["metrics"].get("val", {}).get("degenerate"):
        row["degenerate"] = "last evaluation: " + str(last["metrics"]["val"]["degenerate"])
        return
    row.update({m: number(test.get(m)) for m in CELL})
    row.update(positive_rate=number(test.get("positive_rate")))
    row["test_degenerate"] = bool(test.get("degenerate"))


def _selected(results: Results, rows: list[dict], rule: str) -> list[dict[str, Any]]:
    """Fill the rows' metrics by the selection rule over each method's runs of this plan."""
    evals = results.evaluations
    for method in {r["method"] for r in rows}:
        ids = {c.run_id() for k, c in results.plan.runs.items() if k[1] == method}
        mine = evals[evals["run_id"].isin(ids)] if len(evals) else evals
        chosen: dict[tuple[Any, int], tuple[str, Any]] = {}
        for name in dict.fromkeys(("training", rule)):  # the rule, where it finds something
            for _, found in pick(mine, name).iterrows():
                chosen[(found["target"], int(found["trial"]))] = (name, found)
        done = _completed(mine)
        for row in rows:
            if row["method"] != method or "error" in row:
                continue
            picked = chosen.get((row["target"], row["seed"]))
            if picked is None:
                where = (row["target"], row["seed"])
                row["degenerate" if where in done else "error"] = (
                    NOTHING if where in done else "no complete run to select from"
                )
                continue
            name, found = picked
            row.update({m: number(found.get(f"test.{m}")) for m in CELL})
            row.update(positive_rate=number(found.get("test.positive_rate")))
            row["test_degenerate"] = bool(number(found.get("test.degenerate")) > 0)
            row.update(selected_by=name, hparams_seed=int(found["hparams_seed"]))
            row.update(step=int(found["step"]), run_id=found["run_id"])
            if name == "paper":
                row.update({c: _plain(found.get(c)) for c in FOLD_COLUMNS})
    return rows


def _completed(evals: pd.DataFrame) -> set[tuple[str, int]]:
    """(target, trial) of the complete runs holding out one domain (their evaluations exist)."""
    if evals.empty:
        return set()
    main = evals[(evals["status"] == "done") & (evals["n_test"] == 1)]
    return {(t, int(s)) for t, s in zip(main["target"], main["trial"], strict=True)}


def _plain(value: Any) -> Any:
    """A JSON-friendly value (numpy and pandas scalars to Python, missing to None)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    value = float(value)
    return None if math.isnan(value) else value
