"""Collect run folders into pandas DataFrames (no torch: works on copied records anywhere).

A run folder is any folder holding ``config.json`` (or only ``failed.json``, for a run that
crashed before training started). Its ``results.jsonl`` gives one evaluation per line,
``done.json`` marks it complete. Corrupt or partial files are reported in
`Collection.problems` and skipped; they never stop a report.

Columns of `Collection.evaluations()` (one row per evaluation of a run):

- identity: ``run_id``, ``experiment`` (dataset and its options), ``dataset``, ``algorithm``
  (the variant: ``erm+fair_lambda`` for a run with ``fair_lambda`` > 0, see
  `records.variant_name`),
  ``candidate`` (the hyperparameter configuration: seed, overrides, steps), ``hparams_seed``,
  ``trial`` (the run's seed), ``test_domains`` (tuple), ``target`` (``"a"``, ``"a+b"`` or
  ``"iid"`` when nothing is held out), ``n_test``, ``n_domains``, ``status``,
  ``fair_tolerance`` (the run's fairness constraint, NaN for none) and ``fair_metric``
  (``dp``, ``eo`` or ``eopp``), ``step``, ``wall_seconds``;
- ``"<set>.<metric>"`` for every evaluation set (``val``, ``test``, ``oracle``,
  ``"<domain>/val"``, ``"<domain>/test"``) and metric, and ``"stats.<name>"`` for the update
  statistics (loss terms) of the evaluation step;
- ``"<set>.degenerate"``: 1.0 when the set's predictions are degenerate (a constant predictor,
  `fairdg.metrics.degenerate`), else 0.0. Records written before the flag existed are judged
  from their per-group selection rates and counts with the default bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from fairdg import records
from fairdg.metrics.degenerate import degenerate_reason
from fairdg.records import canonical_json, variant_name

IID = "iid"
_REQUIRED = ("dataset", "algorithm", "seed", "hparams_seed", "test_domains")
_CANDIDATE_FIELDS = ("hparams", "hparams_seed", "steps", "eval_every", "transformation")


@dataclass
class RunRecords:
    """Everything recorded about one run."""

    run_dir: Path
    run_id: str
    config: dict[str, Any]
    status: str  # "done", "failed" or "partial"
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None


def experiment_name(dataset: str, data_options: dict[str, Any] | None) -> str:
    """``"adult"`` or ``"adult[domain=age]"``: a dataset with its loader options."""
    if not data_options:
        return dataset
    options = ",".join(f"{k}={v}" for k, v in sorted(data_options.items()))
    return f"{dataset}[{options}]"


def _read_json(path: Path, problems: list[str]) -> Any:
    try:
        return records.read_json(path)
    except (OSError, ValueError) as err:
        problems.append(f"{path}: unreadable ({type(err).__name__}: {err}), skipped")
        return None


def read_run(run_dir: Path, problems: list[str]) -> RunRecords | None:
    """Read one run folder; None (with a problem noted) when it cannot be used."""
    failure = None
    if (run_dir / "failed.json").exists():
        failure = _read_json(run_dir / "failed.json", problems)
    config = None
    if (run_dir / "config.json").exists():
        config = _read_json(run_dir / "config.json", problems)
    elif isinstance(failure, dict):
        config = failure.get("config")
    if not isinstance(config, dict) or any(k not in config for k in _REQUIRED):
        if config is not None:
            problems.append(f"{run_dir}: config is not a fairdg run config, skipped")
        return None
    run_id = str(config.get("run_id") or (failure or {}).get("run_id") or run_dir.name)
    summary = None
    if (run_dir / "done.json").exists():
        summary = _read_json(run_dir / "done.json", problems)
    history: list[dict[str, Any]] = []
    if (run_dir / "results.jsonl").exists():
        lines, line_problems = records.load_jsonl(run_dir / "results.jsonl")
        problems.extend(line_problems)
        for number, line in enumerate(lines, 1):
            if isinstance(line.get("step"), int) and isinstance(line.get("metrics"), dict):
                history.append(line)
            else:
                problems.append(
                    f"{run_dir / 'results.jsonl'}: record {number} has no step or metrics, skipped"
                )
    if isinstance(summary, dict):
        status = "done"
        if not history:
            problems.append(f"{run_dir}: done.json but no evaluations in results.jsonl")
    else:
        status = "failed" if failure is not None else "partial"
    return RunRecords(
        run_dir,
        run_id,
        config,
        status,
        history,
        summary if isinstance(summary, dict) else None,
        failure if isinstance(failure, dict) else None,
    )


def degenerate_flag(metrics: dict[str, Any]) -> float:
    """1.0 when a set's recorded predictions are degenerate, 0.0 when not, NaN when the record
    cannot tell (multi-class records of earlier versions)."""
    if metrics.get("degenerate"):
        return 1.0
    if "positive_rate" in metrics:
        return 0.0
    rate = positive_rate(metrics)
    if math.isnan(rate):
        return math.nan
    return 1.0 if degenerate_reason([], positive_rate=rate) else 0.0


def positive_rate(metrics: dict[str, Any]) -> float:
    """A set's positive rate: recorded, or (records of earlier versions) the count-weighted
    mean of its per-group selection rates; NaN when neither is there."""
    if "positive_rate" in metrics:
        return _number(metrics["positive_rate"])
    counts = {k[6:]: _number(v) for k, v in metrics.items() if k.startswith("count/")}
    rates = {g: _number(metrics.get(f"selection_rate/{g}")) for g in counts}
    n = sum(counts.values())
    if not counts or n <= 0 or any(math.isnan(r) for r in rates.values()):
        return math.nan
    return sum(counts[g] * rates[g] for g in counts) / n


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


def _run_columns(run: RunRecords) -> dict[str, Any]:
    config = run.config
    held = tuple(config.get("test_domains") or ())
    domains = {key.rpartition("/")[0] for h in run.history for key in h["metrics"] if "/" in key}
    hparams = (run.summary or {}).get("hparams") or config.get("hparams") or {}
    tolerance = _number(hparams.get("fair_tolerance"))
    return {
        "run_id": run.run_id,
        "experiment": experiment_name(config["dataset"], config.get("data_options")),
        "dataset": config["dataset"],
        "algorithm": variant_name(config["algorithm"], hparams),
        "candidate": canonical_json({k: config.get(k) for k in _CANDIDATE_FIELDS}),
        "hparams_seed": int(config["hparams_seed"]),
        "trial": int(config["seed"]),
        "test_domains": held,
        "target": "+".join(held) if held else IID,
        "n_test": len(held),
        "n_domains": len(domains),
        "status": run.status,
        "fair_tolerance": tolerance if tolerance > 0 else math.nan,
        "fair_metric": str(hparams.get("fair_metric") or "dp"),
    }


@dataclass
class Collection:
    """The runs found under a folder and the problems met while reading them."""

    root: Path
    runs: list[RunRecords]
    problems: list[str]

    def evaluations(self) -> pd.DataFrame:
        """One row per recorded evaluation of every run (see the module docstring)."""
        rows = []
        for run in self.runs:
            base = _run_columns(run)
            for record in run.history:
                row = {
                    **base,
                    "step": record["step"],
                    "wall_seconds": _number(record.get("wall_seconds")),
                }
                for set_name, metrics in record["metrics"].items():
                    if isinstance(metrics, dict):
                        for metric, value in metrics.items():
                            if not isinstance(value, dict):  # "undefined": reasons, not values
                                row[f"{set_name}.{metric}"] = _number(value)
                        row[f"{set_name}.degenerate"] = degenerate_flag(metrics)
                        if "positive_rate" not in metrics:  # earlier records: from the groups
                            row[f"{set_name}.positive_rate"] = positive_rate(metrics)
                for name, value in (record.get("stats") or {}).items():
                    row[f"stats.{name}"] = _number(value)
                rows.append(row)
        frame = pd.DataFrame.from_records(rows)
        if frame.empty:
            return pd.DataFrame(columns=[*_run_columns_names(), "step", "wall_seconds"])
        return frame.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)

    def runs_frame(self) -> pd.DataFrame:
        """One row per run: identity, status, number of evaluations, error of a failed run."""
        rows = []
        for run in self.runs:
            rows.append(
                {
                    **_run_columns(run),
                    "n_evals": len(run.history),
                    "last_step": max((h["step"] for h in run.history), default=None),
                    "error": (run.failure or {}).get("error"),
                    "run_dir": str(run.run_dir),
                }
            )
        return pd.DataFrame.from_records(
            rows, columns=[*_run_columns_names(), "n_evals", "last_step", "error", "run_dir"]
        )


def _run_columns_names() -> list[str]:
    return [
        "run_id",
        "experiment",
        "dataset",
        "algorithm",
        "candidate",
        "hparams_seed",
        "trial",
        "test_domains",
        "target",
        "n_test",
        "n_domains",
        "status",
        "fair_tolerance",
        "fair_metric",
    ]


def collect(root: str | Path) -> Collection:
    """Find and read every run folder under `root` (recursively).

    Raises
    ------
    FileNotFoundError
        When `root` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no folder of runs at {root}")
    found = {p.parent for name in ("config.json", "failed.json") for p in root.rglob(name)}
    # a --force rerun in progress trains in a hidden .<run id>.force/ folder: not a run yet
    folders = sorted(f for f in found if not f.relative_to(root).name.startswith("."))
    problems: list[str] = []
    runs = [run for folder in folders if (run := read_run(folder, problems)) is not None]
    seen: dict[str, Path] = {}
    unique = []
    for run in runs:  # a copied folder must not count twice
        if run.run_id in seen:
            problems.append(
                f"{run.run_dir}: duplicate of run {run.run_id} in {seen[run.run_id]}, skipped"
            )
            continue
        seen[run.run_id] = run.run_dir
        unique.append(run)
    return Collection(root, unique, problems)


def describe_problems(problems: list[str], limit: int = 10) -> str:
    """A short text listing of problems (the first `limit`, then a count)."""
    lines = problems[:limit]
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more")
    return "\n".join(lines)


__all__ = [
    "IID",
    "Collection",
    "RunRecords",
    "collect",
    "degenerate_flag",
    "describe_problems",
    "experiment_name",
    "positive_rate",
    "read_run",
]
