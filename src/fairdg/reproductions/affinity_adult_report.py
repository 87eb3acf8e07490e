"""Tables and the trade-off plot of the Adult reproduction (`affinity_adult`), from its records.

Cells are ours (mean ± sample std over seeds) followed by the paper's value in parentheses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairdg.records import write_atomically
from fairdg.reproductions.protocol import (
    markdown_table,
    mean,
    mean_std,
    paper_cell,
    target_line,
)

METRICS = ("accuracy", "dp_diff", "eopp_diff", "tnr_diff")

PAPER_TABLE2 = {
    "baseline": (0.85, 0.18, 0.088, 0.072),
    "affinity": (0.82, 0.065, 0.02, 0.015),
}
PAPER_TABLE3 = {  # with z, without z, affinity, affinity with z reattached
    "accuracy income": (0.85, 0.85, 0.81, 0.83),
    "parity gap": (0.16, 0.17, 0.05, 0.15),
    "equality gap": (0.069, 0.074, 0.0075, 0.1),
    "probe accuracy female": (0.46, 0.25, 0.027, 1.0),
    "probe accuracy male": (0.84, 0.86, 0.98, 1.0),
}


def collapsed(metrics: dict[str, float]) -> bool:
    """Whether a model gave every sample the same class (all selection rates 0, or all 1)."""
    rates = [v for k, v in metrics.items() if k.startswith("selection_rate/")]
    return bool(rates) and (all(r == 0 for r in rates) or all(r == 1 for r in rates))


def on_test(record: dict) -> dict[str, float]:
    """The test metrics of a final run record."""
    return record["metrics"]["test"]


def variants_report(variants) -> str:
    """The table of the loss variants we tried (empty when none were run)."""
    if not variants:
        return ""
    rows = [
        [
            name,
            f"{lam:g}",
            *(mean_std([m[k] for m in ms]) for k in METRICS),
            f"{sum(map(collapsed, ms))}/{len(ms)}",
        ]
        for (name, lam), ms in variants.items()
    ]
    table = markdown_table(
        [
            "variant of the loss",
            "lambda",
            "test accuracy",
            "parity gap",
            "equality gap",
            "equality gap (TNR)",
            "collapsed",
        ],
        rows,
    )
    return "\n## Variants of the loss that we tried\n\n" + table + "\n"


def sweep_plot(out: Path, sweep, records, s, erm_curve) -> Path:
    """Plot the accuracy-fairness trade-off of the lambda sweep, ERM's threshold curve beside."""
    from matplotlib.figure import Figure

    erm = [on_test(records[("erm", seed, None)]) for seed in s["seeds"]]
    fig = Figure(figsize=(10, 4), dpi=110)
    axes = fig.subplots(1, 2)
    for ax, metric, label in (
        (axes[0], "dp_diff", "parity gap"),
        (axes[1], "eopp_diff", "equality gap"),
    ):
        ax.plot(
            [c[1] for c in erm_curve],
            [c[2 if metric == "dp_diff" else 3] for c in erm_curve],
            ":",
            color="grey",
            label="ERM, moving the threshold (seed 0)",
        )
        accs = [mean([on_test(r)["accuracy"] for r in sweep[lam]]) for lam in s["lambdas"]]
        gaps = [mean([on_test(r)[metric] for r in sweep[lam]]) for lam in s["lambdas"]]
        ax.plot(accs, gaps, "o-", color="tab:blue", label="Affinity, lambda sweep")
        for lam, a, g in zip(s["lambdas"], accs, gaps, strict=True):
            ax.annotate(f"{lam:g}", (a, g), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.plot(
            [mean([m["accuracy"] for m in erm])],
            [mean([m[metric] for m in erm])],
            "s",
            color="tab:red",
            label="ERM (threshold 0.5)",
        )
        ax.set_xlabel("test accuracy")
        ax.set_ylabel(f"test {label}")
        ax.legend(fontsize=7, frameon=False)
    fig.suptitle("Adult: accuracy-fairness trade-off (mean over seeds)", fontsize=10)
    fig.tight_layout()
    return write_atomically(out / "lambda_sweep.png", fig.savefig)


@dataclass(frozen=True)
class AdultResults:
    """Everything the Adult report reads, by name.

    Parameters
    ----------
    settings
        The reproduction's settings (``seeds``, ``steps``, ``lambda``, ``lambdas``, ``quick``).
    records
        Final run records by ``(kind, seed, lambda)``; kinds ``erm``, ``erm+z``, ``affinity``.
    sweep
        The affinity records of each lambda, one per seed.
    val
        Mean validation metrics of each lambda.
    picked
        The lambda picked on validation.
    analyses
        Test metrics and probe results per column (``erm+z``, ``erm``, ``affinity``,
        ``reattached``), one dict per seed.
    fits
        The re-attachment fits of ``erm`` and ``affinity``, one per seed.
    figures
        Figure name -> path.
    sweep_png
        The trade-off plot of the lambda sweep.
    """

    settings: dict[str, Any]
    records: dict[tuple, dict]
    sweep: dict[float, list[dict]]
    val: dict[float, dict[str, float]]
    picked: float
    analyses: dict[str, list[dict]]
    fits: dict[str, list]
    figures: dict[str, Path]
    sweep_png: Path

    def erm_test(self) -> list[dict[str, float]]:
        """ERM's test metrics, one per seed."""
        return [on_test(self.records[("erm", seed, None)]) for seed in self.settings["seeds"]]

    def test_of(self, lam: float) -> list[dict[str, float]]:
        """The affinity test metrics of lambda `lam`, one per seed."""
        return [on_test(r) for r in self.sweep[lam]]


def report(results: AdultResults) -> str:
    """The markdown report: the header, tables 2 and 3, re-attachment, the lambda sweep,
    the figures and the targets."""
    sections = [
        header(results),
        table2(results),
        table3(results),
        reattachment_table(results),
        lambda_sweep_table(results),
        figures_section(results),
        targets_section(results),
    ]
    return "\n".join(line for section in sections for line in section) + "\n"


def header(r: AdultResults) -> list[str]:
    """The title and the settings line."""
    s = r.settings
    return [
        "# Affinity loss on UCI Adult (affinity paper, section 3.2)",
        "",
        f"{len(s['seeds'])} seed(s), {s['steps']} steps, batch 512, MLP in-128-20, loss form "
        f"`{s['form_name']}`; test split (16,281 rows); each cell ours (mean ± sample std over "
        f"seeds) followed by the paper's value in parentheses. Lambda picked on validation: "
        f"{r.picked:g}.",
        "",
    ]


def table2(r: AdultResults) -> list[str]:
    """Table 2: ERM and affinity (default and picked lambda) on the test split."""
    s = r.settings
    erm = r.erm_test()
    rows = [
        [
            "baseline (ERM)",
            *(
                paper_cell(mean_std([m[k] for m in erm]), p)
                for k, p in zip(METRICS, PAPER_TABLE2["baseline"], strict=True)
            ),
        ]
    ]
    for label, lam in (
        (f"affinity, lambda {s['lambda']:g} (default)", s["lambda"]),
        (f"affinity, lambda {r.picked:g} (picked on val)", r.picked),
    ):
        ms = r.test_of(lam)
        n_dead = sum(map(collapsed, ms))
        rows.append(
            [
                label + (f", {n_dead}/{len(ms)} seeds collapsed" if n_dead else ""),
                *(
                    paper_cell(mean_std([m[k] for m in ms]), p)
                    for k, p in zip(METRICS, PAPER_TABLE2["affinity"], strict=True)
                ),
            ]
        )
    header = ["approach", "accuracy", "parity gap", "equality gap", "equality gap (TNR)"]
    return ["## Table 2", "", markdown_table(header, rows)]


def table3(r: AdultResults) -> list[str]:
    """Table 3: baselines with and without z, affinity and z re-attached, with probes."""
    cols = ["erm+z", "erm", "affinity", "reattached"]
    keys = {
        "accuracy income": "accuracy",
        "parity gap": "dp_diff",
        "equality gap": "eopp_diff",
        "probe accuracy female": "sensitive_accuracy/female",
        "probe accuracy male": "sensitive_accuracy/male",
    }
    rows = [
        [
            label,
            *(
                paper_cell(mean_std([a.get(key) for a in r.analyses[c]]), p)
                for c, p in zip(cols, PAPER_TABLE3[label], strict=True)
            ),
        ]
        for label, key in keys.items()
    ]
    rows.append(
        [
            "probe AUC (sex)",
            *(mean_std([a.get("sensitive_auc") for a in r.analyses[c]]) for c in cols),
        ]
    )
    for label, key in (
        ("active units of the representation (of 20)", "rep_active_units"),
        ("rank of the representation", "rep_rank"),
    ):
        rows.append([label, *(mean_std([a.get(key) for a in r.analyses[c]], 1) for c in cols)])
    header = [
        "",
        "baseline with z",
        "baseline without z",
        f"affinity (lambda {r.picked:g})",
        "affinity, z reattached",
    ]
    return [
        "",
        "## Table 3",
        "",
        "Probe rows: a linear probe refitted on the frozen representation (train split) to "
        "predict sex; its test accuracy on female and male samples, and its ROC AUC (0.5 = "
        "no information; not in the paper). Active units: ReLU units nonzero on more than 1% of "
        "the test samples; rank: singular values of the centred test representations above "
        "1e-3 of the largest.",
        "",
        markdown_table(header, rows),
    ]


def reattachment_table(r: AdultResults) -> list[str]:
    """The fitted weights of equation 4 for ERM and affinity."""
    rows = [
        [
            name,
            mean_std([f.w_r for f in r.fits[key]]),
            mean_std([f.w_z["male"] for f in r.fits[key]]),
            mean_std([f.b for f in r.fits[key]]),
        ]
        for name, key in (
            ("ERM (without z)", "erm"),
            (f"affinity (lambda {r.picked:g})", "affinity"),
        )
    ]
    return [
        "",
        "## Re-attachment of z (equation 4)",
        "",
        "y_hat = sigmoid(w_r r + w_z z + b), r the standardised linear combination of the "
        "frozen representation, z = 1 for male. Paper (affinity): w_z about 4, w_r about 1.",
        "",
        markdown_table(["model", "w_r", "w_z", "b"], rows),
    ]


def lambda_sweep_table(r: AdultResults) -> list[str]:
    """Test and validation metrics of every lambda, with the collapsed seeds."""
    rows = []
    for lam in r.settings["lambdas"]:
        ms = r.test_of(lam)
        rows.append(
            [
                f"{lam:g}",
                *(mean_std([m[k] for m in ms]) for k in METRICS),
                f"{r.val[lam]['accuracy']:.3f}",
                f"{r.val[lam]['dp_diff']:.3f}",
                f"{sum(map(collapsed, ms))}/{len(ms)}",
            ]
        )
    header = [
        "lambda",
        "test accuracy",
        "parity gap",
        "equality gap",
        "equality gap (TNR)",
        "val accuracy",
        "val parity gap",
        "collapsed",
    ]
    return [
        "",
        "## Lambda sweep",
        "",
        f"Trade-off plot: `{r.sweep_png}` (with ERM's curve when only its decision threshold "
        "moves, for reference). Collapsed: seeds whose model gives every test sample the same "
        "class (the representation died: all-zero ReLU units make the affinity loss exactly 0); "
        "means and standard deviations include them.",
        "",
        markdown_table(header, rows),
    ]


def figures_section(r: AdultResults) -> list[str]:
    """The list of figures written (none: no section)."""
    if not r.figures:
        return []
    return ["", "## Figures", ""] + [f"- {k}: `{v}`" for k, v in r.figures.items()]


def targets_section(r: AdultResults) -> list[str]:
    """The full mode's targets, each met or missed."""
    picked = r.test_of(r.picked)
    lam = f"affinity (lambda {r.picked:g})"
    quick = " -- this is a quick run, not the full one" if r.settings["quick"] else ""
    return [
        "",
        "## Targets (full mode)" + quick,
        "",
        target_line(f"{lam} accuracy", mean([m["accuracy"] for m in picked]), ">=", 0.81),
        target_line(f"{lam} parity gap", mean([m["dp_diff"] for m in picked]), "<=", 0.08),
        target_line(f"{lam} equality gap", mean([m["eopp_diff"] for m in picked]), "<=", 0.03),
        target_line("ERM parity gap", mean([m["dp_diff"] for m in r.erm_test()]), ">=", 0.15),
    ]
