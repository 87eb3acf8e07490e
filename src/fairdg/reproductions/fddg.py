"""What the FDDG reproductions share: leave one domain out, Table 6's rows, the selection rule,
the table beside the paper's, the checks.

For every target domain (held out in turn; the others are the sources) the plan trains the
transformation models T the methods need (with and without the sensitive factor; on the
sources' training rows only, under ``<folder>/transformations``, one per target, shared by the
trials), then runs every method for every hyperparameter candidate and trial seed (runs of a
method under ``<folder>/runs/<method>``). A row (method, target, trial) reads the held-out
domain's test metrics at the evaluation the spec's ``selection`` rule picks
(`fairdg.reproductions.fddg_select`): by default ``paper``, our reading of the paper's
appendix C.6-C.7 (leave-one-training-domain-out accuracy among non-degenerate evaluations,
fairness recorded; the plan adds the pair runs, and their T models, that it needs);
``fair-threshold`` (ours: validation DP ratio >= 0.8), ``training``, ``lodo``, ``oracle`` and
``last`` as options. No rule ever selects a degenerate evaluation.

A run that fails is recorded (``error``) with undefined metrics. Cells are "DP / AUC /
accuracy" as in the paper's tables, each the mean +/- sample standard deviation over trials;
the average column is the mean over targets. ``competitor_t="paper"`` trains the T without the
sensitive factor (MBDG, DDG, FATDM, their -FC variants, FDDG w/o sf) with the paper's
objective alone, as their papers describe it.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fairdg import records
from fairdg.data.base import MultiDomainDataset
from fairdg.experiments.spec import held_out_sets
from fairdg.records import canonical_json
from fairdg.reporting.figures import metric_label, new_figure, save, styled
from fairdg.reproductions.fddg_paper import BASELINES, ROW_OF
from fairdg.reproductions.fddg_select import (
    CELL,
    DAGGER,
    DAGGER_NOTE,
    SELECTIONS,
    degenerate_lines,
    degenerate_row,
    failed_lines,
    rows_of,
    uses_lodo,
)
from fairdg.reproductions.protocol import (
    BaseSpec,
    Plan,
    Results,
    markdown_table,
    mean_and_std,
    number,
    option,
)
from fairdg.transformation import (
    default_config,
    fit_transformation,
    objective_changes,
    save_transformation,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ABLATIONS = ("fddg-no-sf", "fddg-no-t", "fddg-no-fc")
TABLE6 = (*BASELINES, *ABLATIONS, "fddg")  # the 17 baselines, the ablations, FDDG
LABELS = {
    **ROW_OF,
    "fddg-no-sf": "FDDG w/o sf",
    "fddg-no-t": "FDDG w/o T",
    "fddg-no-fc": "FDDG w/o fc",
    "fddg:max": "FDDG, separate gaps (ours)",
    "fddg:paper-t": "FDDG, paper-only T objective",
}
# A row "<algorithm>:<variant>" runs <algorithm> with these hyperparameters ...
VARIANTS = {"fddg:max": {"fddg_fair_sets": "max"}}
# ... or with a T trained with these TransformationConfig changes: the paper's objective alone,
# without our three additions (conditional discriminator, prior matching, sensitive cycle).
PAPER_T = objective_changes("paper")  # `fairdg transform train --objective paper`
T_VARIANTS = {"fddg:paper-t": PAPER_T}
# algorithm -> whether its T has the sensitive factor (MBDG, DDG, FATDM: one level, none)
NEEDS_T = {
    "fddg": True, "fddg-no-fc": True, "fddg-no-sf": False, "mbdg": False, "mbdg-fc": False,
    "ddg": False, "ddg-fc": False, "fatdm": False,
}  # fmt: skip


@dataclass(frozen=True)
class FDDGSpec(BaseSpec):
    """The options every FDDG reproduction has (values: those of a module's subclass)."""

    seeds: int = option(3, 1, "trials per (method, target)")
    steps: int = option(600, 100, "classifier steps")
    t_steps: int = option(800, 150, "transformation-model steps")
    targets: list[str] = option([], help="held-out domains (default: each in turn)")
    methods: list[str] = option([], help="rows to run, e.g. erm,fddg (default: the table's)")
    n_hparams: int = option(4, 1, "configurations per method (1 with selection=last)")
    selection: str = option("paper", help="how a row's evaluation is chosen", choices=SELECTIONS)
    competitor_t: str = option(
        "ours", help="T objective of the T-using competitors (no sensitive factor): ours|paper",
        choices=("ours", "paper"),
    )  # fmt: skip

    def __post_init__(self) -> None:
        unknown = [m for m in self.methods if m not in LABELS]
        if unknown:
            raise ValueError(f"--option methods: unknown {unknown}; valid: {sorted(LABELS)}")

    def rows(self, default: Sequence[str]) -> tuple[str, ...]:
        return tuple(self.methods) or tuple(default)

    def candidates(self) -> int:
        return 1 if self.selection == "last" else self.n_hparams

    def seeds_of(self, method: str) -> int:
        """Trials of a row (`seeds` for every row here)."""
        return self.seeds


def staged_overrides(steps: int) -> dict[str, dict[str, Any]]:
    """Methods whose second stage starts after a number of updates (500 by default: IRM's and
    V-REx's annealing, EIIL's reference model, FarconVAE's frozen evaluation) switch at half
    of a short run, so that the second stage happens at all (the reproductions run 100 to
    1,000 steps)."""
    half = max(1, steps // 2)
    return {
        "irm": {"irm_penalty_anneal_iters": half},
        "vrex": {"vrex_penalty_anneal_iters": half},
        "eiil": {"eiil_ref_steps": half},
        "farconvae": {"farcon_vae_steps": half},
    }


def _transformation(plan, spec, data, options, held: tuple[str, ...], method, t_config):
    """(key, path) of the T that `method` needs with `held` out (registered in `plan` to train
    first), or (None, None). The path hashes what T depends on: a cached one is reused."""
    algorithm = method.partition(":")[0]
    if algorithm not in NEEDS_T:
        return None, None
    sensitive, target = NEEDS_T[algorithm], "+".join(held)
    if not sensitive and spec.competitor_t == "paper":
        t_config = {**t_config, **PAPER_T}
    t_config = {**t_config, **T_VARIANTS.get(method, {})}
    key = {"dataset": data.name, "options": options, "target": target, "sensitive": sensitive}
    key |= {"steps": spec.t_steps, "config": t_config, "max_train": None, "select": "val_loss"}
    digest = hashlib.sha1(canonical_json(key).encode()).hexdigest()[:10]
    name = f"{data.name}-{target}-{'sf' if sensitive else 'nosf'}-{digest}.pt"
    path = spec.out / "transformations" / name

    def fit() -> None:
        config = default_config(data, use_sensitive=sensitive, **t_config)
        model = fit_transformation(
            data, config, test_domains=list(held), seed=0, steps=spec.t_steps,
            device=spec.device, quiet=True, max_train=None, select="val_loss",
        )  # fmt: skip
        save_transformation(model, path)

    plan.transformations[path] = fit
    variant = f"/{method}" if method in T_VARIANTS else ""
    return f"{target}/{'sf' if sensitive else 'nosf'}{variant}", path


def fddg_plan(spec: FDDGSpec, data: MultiDomainDataset, options, methods, **run) -> Plan:
    """Every (held-out set, method, trial, configuration) as a run keyed so; `run`: the
    classifier's ``hparams``, ``eval_every`` and ``t_config`` (T's configuration changes)."""
    plan = Plan(datasets={data.name: data})
    t_config = run.pop("t_config")
    targets = spec.targets or data.domain_names
    held_sets = held_out_sets(data.domain_names, targets, lodo=uses_lodo(spec.selection))
    plan.notes = {"dataset": data, "targets": list(targets), "methods": methods, "t_paths": {}}
    staged = staged_overrides(spec.steps)
    for held in held_sets:
        for method in methods:
            key, path = _transformation(plan, spec, data, options, held, method, t_config)
            if key is not None:
                plan.notes["t_paths"][key] = path
            hparams = {**run["hparams"], **VARIANTS.get(method, {}), **staged.get(method, {})}
            for seed in range(spec.seeds_of(method)):
                for h in range(spec.candidates()):
                    plan.runs[("+".join(held), method, seed, h)] = spec.config(
                        dataset=data.name, data_options=options,
                        algorithm=method.partition(":")[0], hparams=hparams, hparams_seed=h,
                        test_domains=held, seed=seed, steps=spec.steps,
                        eval_every=run["eval_every"], save_model=False,
                        transformation=None if path is None else str(path),
                        output_dir=str(spec.out / "runs" / method.replace(":", "-")),
                    )  # fmt: skip
    return plan


# -- tables, averages, checks, plot --------------------------------------------------------------
def _fmt(metric: str, mean: float, std: float | None) -> str:
    if math.isnan(mean):
        return "nan"
    scale = 100.0 if metric == "accuracy" else 1.0
    text = f"{scale * mean:.2f}"
    return text if std is None else f"{text} ± {scale * std:.2f}"


def _cell(sel: list[dict[str, Any]], means: dict[str, list[float]], rate: bool) -> str:
    """One target's cell: "DP / AUC / accuracy" over the trials in `sel` (means appended to
    `means`), the positive rate where `rate`, a dagger where a trial is degenerate."""
    parts = []
    for metric in (*CELL, "positive_rate") if rate else CELL:
        m, s = mean_and_std([number(r.get(metric)) for r in sel])
        means.setdefault(metric, []).append(m)
        if metric != "positive_rate":
            parts.append(_fmt(metric, m, s))
    text = " / ".join(parts)
    text += f" [pr {means['positive_rate'][-1]:.2f}]" if rate else ""
    return text + (DAGGER if any(map(degenerate_row, sel)) else "")


def results_table(
    rows: list[dict[str, Any]],
    methods: Sequence[str],
    targets: Sequence[str],
    dependence: dict[str, float],
    paper: dict[str, list[str]] | None = None,
    label_suffix: str = "",
    paper_label: str = "paper",
    positive_rate: bool = False,
) -> str:
    """Rows methods (each followed by the paper's row of the same method, labelled
    `paper_label`; the paper's other rows at the end), columns targets (with their dependence
    score) and the average (mean over targets), cells "DP / AUC / accuracy" (mean ± sample std
    over seeds; with `positive_rate`, the held-out positive rate in brackets), a dagger on a
    cell with a degenerate trial (`degenerate_row`)."""
    header = ["method", *(f"{t} ({dependence.get(t, math.nan):.2f})" for t in targets), "Avg"]
    paper, lines = dict(paper or {}), []
    for method in methods:
        means: dict[str, list[float]] = {}
        cells = [
            _cell([r for r in rows if r["method"] == method and r["target"] == target], means,
                  positive_rate)
            for target in targets
        ]  # fmt: skip
        avg = " / ".join(_fmt(m, statistics.fmean(means[m]), None) for m in CELL)
        rate = statistics.fmean(means["positive_rate"]) if positive_rate else None
        cells.append(avg + ("" if rate is None else f" [pr {rate:.2f}]"))
        label = LABELS.get(method, method)
        lines.append([label + label_suffix, *cells])
        if label in paper:
            lines.append([f"*{paper_label}: {label}*", *paper.pop(label)])
    lines += [[f"*{paper_label}: {label}*", *cells] for label, cells in paper.items()]
    return markdown_table(header, lines)


def averages(rows: list[dict[str, Any]], method: str) -> dict[str, float]:
    """Mean over targets of the per-target mean of each cell metric."""
    out = {}
    for metric in CELL:
        per_target: dict[str, list[float]] = {}
        for r in rows:
            if r["method"] == method and not math.isnan(number(r[metric])):
                per_target.setdefault(r["target"], []).append(r[metric])
        values = [statistics.fmean(v) for v in per_target.values()]
        out[metric] = statistics.fmean(values) if values else math.nan
    return out


def checks(rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets on the averages over held-out domains: each FDDG row against ERM
    (DP ratio +0.10, AUC closer to 0.5, accuracy within 3 points), each ablation against FDDG."""
    avg = {m: averages(rows, m) for m in {r["method"] for r in rows}}
    out: list[str] = []
    if "erm" not in avg:
        return out
    e = avg["erm"]
    for method in (m for m in ("fddg", "fddg:max") if m in avg):
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
    for method in (m for m in ABLATIONS if m in avg):
        a = avg[method]
        worse = ["DP"] if a["dp_ratio"] < f["dp_ratio"] else []
        worse += ["AUC"] if abs(a["fairness_auc"] - 0.5) > abs(f["fairness_auc"] - 0.5) else []
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
    out = failed_lines(rows)
    avg = {m: averages(rows, m) for m in {r["method"] for r in rows}}
    if "fddg" not in avg or "erm" not in avg:
        return out
    f, e = avg["fddg"], avg["erm"]
    gain = 100 * (f["accuracy"] - e["accuracy"])
    out.append(
        f"- FDDG accuracy {100 * f['accuracy']:.2f} vs ERM {100 * e['accuracy']:.2f} "
        f"({gain:+.2f} points; target >= +10: {'met' if gain >= 10 else 'missed'})"
    )
    baselines = sorted((m, a) for m, a in avg.items() if m in BASELINES)
    above = [
        f"{LABELS.get(m, m)} ({a['dp_ratio']:.3f}, {a['dp_ratio'] - f['dp_ratio']:+.3f})"
        for m, a in baselines
        if a["dp_ratio"] >= f["dp_ratio"]
    ]
    undefined = [LABELS.get(m, m) for m, a in baselines if a["dp_ratio"] != a["dp_ratio"]]
    undefined_text = f"; DP ratio undefined (one predicted class): {', '.join(undefined)}"
    out.append(
        f"- FDDG DP ratio {f['dp_ratio']:.3f}; baselines at or above it: "
        f"{', '.join(above) or 'none'} (target: at most two: "
        f"{'met' if len(above) <= 2 else 'missed'})" + (undefined_text if undefined else "")
    )
    closer = abs(f["fairness_auc"] - 0.5) < abs(e["fairness_auc"] - 0.5)
    out.append(
        f"- FDDG fairness AUC {f['fairness_auc']:.3f} vs ERM {e['fairness_auc']:.3f} "
        f"(target: closer to 0.5: {'met' if closer else 'missed'})"
    )
    return out


@styled
def dp_vs_dependence_figure(
    rows: list[dict[str, Any]],
    dependence: dict[str, float],
    methods: Sequence[str] = ("erm", "fddg"),
    title: str = "",
) -> Figure:
    """Per-target DP ratio against the target's dependence score (mean and std over trials),
    one paper column wide."""
    fig, axes = new_figure(1, 1, panel_height=2.6)
    ax = axes[0, 0]
    ax.plot([0, 1], [0, 1], color="0.7", lw=1, ls="--", label="DP ratio of the true labels")
    for i, method in enumerate(methods):
        xs: list[float] = []
        ys: list[float] = []
        es: list[float] = []
        for target, score in dependence.items():
            m, s = mean_and_std(
                [r["dp_ratio"] for r in rows if r["method"] == method and r["target"] == target]
            )
            if not math.isnan(m):
                xs, ys, es = [*xs, score], [*ys, m], [*es, s]
        offset = (i - (len(methods) - 1) / 2) * 0.01  # keep error bars apart
        ax.errorbar([x + offset for x in xs], ys, yerr=es, fmt="o", capsize=2,
                    label=LABELS.get(method, method))  # fmt: skip
        for target, x, y in zip(dependence, xs, ys, strict=False) if i == 0 else ():
            ax.annotate(target, (x, y), textcoords="offset points", xytext=(5, -9), fontsize=6)
    ax.set_xlabel("dependence score of the target domain")
    ax.set_ylabel(metric_label("dp_ratio", "target"))
    ax.set(xlim=(0, 1.05), ylim=(0, 1.05), title=title)
    ax.legend(loc="lower right")
    return fig


def fddg_report(results: Results, spec: FDDGSpec, paper, title: str, suffix: str = "", **table):
    """The rows, the table (with the paper's rows that match ours, where `paper`; `table`:
    more `results_table` options) and the lines that name the degenerate rows, the plot of DP
    ratio against dependence and the rows' file (both written)."""
    notes, out = results.plan.notes, spec.out
    rows = rows_of(results, spec)
    dependence = dependence_of(notes["dataset"])
    labels = {LABELS.get(m, m) for m in notes["methods"]}
    paper = {k: v for k, v in (paper or {}).items() if k in labels}
    methods, targets = notes["methods"], notes["targets"]
    text = results_table(rows, methods, targets, dependence, paper, suffix, **table)
    scores = {t: dependence[t] for t in targets}
    plot = save(dp_vs_dependence_figure(rows, scores, title=title), out / "dp-vs-dependence.png")
    records.write_json(out / "rows.json", rows)
    flagged = [DAGGER_NOTE, *degenerate_lines(rows, LABELS)]
    flagged = flagged if any(map(degenerate_row, rows)) else []
    files = [f"DP ratio vs dependence: {plot}", f"Per-run rows: {out / 'rows.json'}"]
    return rows, text, flagged + files


def dependence_of(data: MultiDomainDataset) -> dict[str, float]:
    """Each domain's dependence score between y and z."""
    summary = data.summary()["domains"]
    return {name: summary[name]["dependence"] for name in data.domain_names}
