"""Tables in the papers' layout: rows algorithms, columns target domains and their average.

Each cell holds several metrics of the selected evaluations on the target's test rows, e.g.
"DP / AUC / accuracy", each as mean +/- sample standard deviation (ddof = 1) over trials. The
average column averages, within each trial, the metric over every target of the table; trials
missing a target are left out of it. Output as markdown, LaTeX or CSV (long format: one row per
experiment, selection, algorithm, target and metric).

A table that shows a fairness metric also shows the positive rate (`shown_metrics`), and the
fairness cells of a cell whose selected evaluations include a degenerate one (a constant
predictor on the validation or the test rows, `fairdg.metrics.degenerate`) carry a dagger,
``1.00†``, explained under the table: such a model is "fair" by every gap and ratio.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from typing import cast

import pandas as pd

from fairdg.metrics.catalogue import entry, short_name
from fairdg.metrics.degenerate import DEFAULT_MIN_POSITIVE_RATE
from fairdg.reporting.collect import IID, Collection, experiment_name
from fairdg.reporting.selection import label, select

DEFAULT_METRICS = ("dp_ratio", "fairness_auc", "accuracy")
AVERAGE = "Avg"
FORMATS = ("markdown", "latex", "csv")
UNDEFINED_NOTE = (
    "–: undefined in every trial (e.g. a sensitive group smaller than min_group_size in the "
    'test rows; each run\'s records say why under "undefined").'
)
DAGGER = "†"
DEGENERATE_NOTE = (
    f"{DAGGER} constant predictor (positive rate outside [{DEFAULT_MIN_POSITIVE_RATE:g}, "
    f"{1 - DEFAULT_MIN_POSITIVE_RATE:g}] or no score spread) in at least one trial: its "
    "fairness figures describe a model that does not decide, not a fair one."
)


def shown_metrics(metrics: Sequence[str]) -> list[str]:
    """`metrics`, followed by ``positive_rate`` when one of them is a fairness measure and it
    is not already there: a fairness figure always comes with the positive rate behind it."""
    metrics = list(metrics)
    if "positive_rate" not in metrics and any(is_fairness(m) for m in metrics):
        metrics.append("positive_rate")
    return metrics


def is_fairness(metric: str) -> bool:
    """Whether `metric` is a fairness measure (catalogue), the cells a dagger can flag."""
    found = entry(metric)
    return found is not None and found.fairness


def _target_order(targets: Iterable[str], domain_order: Sequence[str]) -> list[str]:
    rank = {name: i for i, name in enumerate(domain_order)}

    def key(target: str) -> tuple:
        parts = [target] if target in rank else target.split("+")  # Adult's "age45+"
        return (target != IID, len(parts), [rank.get(p, len(rank)) for p in parts], target)

    return sorted(set(targets), key=key)


def summarize(
    selected: pd.DataFrame,
    metrics: Sequence[str] = DEFAULT_METRICS,
    domain_order: dict[str, list[str]] | None = None,
    test_set: str = "test",
) -> pd.DataFrame:
    """Mean, sample std and count over trials of each metric, per table cell.

    Returns
    -------
    pandas.DataFrame
        Columns ``experiment, selection, algorithm, target, metric, mean, std, n, degenerate``
        (how many of the trials' selected evaluations are degenerate on their validation or
        test rows); targets in domain order, then `AVERAGE`.
    """
    columns = ["experiment", "selection", "algorithm", "target", "metric", "mean", "std", "n"]
    columns.append("degenerate")
    rows = []
    for (experiment, selection), part in selected.groupby(["experiment", "selection"], sort=True):
        order = (domain_order or {}).get(str(experiment), [])
        targets = _target_order(part["target"].astype(str), order)
        domain_targets = [t for t in targets if t != IID]
        for algorithm, runs in part.groupby("algorithm", sort=True):
            for metric in metrics:
                column = f"{test_set}.{metric}"
                values = runs[column] if column in runs else pd.Series(math.nan, runs.index)
                by_trial = pd.DataFrame(
                    {
                        "target": runs["target"],
                        "trial": runs["trial"],
                        "value": values.astype(float),
                        "flag": _flags(runs, test_set),
                    }
                )
                cells: list[tuple[str, pd.Series, pd.Series]] = []
                for t in targets:
                    of_t = by_trial[by_trial["target"] == t]
                    cells.append((t, of_t["value"], of_t["flag"]))
                if domain_targets:
                    mine = by_trial[by_trial["target"].isin(domain_targets)]
                    wide = mine.pivot_table(
                        index="trial", columns="target", values="value", dropna=False
                    )
                    complete = wide.reindex(columns=domain_targets).dropna()
                    flags = mine.groupby("trial")["flag"].max().reindex(complete.index)
                    cells.append((AVERAGE, complete.mean(axis=1), flags))
                for target, vals, flags in cells:
                    flagged = int(flags[vals.notna()].sum())
                    vals = vals.dropna()
                    rows.append(
                        [
                            experiment,
                            selection,
                            algorithm,
                            target,
                            metric,
                            vals.mean(),
                            vals.std(ddof=1) if len(vals) > 1 else math.nan,
                            len(vals),
                            flagged,
                        ]
                    )
    return pd.DataFrame(rows, columns=columns)


def _flags(runs: pd.DataFrame, test_set: str) -> pd.Series:
    """1 for each selected evaluation that is degenerate on the validation or the reported
    rows, else 0."""
    flag = pd.Series(0, index=runs.index)
    for name in ("val", test_set):
        column = f"{name}.degenerate"
        if column in runs:
            flag = flag | (runs[column].fillna(0.0) > 0).astype(int)
    return flag


def format_value(
    mean: float,
    std: float,
    metric: str,
    digits: int = 2,
    pm: str = " ± ",
    degenerate: float = 0,
) -> str:
    """``"0.51 ± 0.02"`` (accuracy in percent); ``"–"`` when there is no value; a fairness
    value with `degenerate` trials carries `DAGGER` (``"1.00†"``)."""
    if mean is None or math.isnan(mean):
        return "–"
    found = entry(metric)
    scale = 100.0 if found is not None and found.percent else 1.0
    text = f"{mean * scale:.{digits}f}"
    if std is not None and not math.isnan(std):
        text += f"{pm}{std * scale:.{digits}f}"
    if degenerate and degenerate > 0 and is_fairness(metric):
        text += DAGGER
    return text


def _cell_value(stats: pd.DataFrame, metric: str, digits: int, pm: str) -> str:
    if metric not in stats.index:
        return "–"
    # the stubs type a cell as any scalar; these columns hold numbers
    mean, std = (cast(float, stats.at[metric, c]) for c in ("mean", "std"))
    flagged = cast(int, stats.at[metric, "degenerate"]) if "degenerate" in stats.columns else 0
    return format_value(mean, std, metric, digits, pm, flagged)


def _grid(
    summary: pd.DataFrame, metrics: Sequence[str], digits: int, pm: str
) -> tuple[list[str], list[list[str]]]:
    """Column names and rows of formatted cells of one (experiment, selection) table."""
    targets = list(dict.fromkeys(summary["target"]))
    rows = []
    for algorithm, part in summary.groupby("algorithm", sort=True):
        cells = [str(algorithm)]
        for target in targets:
            stats = part[part["target"] == target].set_index("metric")
            cells.append(" / ".join(_cell_value(stats, m, digits, pm) for m in metrics))
        rows.append(cells)
    return ["algorithm", *targets], rows


def _caption(summary: pd.DataFrame, metrics: Sequence[str]) -> str:
    names = " / ".join(short_name(m) for m in metrics)
    counts = summary.loc[(summary["target"] != AVERAGE) & (summary["n"] > 0), "n"]
    low, high = (int(counts.min()), int(counts.max())) if len(counts) else (0, 0)
    trials = f"{low}" if low == high else f"{low}-{high}"
    return f"{names} on the target domains' test rows; mean ± sample std over {trials} trial(s)."


def _markdown(title: str, caption: str, header: list[str], rows: list[list[str]]) -> str:
    lines = [
        f"### {title}",
        "",
        caption,
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(" --- " for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _latex_escape(text: str) -> str:
    for char, escaped in (
        ("\\", r"\textbackslash{}"),
        ("_", r"\_"),
        ("%", r"\%"),
        ("&", r"\&"),
        ("#", r"\#"),
        ("±", r"$\pm$"),
        (DAGGER, r"$^\dagger$"),
        ("–", "--"),
    ):
        text = text.replace(char, escaped)
    return text


def _latex(title: str, caption: str, header: list[str], rows: list[list[str]]) -> str:
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{_latex_escape(title)}: {_latex_escape(caption)}}}",
        r"\begin{tabular}{l" + "c" * (len(header) - 1) + "}",
        r"\hline",
        " & ".join(map(_latex_escape, header)) + r" \\",
        r"\hline",
    ]
    lines += [" & ".join(map(_latex_escape, row)) + r" \\" for row in rows]
    lines += [r"\hline", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def domain_order(collection: Collection) -> dict[str, list[str]]:
    """Each experiment's domains in dataset order, read from the runs' evaluation keys.

    A run's keys list its training domains in dataset order (then its held-out ones), so every
    run says which domains precede which; a domain's rank is its number of known predecessors.
    """
    before: dict[str, dict[str, set[str]]] = {}
    for run in collection.runs:
        if not run.history:
            continue
        experiment = experiment_name(run.config["dataset"], run.config.get("data_options"))
        held = set(run.config.get("test_domains") or ())
        keys = [k.rpartition("/")[0] for k in run.history[0]["metrics"] if "/" in k]
        train = [d for d in dict.fromkeys(keys) if d not in held]
        known = before.setdefault(experiment, {})
        for i, name in enumerate(train):
            known.setdefault(name, set()).update(train[:i])
        for name in held:
            known.setdefault(name, set())
    return {e: sorted(k, key=lambda n: (len(k[n]), n)) for e, k in before.items()}


def build_summary(
    collection: Collection,
    selections: Sequence[str] = ("training",),
    metrics: Sequence[str] = DEFAULT_METRICS,
    dp_threshold: float = 0.8,
) -> pd.DataFrame:
    """`summarize` over several selection methods."""
    if not selections:
        raise ValueError("selections: give at least one selection method, got none")
    evals = collection.evaluations()
    rates = [c for c in evals.columns if c.endswith(".positive_rate")]
    if rates and evals[rates].notna().any().any():  # records of early versions lack it
        metrics = shown_metrics(metrics)
    order = domain_order(collection)
    parts = [
        summarize(select(evals, name, dp_threshold), metrics, order).assign(
            criterion=label(name, dp_threshold)
        )
        for name in selections
    ]
    return pd.concat(parts, ignore_index=True)


def render(
    summary: pd.DataFrame,
    fmt: str = "markdown",
    metrics: Sequence[str] = DEFAULT_METRICS,
    digits: int = 2,
) -> str:
    """All tables of a summary (`build_summary`) as markdown, LaTeX or CSV text (a table
    that shows fairness shows the positive rate too, `shown_metrics`)."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    if (summary["metric"] == "positive_rate").any():  # build_summary added it
        metrics = shown_metrics(metrics)
    if fmt == "csv":
        out = summary.copy()
        flags = out["degenerate"] if "degenerate" in out else pd.Series(0, index=out.index)
        out["cell"] = [
            format_value(m, s, metric, digits, degenerate=d)
            for m, s, metric, d in zip(out["mean"], out["std"], out["metric"], flags, strict=True)
        ]
        buffer = io.StringIO()
        out.to_csv(buffer, index=False)
        return buffer.getvalue()
    blocks = []
    for (selection, experiment), part in summary.groupby(["selection", "experiment"], sort=False):
        header, rows = _grid(part, metrics, digits, " ± ")
        criterion = part["criterion"].iloc[0] if "criterion" in part else label(str(selection))
        title = f"{experiment}: {criterion}"
        caption = _caption(part, metrics)
        if any("–" in cell for row in rows for cell in row[1:]):
            caption += f" {UNDEFINED_NOTE}"
        if any(DAGGER in cell for row in rows for cell in row[1:]):
            caption += f" {DEGENERATE_NOTE}"
        blocks.append((_markdown if fmt == "markdown" else _latex)(title, caption, header, rows))
    return "\n".join(blocks)


__all__ = [
    "AVERAGE",
    "DAGGER",
    "DEFAULT_METRICS",
    "DEGENERATE_NOTE",
    "FORMATS",
    "build_summary",
    "domain_order",
    "format_value",
    "is_fairness",
    "render",
    "shown_metrics",
    "summarize",
]
