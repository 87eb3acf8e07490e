"""Tables, averages and checks of the FDDG reproductions (rows from `fddg_protocol.run_plan`).

A row is one (method, target, seed) with the held-out domain's ``dp_ratio``, ``fairness_auc``
and ``accuracy`` (NaN when undefined or failed); cells are "DP / AUC / accuracy %", mean ±
sample std over seeds; averages are means over targets of the per-target means.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fairdg.records import write_atomically
from fairdg.reproductions import protocol
from fairdg.reproductions.fddg_paper import BASELINES, ROW_OF

LABELS = {
    **ROW_OF,
    "fddg-no-sf": "FDDG w/o sf",
    "fddg-no-t": "FDDG w/o T",
    "fddg-no-fc": "FDDG w/o fc",
    "fddg": "FDDG",
    "fddg:max": "FDDG, separate gaps (ours)",
    "fddg:paper-t": "FDDG, paper-only T objective",
}
CELL = ("dp_ratio", "fairness_auc", "accuracy")


def _fmt(metric: str, mean: float, std: float | None) -> str:
    scale, digits = (100.0, 2) if metric == "accuracy" else (1.0, 2)
    if math.isnan(mean):
        return "nan"
    text = f"{scale * mean:.{digits}f}"
    return text if std is None else f"{text} ± {scale * std:.{digits}f}"


def results_table(
    rows: list[dict[str, Any]],
    methods: Sequence[str],
    targets: Sequence[str],
    dependence: dict[str, float],
    paper: dict[str, list[str]] | None = None,
    interleave: bool = False,
    label_suffix: str = "",
) -> str:
    """Markdown table (`protocol.results_table`): rows methods (ours), columns targets (with
    their dependence score) and the average, cells "DP / AUC / accuracy"; the paper's rows
    underneath, or (``interleave``) each right under our row of the same method."""
    columns = {t: f"{t} ({dependence.get(t, math.nan):.2f})" for t in targets}
    labels = {m: LABELS.get(m, m) + label_suffix for m in methods}
    if not interleave:
        return protocol.results_table(rows, methods, columns, CELL, _fmt, labels, paper)
    table = protocol.results_table(rows, methods, columns, CELL, _fmt, labels).splitlines()
    paper = dict(paper or {})
    lines = table[:2]
    for method, line in zip(methods, table[2:], strict=True):
        lines.append(line)
        label = LABELS.get(method, method)
        if label in paper:
            lines.append(f"| *paper: {label}* | " + " | ".join(paper.pop(label)) + " |")
    lines += [
        f"| *paper: {label}* | " + " | ".join(cells) + " |" for label, cells in paper.items()
    ]
    return "\n".join(lines)


def averages(rows: list[dict[str, Any]], method: str) -> dict[str, float]:
    """Mean over targets of the per-target mean of each cell metric."""
    out = {}
    for metric in CELL:
        per_target: dict[str, list[float]] = {}
        for r in rows:
            if r["method"] == method and not math.isnan(protocol.number(r[metric])):
                per_target.setdefault(r["target"], []).append(r[metric])
        out[metric] = (
            statistics.fmean(statistics.fmean(v) for v in per_target.values())
            if per_target
            else math.nan
        )
    return out


def checks(rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets on the averages over held-out domains: each FDDG row against ERM
    (DP ratio +0.10, AUC closer to 0.5, accuracy within 3 points), each ablation against FDDG."""
    avg = {m: averages(rows, m) for m in {r["method"] for r in rows}}
    out: list[str] = []
    if "erm" not in avg:
        return out
    e = avg["erm"]
    for method in ("fddg", "fddg:max"):
        if method not in avg:
            continue
        f, name = avg[method], LABELS[method]
        out += [
            f"- {name}: DP ratio {f['dp_ratio']:.3f} vs ERM {e['dp_ratio']:.3f} (difference "
            f"{f['dp_ratio'] - e['dp_ratio']:+.3f}; target >= +0.10); fairness AUC distance to "
            f"0.5 {abs(f['fairness_auc'] - 0.5):.3f} vs ERM {abs(e['fairness_auc'] - 0.5):.3f} "
            f"(target: closer); accuracy {100 * f['accuracy']:.2f} vs ERM "
            f"{100 * e['accuracy']:.2f} (difference {100 * (f['accuracy'] - e['accuracy']):+.2f}"
            " points; target within 3)"
        ]
    if "fddg" not in avg:
        return out
    f = avg["fddg"]
    for method in ("fddg-no-sf", "fddg-no-t", "fddg-no-fc"):
        if method in avg:
            a = avg[method]
            worse = [
                name
                for name, bad in (
                    ("DP", a["dp_ratio"] < f["dp_ratio"]),
                    ("AUC", abs(a["fairness_auc"] - 0.5) > abs(f["fairness_auc"] - 0.5)),
                )
                if bad
            ]
            out.append(
                f"- {LABELS[method]}: DP {a['dp_ratio']:.3f}, AUC {a['fairness_auc']:.3f}, "
                f"accuracy {100 * a['accuracy']:.2f}; worse than FDDG on: "
                f"{', '.join(worse) or 'neither fairness metric'}"
            )
    return out


def table6_checks(rows: list[dict[str, Any]]) -> list[str]:
    """The Table 6 targets: FDDG's average accuracy >= ERM's + 10 points; FDDG's average DP
    ratio above every baseline's except at most two; fairness AUC closer to 0.5 than ERM's.
    Lists the rows where the paper's ordering does not hold, and the failed runs."""
    partial = sum(len(r.get("failed_configs", ())) for r in rows)
    failed = [r for r in rows if r.get("error")]
    out = [
        f"- failed runs: {len(failed)}"
        + (f" (and {partial} failed configurations of selected rows)" if partial else "")
    ] + [
        f"  - {r['method']} / {r['target']} / seed {r['seed']}: {r['error'][:200]}" for r in failed
    ]
    avg = {m: averages(rows, m) for m in {r["method"] for r in rows}}
    if "fddg" not in avg or "erm" not in avg:
        return out
    f, e = avg["fddg"], avg["erm"]
    gain = 100 * (f["accuracy"] - e["accuracy"])
    out.append(
        f"- FDDG accuracy {100 * f['accuracy']:.2f} vs ERM {100 * e['accuracy']:.2f} "
        f"({gain:+.2f} points; target >= +10: {'met' if gain >= 10 else 'missed'})"
    )
    above = [
        f"{LABELS.get(m, m)} ({a['dp_ratio']:.3f}, {a['dp_ratio'] - f['dp_ratio']:+.3f})"
        for m, a in sorted(avg.items())
        if m in BASELINES and a["dp_ratio"] >= f["dp_ratio"]
    ]
    undefined = [
        LABELS.get(m, m)
        for m, a in sorted(avg.items())
        if m in BASELINES and a["dp_ratio"] != a["dp_ratio"]
    ]
    out.append(
        f"- FDDG DP ratio {f['dp_ratio']:.3f}; baselines at or above it: "
        f"{', '.join(above) or 'none'} (target: at most two: "
        f"{'met' if len(above) <= 2 else 'missed'})"
        + (
            f"; DP ratio undefined (one predicted class): {', '.join(undefined)}"
            if undefined
            else ""
        )
    )
    closer = abs(f["fairness_auc"] - 0.5) < abs(e["fairness_auc"] - 0.5)
    out.append(
        f"- FDDG fairness AUC {f['fairness_auc']:.3f} vs ERM {e['fairness_auc']:.3f} "
        f"(target: closer to 0.5: {'met' if closer else 'missed'})"
    )
    return out


def plot_dp_vs_dependence(
    rows: list[dict[str, Any]],
    dependence: dict[str, float],
    path: str | Path,
    methods: Sequence[str] = ("erm", "fddg"),
    title: str = "",
) -> Path:
    """Per-target DP ratio against the target's dependence score (mean and std over trials)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.6), dpi=150)
    ax.plot([0, 1], [0, 1], color="0.7", lw=1, ls="--", label="DP of the true labels")
    for i, method in enumerate(methods):
        xs, ys, es = [], [], []
        for target, score in dependence.items():
            mean, std = protocol.mean_and_std(
                [r["dp_ratio"] for r in rows if r["method"] == method and r["target"] == target]
            )
            if not math.isnan(mean):
                xs.append(score)
                ys.append(mean)
                es.append(std)
        offset = (i - (len(methods) - 1) / 2) * 0.01  # keep error bars apart
        ax.errorbar(
            [x + offset for x in xs],
            ys,
            yerr=es,
            fmt="o",
            capsize=3,
            label=LABELS.get(method, method),
        )
        if i == 0:  # name each target once
            for target, x, y in zip(dependence, xs, ys, strict=False):
                ax.annotate(
                    target, (x, y), textcoords="offset points", xytext=(6, -10), fontsize=7
                )
    ax.set_xlabel("dependence score of the target domain")
    ax.set_ylabel("DP ratio on the target domain")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    write_atomically(path, fig.savefig)
    plt.close(fig)
    return Path(path)
