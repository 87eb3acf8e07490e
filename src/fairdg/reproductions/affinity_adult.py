"""Reproduction of the affinity paper's UCI Adult results (section 3.2): Tables 2 and 3, the
re-attachment weights of equation (4), figures 5 (histograms of r) and a t-SNE, and a lambda
sweep of the accuracy-fairness trade-off.

Setting (paper): income > 50K, z = sex (not an input unless "with z"), MLP in-128-20 (ReLU;
the 20 units are the representation), batch 512, Adam 1e-3; split 26,049 / 6,512 / 16,281.
Every run is evaluated at its last step. Rows of Table 2: ERM, Affinity at the default lambda
0.01, and Affinity at the lambda of the sweep picked on validation data only (the smallest
validation parity gap among the lambdas whose validation accuracy is at least 0.81, the paper's
accuracy level). Table 3 uses that picked model. The loss is equation (3) as written
(``form=eq3``: anchors of the first group, women, normalised by ``|Y| |X1|``); ``form=symmetric``
is fairdg's former symmetric, per-pair averaged form (about twice as strong at the same lambda).
Cells are ours (mean ± sample std over seeds) followed by the paper's value in parentheses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fairdg.algorithms.affinity import FORMS
from fairdg.data import load_dataset
from fairdg.experiments.launchers import dataset_key
from fairdg.interpret import (
    pooled,
)
from fairdg.metrics import evaluate as evaluate_metrics
from fairdg.reporting.figures import legend_below, metric_label, new_figure, save, scaled, styled
from fairdg.reproductions.protocol import (
    BaseSpec,
    Plan,
    Results,
    markdown_table,
    mean,
    mean_std,
    option,
    paper_cell,
    probe_runs,
    quick_note,
    r_hist_png,
    target_line,
    tsne_png,
    write_results,
)
from fairdg.training.evaluate import predict_proba

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HPARAMS = {"batch_size": 512, "mlp_width": 128, "mlp_depth": 1, "rep_dim": 20, "lr": 1e-3}
METRICS = ("accuracy", "dp_diff", "eopp_diff", "tnr_diff")
ACCURACY_LEVEL = 0.81
Z: dict[str, Any] = {"include_sensitive": True}  # the data of "baseline with z"
# Variants of the loss tried (full mode, first two seeds): name: (hyperparameters, lambdas)
VARIANT_LAMBDAS = (0.1, 1.0)
SORTED_LAMBDAS = (1.0, 3.0, 10.0)  # the sliced matching is ~sqrt(rep_dim) smaller than L1
VARIANTS = {
    "default (eq. 3: class-conditional, L1, anchors of the first group, / |Y| |X1|)": (
        FORMS["eq3"], VARIANT_LAMBDAS),
    "unconditional (eq. 2)": ({"affinity_class_conditional": False}, VARIANT_LAMBDAS),
    "symmetric, averaged per pair (fairdg's former default)": (FORMS["symmetric"],
                                                               VARIANT_LAMBDAS),
    "scale-invariant (divided by the class spread)": (
        {"affinity_scale_invariant": True}, VARIANT_LAMBDAS),
    "memory bank, 64 rows per (class, group)": ({"affinity_bank": 64}, VARIANT_LAMBDAS),
    "cosine distance": ({"affinity_distance": "cosine"}, VARIANT_LAMBDAS),
    "sorted matching (ours), class-conditional": ({"affinity_matching": "sorted"},
                                                  SORTED_LAMBDAS),
    "sorted matching (ours), unconditional": (
        {"affinity_matching": "sorted", "affinity_class_conditional": False}, SORTED_LAMBDAS),
}  # fmt: skip
PAPER_TABLE2 = {"baseline": (0.85, 0.18, 0.088, 0.072), "affinity": (0.82, 0.065, 0.02, 0.015)}
PAPER_TABLE3 = {  # with z, without z, affinity, affinity with z reattached
    "accuracy income": (0.85, 0.85, 0.81, 0.83),
    "parity gap": (0.16, 0.17, 0.05, 0.15),
    "equality gap": (0.069, 0.074, 0.0075, 0.1),
    "probe accuracy female": (0.46, 0.25, 0.027, 1.0),
    "probe accuracy male": (0.84, 0.86, 0.98, 1.0),
}
KINDS = ("erm+z", "erm", "affinity", "reattached")


@dataclass(frozen=True)
class Spec(BaseSpec):
    """The options of ``affinity-adult``."""

    seeds: int = option(5, 1, "trials")
    steps: int = option(2000, 300, "training steps")
    lambdas: list[float] = option([0.01, 0.1, 1.0, 3.0, 5.0, 7.0, 10.0], [0.01, 1.0],
                                  "the lambda sweep")  # fmt: skip
    lambda_: float = option(0.01, help="the default lambda of Table 2")
    form: str = option("eq3", help="the affinity loss's form", choices=tuple(FORMS))
    figures: bool = option(True, False, "t-SNE and histograms of r")
    variants: bool = option(True, False, "the loss variants we tried (first two seeds)")

    @property
    def sweep(self) -> list[float]:
        return sorted(set(self.lambdas) | {self.lambda_})


def _run(spec: Spec, kind: str, seed: int, lam: float | None = None, extra=None):
    hparams = dict(HPARAMS)
    if lam is not None:  # the loss form explicitly: runs of another default get another run id
        hparams.update(affinity_lambda=lam, **FORMS[spec.form], **(extra or {}))
    return spec.config(
        dataset="adult", data_options=Z if kind == "erm+z" else {}, hparams=hparams,
        algorithm="erm" if lam is None else "affinity", seed=seed, steps=spec.steps,
        eval_every=spec.steps, output_dir=str(spec.out / "runs"),
    )  # fmt: skip


def plan(spec: Spec) -> Plan:
    """ERM with and without z, the lambda sweep, and the loss variants."""
    result = Plan(datasets={dataset_key("adult"): load_dataset("adult")})
    result.datasets[dataset_key("adult", Z)] = load_dataset("adult", **Z)
    for seed in range(spec.seeds):
        for kind in ("erm", "erm+z"):
            result.runs[(kind, seed, None)] = _run(spec, kind, seed)
    for lam in spec.sweep:
        for seed in range(spec.seeds):
            result.runs[("affinity", seed, lam)] = _run(spec, "affinity", seed, lam)
    for name, (changes, lambdas) in VARIANTS.items() if spec.variants else ():
        for lam in lambdas:
            for seed in range(min(2, spec.seeds)):
                result.runs[(name, seed, lam)] = _run(spec, "affinity", seed, lam, changes)
    return result


def _test(record: dict) -> dict[str, float]:
    return record["metrics"]["test"]


def collapsed(metrics: dict[str, float]) -> bool:
    """Whether a model gave every sample the same class (all selection rates 0, or all 1)."""
    rates = [v for k, v in metrics.items() if k.startswith("selection_rate/")]
    return bool(rates) and (all(r == 0 for r in rates) or all(r == 1 for r in rates))


def report(results: Results, spec: Spec) -> str:
    """Tables 2 and 3, re-attachment, the lambda sweep, figures, variants and targets."""
    seeds = range(spec.seeds)
    test = {k: _test(results.record(k)) for k in results.plan.runs}
    val = {
        lam: {m: mean([results.record(("affinity", s, lam))["metrics"]["val"][m] for s in seeds])
              for m in METRICS}
        for lam in spec.sweep
    }  # fmt: skip
    eligible = [lam for lam in spec.sweep if val[lam]["accuracy"] >= ACCURACY_LEVEL]
    picked = min(eligible, key=lambda lam: val[lam]["dp_diff"]) if eligible else spec.lambda_
    analyses, fits, kept = probe_runs(results, spec.seeds, picked)
    figures = _figures(spec, kept, picked, fits) if spec.figures else {}
    sweep_png = _sweep_plot(spec, test, _threshold_curve(kept["erm"]))
    r = AdultReport(spec, test, val, picked, analyses, fits)
    sections = [r.header(), r.table2(), r.table3(), r.reattachment(), r.lambda_sweep(sweep_png)]
    sections += [r.figures(figures), r.targets()]
    runs = [
        {"kind": k[0], "seed": k[1], "lambda": k[2], "run_id": c.run_id(), "test": test[k],
         "val": results.record(k)["metrics"]["val"]}
        for k, c in results.plan.runs.items() if k[0] in ("erm", "erm+z", "affinity")
    ]  # fmt: skip
    write_results(spec, fits, picked_lambda=picked, runs=runs, analyses=analyses)
    return "\n".join(line for s in sections for line in s) + "\n" + _variants(spec, test)


def _threshold_curve(run) -> list[tuple[float, float, float, float]]:
    """ERM's (threshold, accuracy, parity gap, equality gap) when its threshold moves."""
    x, y, z = pooled(run.split, "test")
    scores = predict_proba(run.algorithm, x)[:, 1].numpy()
    curve = []
    for t in np.linspace(0.05, 0.95, 19):
        m = evaluate_metrics(
            y.numpy(),
            scores,
            sensitive_features=z.numpy(),
            threshold=float(t),
            on_undefined="ignore",
        )
        curve.append((float(t), m["accuracy"], m["dp_diff"], m["eopp_diff"]))
    return curve


def _figures(spec: Spec, kept, picked, fits) -> dict[str, Path]:
    named = {"ERM": "erm", f"Affinity (lambda {picked:g})": "affinity"}
    tsne = tsne_png(spec.out / "tsne.png", {name: kept[k] for name, k in named.items()})
    groups = kept["erm"].dataset.group_names
    hist = r_hist_png(spec.out / "r_hist.png", {n: fits[k][0] for n, k in named.items()}, groups)
    return {
        "t-SNE of the representation (figure 3 style)": tsne,
        "histograms of r per group (figure 5)": hist,
    }


def _sweep_plot(spec: Spec, test, erm_curve) -> Path:
    """The lambda sweep's figure (PNG and PDF) from the test metrics of every run."""
    erm = [test[("erm", s, None)] for s in range(spec.seeds)]
    runs = [[test[("affinity", s, lam)] for s in range(spec.seeds)] for lam in spec.sweep]
    return save(sweep_figure(spec.sweep, runs, erm, erm_curve), spec.out / "lambda_sweep.png")


@styled
def sweep_figure(sweep, runs, erm, erm_curve) -> Figure:
    """Accuracy-fairness trade-off of the lambda sweep (mean test metrics over seeds: `runs`
    per lambda, `erm` per seed) with ERM's curve as its threshold moves (`erm_curve` of
    ``(threshold, accuracy, parity gap, equality gap)``): the paper's parity gap and equality
    gap side by side, both axes shared."""
    fig, axes = new_figure(1, 2, sharex=True, sharey=True)
    for ax, (column, metric, title) in zip(
        axes[0], ((2, "dp_diff", "parity gap"), (3, "eopp_diff", "equality gap")), strict=True
    ):
        ax.plot(scaled("accuracy", [c[1] for c in erm_curve]), [c[column] for c in erm_curve],
                ":", color="grey", label="ERM, moving the threshold (seed 0)")  # fmt: skip
        accs = scaled("accuracy", [mean([m["accuracy"] for m in ms]) for ms in runs])
        gaps = [mean([m[metric] for m in ms]) for ms in runs]
        ax.plot(accs, gaps, "o-", color="tab:blue", label="Affinity, lambda sweep")
        for lam, a, g in zip(sweep, accs, gaps, strict=True):
            ax.annotate(f"{lam:g}", (a, g), fontsize=6, xytext=(3, 3), textcoords="offset points")
        ax.plot(scaled("accuracy", [mean([m["accuracy"] for m in erm])]),
                [mean([m[metric] for m in erm])], "s", color="tab:red",
                label="ERM (threshold 0.5)")  # fmt: skip
        ax.set_title(f"{title} (paper's name)")
        ax.set_xlabel(metric_label("accuracy", "test"))
        ax.set_ylabel(metric_label(metric, "test"))
    legend_below(fig, axes[0, 0])
    fig.suptitle("Adult: accuracy-fairness trade-off (mean over seeds)")
    return fig


@dataclass(frozen=True)
class AdultReport:
    """The sections of the report, from the records and the probes."""

    spec: Spec
    test: dict[tuple, dict[str, float]]
    val: dict[float, dict[str, float]]
    picked: float
    analyses: dict[str, list[dict]]
    fits: dict[str, list]

    def of(self, kind: str, lam: float | None = None) -> list[dict[str, float]]:
        """The test metrics of a kind of run (affinity: at `lam`), one per seed."""
        return [self.test[(kind, s, lam)] for s in range(self.spec.seeds)]

    def header(self) -> list[str]:
        return [
            "# Affinity loss on UCI Adult (affinity paper, section 3.2)",
            "",
            f"{self.spec.seeds} seed(s), {self.spec.steps} steps, batch 512, MLP in-128-20, "
            f"loss form `{self.spec.form}`; test split (16,281 rows); each cell ours (mean ± "
            "sample std over seeds) followed by the paper's value in parentheses. Lambda "
            f"picked on validation: {self.picked:g}.",
            "",
        ]

    def table2(self) -> list[str]:
        def row(label: str, ms: list[dict], paper: tuple) -> list[str]:
            cells = (mean_std([m[k] for m in ms]) for k in METRICS)
            return [label, *(paper_cell(c, p) for c, p in zip(cells, paper, strict=True))]

        rows = [row("baseline (ERM)", self.of("erm"), PAPER_TABLE2["baseline"])]
        default, picked = self.spec.lambda_, self.picked
        for label, lam in ((f"affinity, lambda {default:g} (default)", default),
                           (f"affinity, lambda {picked:g} (picked on val)", picked)):  # fmt: skip
            ms = self.of("affinity", lam)
            dead = sum(map(collapsed, ms))
            label += f", {dead}/{len(ms)} seeds collapsed" if dead else ""
            rows.append(row(label, ms, PAPER_TABLE2["affinity"]))
        header = ["approach", "accuracy", "parity gap", "equality gap", "equality gap (TNR)"]
        return ["## Table 2", "", markdown_table(header, rows)]

    def table3(self) -> list[str]:
        keys = {
            "accuracy income": "accuracy", "parity gap": "dp_diff", "equality gap": "eopp_diff",
            "probe accuracy female": "sensitive_accuracy/female",
            "probe accuracy male": "sensitive_accuracy/male",
        }  # fmt: skip
        a = self.analyses
        rows = [
            [label, *(paper_cell(mean_std([x.get(key) for x in a[c]]), p)
                      for c, p in zip(KINDS, PAPER_TABLE3[label], strict=True))]
            for label, key in keys.items()
        ]  # fmt: skip
        rows.append(
            ["probe AUC (sex)", *(mean_std([x.get("sensitive_auc") for x in a[c]]) for c in KINDS)]
        )
        for label, key in (("active units of the representation (of 20)", "rep_active_units"),
                           ("rank of the representation", "rep_rank")):  # fmt: skip
            rows.append([label, *(mean_std([x.get(key) for x in a[c]], 1) for c in KINDS)])
        header = ["", "baseline with z", "baseline without z",
                  f"affinity (lambda {self.picked:g})", "affinity, z reattached"]  # fmt: skip
        return [
            "",
            "## Table 3",
            "",
            "Probe rows: a linear probe refitted on the frozen representation (train split) to "
            "predict sex; its test accuracy on female and male samples, and its ROC AUC (0.5 = "
            "no information; not in the paper). Active units: ReLU units nonzero on more than 1% "
            "of the test samples; rank: singular values of the centred test representations "
            "above 1e-3 of the largest.",
            "",
            markdown_table(header, rows),
        ]

    def reattachment(self) -> list[str]:
        rows = [
            [name, *(mean_std(v) for v in (
                [f.w_r for f in self.fits[key]], [f.w_z["male"] for f in self.fits[key]],
                [f.b for f in self.fits[key]]))]
            for name, key in (("ERM (without z)", "erm"),
                              (f"affinity (lambda {self.picked:g})", "affinity"))
        ]  # fmt: skip
        return [
            "",
            "## Re-attachment of z (equation 4)",
            "",
            "y_hat = sigmoid(w_r r + w_z z + b), r the standardised linear combination of the "
            "frozen representation, z = 1 for male. Paper (affinity): w_z about 4, w_r about 1.",
            "",
            markdown_table(["model", "w_r", "w_z", "b"], rows),
        ]

    def lambda_sweep(self, png: Path) -> list[str]:
        rows = []
        for lam in self.spec.sweep:
            ms = self.of("affinity", lam)
            rows.append([f"{lam:g}", *(mean_std([m[k] for m in ms]) for k in METRICS),
                         f"{self.val[lam]['accuracy']:.3f}", f"{self.val[lam]['dp_diff']:.3f}",
                         f"{sum(map(collapsed, ms))}/{len(ms)}"])  # fmt: skip
        header = ["lambda", "test accuracy", "parity gap", "equality gap", "equality gap (TNR)",
                  "val accuracy", "val parity gap", "collapsed"]  # fmt: skip
        return [
            "",
            "## Lambda sweep",
            "",
            f"Trade-off plot: `{png}` (with ERM's curve when only its decision threshold "
            "moves, for reference). Collapsed: seeds whose model gives every test sample the "
            "same class (the representation died: all-zero ReLU units make the affinity loss "
            "exactly 0); means and standard deviations include them.",
            "",
            markdown_table(header, rows),
        ]

    def figures(self, figures: dict[str, Path]) -> list[str]:
        if not figures:
            return []
        return ["", "## Figures", ""] + [f"- {k}: `{v}`" for k, v in figures.items()]

    def targets(self) -> list[str]:
        picked, lam = self.of("affinity", self.picked), f"affinity (lambda {self.picked:g})"
        return [
            "",
            "## Targets (full mode)" + quick_note(self.spec),
            "",
            target_line(f"{lam} accuracy", mean([m["accuracy"] for m in picked]), ">=", 0.81),
            target_line(f"{lam} parity gap", mean([m["dp_diff"] for m in picked]), "<=", 0.08),
            target_line(f"{lam} equality gap", mean([m["eopp_diff"] for m in picked]), "<=", 0.03),
            target_line(
                "ERM parity gap", mean([m["dp_diff"] for m in self.of("erm")]), ">=", 0.15
            ),
        ]


def _variants(spec: Spec, test) -> str:
    """The table of the loss variants we tried (empty when none were run)."""
    if not spec.variants:
        return ""
    rows = []
    for name, (_, lambdas) in VARIANTS.items():
        for lam in lambdas:
            ms = [test[(name, s, lam)] for s in range(min(2, spec.seeds))]
            rows.append([name, f"{lam:g}", *(mean_std([m[k] for m in ms]) for k in METRICS),
                         f"{sum(map(collapsed, ms))}/{len(ms)}"])  # fmt: skip
    header = ["variant of the loss", "lambda", "test accuracy", "parity gap", "equality gap",
              "equality gap (TNR)", "collapsed"]  # fmt: skip
    return "\n## Variants of the loss that we tried\n\n" + markdown_table(header, rows) + "\n"
