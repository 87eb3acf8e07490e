"""``fairdg report DIR``: tables (and plots) from the run records under DIR."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fairdg.metrics.catalogue import SUMMARY_KEYS

SELECTIONS = ("training", "lodo", "oracle", "fair")
WHY_EMPTY = {
    "training": "no complete run records a val.accuracy",
    "lodo": "it needs runs holding out each (target, source) pair: `fairdg sweep --lodo` "
    "(datasets with at least 3 domains)",
    "oracle": "it needs runs with a held-out domain (they record oracle.accuracy)",
    "fair": "no evaluation reaches the --dp-threshold on val.dp_ratio without being a "
    "constant predictor",
}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="tables and plots from the runs under a folder",
        description="Collect every run under DIR, select one evaluation per algorithm, target "
        "domain and trial with a model-selection method, and print tables: rows algorithms, "
        "columns target domains and their average, cells mean ± sample std over trials.",
    )
    p.add_argument(
        "folder", metavar="DIR", help="folder holding run folders (searched recursively)"
    )
    p.add_argument(
        "--selection",
        nargs="+",
        default=["training"],
        choices=[*SELECTIONS, "all"],
        help="model selection: training (training-domain validation, default), "
        "lodo (leave-one-domain-out; needs `sweep --lodo`), oracle (test-domain "
        "validation, reference only), fair (best val accuracy with val DP ratio >= "
        "--dp-threshold), or all",
    )
    p.add_argument(
        "--metrics",
        nargs="+",
        default=["dp_ratio", "fairness_auc", "accuracy"],
        metavar="NAME",
        help="metrics of each cell (default: dp_ratio fairness_auc "
        "accuracy, the papers' DP / AUC / accuracy)",
    )
    p.add_argument(
        "--dp-threshold",
        type=float,
        default=0.8,
        help="validation DP-ratio floor of the fair selection (default 0.8)",
    )
    p.add_argument(
        "--format",
        choices=["markdown", "latex", "csv"],
        default="markdown",
        help="format printed to stdout (default markdown)",
    )
    p.add_argument("--digits", type=int, default=2, help="decimals in cells (default 2)")
    p.add_argument(
        "--save",
        metavar="FOLDER",
        default=None,
        help="also write tables.md, tables.tex and tables.csv (and plots) there",
    )
    p.add_argument(
        "--plot",
        action="store_true",
        help="write the accuracy-fairness trade-off and learning curves as PNG "
        "(into --save, default DIR/report)",
    )
    p.add_argument(
        "--curves",
        nargs="+",
        default=[],
        metavar="RUN_ID",
        help="runs (id or unique prefix) whose learning curves --plot draws "
        "(default: the first run of each dataset and algorithm)",
    )
    p.set_defaults(func=report_command)


def _resolve_runs(prefixes: list[str], run_ids: list[str]) -> list[str]:
    resolved = []
    for prefix in prefixes:
        matches = sorted({r for r in run_ids if r.startswith(prefix)})
        if len(matches) != 1:
            what = "no run" if not matches else f"{len(matches)} runs"
            raise ValueError(
                f"--curves: {what} match {prefix!r}; give a run id from the run folders' names"
            )
        resolved.append(matches[0])
    return resolved


def degenerate_warning(summary) -> str | None:
    """One line naming the table rows whose selected evaluations include a constant predictor
    (the cells marked with a dagger), or None."""
    from fairdg.reporting.tables import AVERAGE

    if "degenerate" not in summary or summary.empty:
        return None
    cells = summary[(summary["target"] != AVERAGE) & (summary["degenerate"] > 0)]
    cells = cells.drop_duplicates(["experiment", "selection", "algorithm", "target"])
    if cells.empty:
        return None
    named = ", ".join(
        f"{algorithm} on {experiment} (targets {', '.join(sorted(set(part['target'])))})"
        for (experiment, algorithm), part in cells.groupby(["experiment", "algorithm"])
    )
    return (
        f"fairdg report: warning: {int(cells['degenerate'].sum())} selected evaluation(s) are "
        f"constant predictors (marked †; their fairness figures mean nothing): {named}"
    )


def report_command(args: argparse.Namespace) -> int:
    from fairdg.records import atomic_write_text
    from fairdg.reporting.collect import collect, describe_problems
    from fairdg.reporting.tables import build_summary, domain_order, render

    collection = collect(args.folder)
    if collection.problems:
        print(
            f"fairdg report: {len(collection.problems)} problem(s) in the records, skipped:\n"
            + describe_problems(collection.problems),
            file=sys.stderr,
        )
    runs = collection.runs_frame()
    counts = runs["status"].value_counts().to_dict() if len(runs) else {}
    print(
        f"{len(runs)} runs under {args.folder}: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("done", "failed", "partial"))
        + "\n"
    )
    if not len(runs):
        return 1
    selections = list(SELECTIONS) if "all" in args.selection else list(args.selection)
    summary = build_summary(collection, selections, args.metrics, args.dp_threshold)
    print(render(summary, args.format, args.metrics, args.digits))
    for metric in args.metrics:
        if not summary.loc[summary["metric"] == metric, "n"].any() and metric in SUMMARY_KEYS:
            print(
                f"metric {metric!r} is undefined in every selected evaluation (e.g. a sensitive "
                'group below min_group_size; each record\'s "undefined" entry says why)',
                file=sys.stderr,
            )
        elif not summary.loc[summary["metric"] == metric, "n"].any():
            print(
                f"metric {metric!r} is not recorded in the selected evaluations (keys: "
                + ", ".join(k for k in SUMMARY_KEYS if k != "loss")
                + ")",
                file=sys.stderr,
            )
    warning = degenerate_warning(summary)
    if warning:
        print(warning, file=sys.stderr)
    for name in selections:
        if not (summary["selection"] == name).any():
            print(f"no table for {name} selection: {WHY_EMPTY[name]}", file=sys.stderr)
    out = Path(args.save) if args.save else None
    if out is not None:
        for fmt, name in (
            ("markdown", "tables.md"),
            ("latex", "tables.tex"),
            ("csv", "tables.csv"),
        ):
            atomic_write_text(out / name, render(summary, fmt, args.metrics, args.digits))
        print(f"tables written to {out}/tables.{{md,tex,csv}}")
    if args.plot:
        from fairdg.reporting.plots import write_plots

        evals = collection.evaluations()
        run_ids = _resolve_runs(args.curves, list(runs["run_id"]))
        order = domain_order(collection)
        paths = write_plots(
            evals, out or Path(args.folder) / "report", run_ids, domain_order=order
        )
        print("plots (each also as .pdf): " + ", ".join(str(p) for p in paths))
    return 0
