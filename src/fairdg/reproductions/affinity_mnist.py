"""Reproduction of the affinity paper's MNIST / MNIST-I experiment (section 2.1): Table 1a
(lambda), Table 1b (size of the representation) and the t-SNE of figure 3.

``fairdg reproduce affinity-mnist [--quick] [--seeds N] [--option steps=3000]
[--option figures=true] [--option form=symmetric] [--option lambdas=[0,0.01]]
[--option rep_dims=[20]]``; needs the MNIST files (``$FAIRDG_DATA/mnist`` or ``--option
root=DIR``).

Setting (paper): MNIST and MNIST-I (every image also inverted; z = inverted), target the digit,
MLP 784-128-128-rep (ReLU; the rep units are the representation), batch 128, Adam 1e-3, five
runs. After training the hidden layers are frozen and a new linear output layer is fitted on the
training split to predict (a) the digit and (b) z; the tables report both test accuracies
("accuracy digits", "accuracy sensitive"). lambda = 0 is ERM. Every run is evaluated at its last
step. The loss is equation (3) as written (``form=eq3``, the default: anchors of the original
images, normalised by ``|Y| |X1|``); ``form=symmetric`` is fairdg's former symmetric, per-pair
averaged form (about ten times stronger at the same lambda on ten digits).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fairdg.algorithms.affinity import FORMS
from fairdg.data import load_dataset
from fairdg.interpret import linear_probes, plot_tsne, pooled, representations, subsample
from fairdg.reproductions import ReproOptions
from fairdg.reproductions.protocol import (
    check_options,
    choice_option,
    markdown_table,
    mean,
    mean_std,
    paper_cell,
    progress,
    seeds_for,
    target_line,
    train_and_load,
)

HPARAMS = {"mlp_depth": 2, "mlp_width": 128, "rep_dim": 20, "batch_size": 128, "lr": 1e-3}
LAMBDAS = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)
REP_DIMS = (1, 5, 10, 20, 50, 100)
PAPER_1A = {  # lambda: (digits, sensitive), mean and std
    0.0: ((0.89, 0.02), (0.995, 0.005)),
    1e-4: ((0.90, 0.02), (0.99, 0.005)),
    1e-3: ((0.93, 0.01), (0.89, 0.02)),
    1e-2: ((0.93, 0.01), (0.57, 0.03)),
    1e-1: ((0.10, 0.005), (0.50, 0.005)),
}
PAPER_1B = {  # rep_dim: (digits, sensitive), lambda 0.01
    1: ((0.10, 0.05), (0.50, 0.05)),
    5: ((0.78, 0.03), (0.54, 0.02)),
    10: ((0.93, 0.01), (0.57, 0.02)),
    20: ((0.93, 0.01), (0.57, 0.03)),
    50: ((0.95, 0.03), (0.74, 0.04)),
    100: ((0.96, 0.04), (0.85, 0.05)),
}
FULL = {"steps": 3000, "seeds": 5, "lambdas": LAMBDAS, "rep_dims": REP_DIMS, "data": {}}
QUICK = {
    "steps": 200,
    "seeds": 1,
    "lambdas": (0.0, 1e-2),
    "rep_dims": (5, 20),
    "data": {"n_train": 2000, "n_test": 500},
}


def _settings(options: ReproOptions) -> dict[str, Any]:
    base = dict(QUICK if options.quick else FULL)
    extra = dict(options.extra)
    known = {"steps", "figures", "root", "lambda", "form", "lambdas", "rep_dims"}
    check_options("affinity-mnist", extra, known)
    form = choice_option("affinity-mnist", extra, "form", FORMS, "eq3")
    data = dict(base["data"])
    if "root" in extra:
        data["root"] = str(extra["root"])
    return {
        "steps": int(extra.get("steps", base["steps"])),
        "seeds": seeds_for(options, base["seeds"]),
        "lambdas": tuple(float(v) for v in _listed(extra.get("lambdas", base["lambdas"]))),
        "rep_dims": tuple(int(v) for v in _listed(extra.get("rep_dims", base["rep_dims"]))),
        "form": form,
        "lambda": float(extra.get("lambda", 1e-2)),  # the lambda of Table 1b
        "data": data,
        "figures": bool(extra.get("figures", not options.quick)),
        "quick": options.quick,
    }


def _listed(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def reproduce(options: ReproOptions) -> str:
    """Run Tables 1a and 1b and return the markdown report."""
    s = _settings(options)
    out = Path(options.output) / ("affinity-mnist-quick" if options.quick else "affinity-mnist")
    dataset = load_dataset("mnist-inverted", **s["data"])
    data_options = {k: v for k, v in s["data"].items() if k != "root"}
    cells = [(lam, 20) for lam in s["lambdas"]]
    cells += [(s["lambda"], rep) for rep in s["rep_dims"] if (s["lambda"], rep) not in cells]
    plan = [(lam, rep, seed) for lam, rep in cells for seed in s["seeds"]]
    results: dict[tuple[float, int], list[dict]] = {cell: [] for cell in cells}
    keep = {}
    for lam, rep, seed in progress(plan, options, "affinity-mnist runs"):
        hp = {**HPARAMS, "rep_dim": rep}
        if lam > 0:  # the form explicitly: runs of another default get another run id
            hp.update(affinity_lambda=lam, **FORMS[s["form"]])
        record, run = train_and_load(
            options,
            out,
            dataset,
            algorithm="affinity" if lam > 0 else "erm",
            hparams=hp,
            seed=seed,
            steps=s["steps"],
            data_options=data_options,
        )
        probes = linear_probes(run.algorithm, run.split)
        results[(lam, rep)].append(
            {
                "classifier_accuracy": record["metrics"]["test"]["accuracy"],
                "run_id": record["run_id"],
                **probes,
            }
        )
        if seed == s["seeds"][0] and rep == 20 and lam in (0.0, s["lambda"]):
            keep[lam] = run
    figure = _tsne(out, keep, s, dataset) if s["figures"] and len(keep) == 2 else None
    (out / "results.json").write_text(
        json.dumps(
            {
                "settings": s,
                "cells": [
                    {"lambda": lam, "rep_dim": rep, "runs": runs}
                    for (lam, rep), runs in results.items()
                ],
            },
            indent=1,
        )
    )
    return _report(s, results, figure)


def _tsne(out: Path, keep, s, dataset) -> Path:
    panels = []
    for lam, name in (
        (0.0, "baseline (lambda 0)"),
        (s["lambda"], f"affinity (lambda {s['lambda']:g})"),
    ):
        run = keep[lam]
        x, y, z = pooled(run.split, "test")
        pick = subsample(len(y), 2000, 0)
        panels.append((name, representations(run.algorithm, x[pick]), y[pick], z[pick]))
    return plot_tsne(
        panels, out / "tsne.png", class_names=dataset.class_names, group_names=dataset.group_names
    )


def _cell(runs: list[dict], key: str, paper: tuple[float, float] | None) -> str:
    ours = mean_std([r.get(key) for r in runs], digits=3)
    return paper_cell(ours, None if paper is None else f"{paper[0]:g} ± {paper[1]:g}")


def _rows(results, cells, paper) -> list[list[str]]:
    rows = []
    for label, key, index in (
        ("accuracy digits (probe)", "target_accuracy", 0),
        ("accuracy sensitive (probe)", "sensitive_accuracy", 1),
    ):
        rows.append(
            [
                label,
                *(
                    _cell(
                        results[c], key, paper.get(k, (None, None))[index] if k in paper else None
                    )
                    for c, k in cells
                ),
            ]
        )
    rows.append(
        ["sensitive probe AUC", *(_cell(results[c], "sensitive_auc", None) for c, _ in cells)]
    )
    rows.append(
        [
            "classifier test accuracy",
            *(_cell(results[c], "classifier_accuracy", None) for c, _ in cells),
        ]
    )
    rows.append(
        [
            "active units of the representation",
            *(mean_std([r.get("rep_active_units") for r in results[c]], 1) for c, _ in cells),
        ]
    )
    return rows


def _report(s, results, figure) -> str:
    n = len(s["seeds"])
    lines = [
        "# Affinity loss on MNIST / MNIST-I (affinity paper, section 2.1)",
        "",
        f"{n} seed(s), {s['steps']} steps, batch 128, MLP 784-128-128-rep, loss form "
        f"`{s['form']}`; probes refitted on "
        "the frozen representation (train split), accuracies on the test split (MNIST test "
        "images and their inverted copies). Cells: ours (mean ± sample std over seeds) followed "
        "by the paper's (mean ± std over 5 runs). Chance for the sensitive probe: 0.5."
        + (f" Data options: {s['data']}." if s["data"] else ""),
        "",
        "## Table 1a: lambda (representation size 20)",
        "",
    ]
    cells = [((lam, 20), lam) for lam in s["lambdas"]]
    lines.append(
        markdown_table(
            ["lambda", *(f"{lam:g}" for _, lam in cells)], _rows(results, cells, PAPER_1A)
        )
    )
    lines += ["", f"## Table 1b: representation size (lambda {s['lambda']:g})", ""]
    cells = [((s["lambda"], rep), rep) for rep in s["rep_dims"]]
    paper_1b = PAPER_1B if s["lambda"] == 1e-2 else {}
    lines.append(
        markdown_table(
            ["layer size", *(str(rep) for _, rep in cells)], _rows(results, cells, paper_1b)
        )
    )
    if figure:
        lines += ["", f"t-SNE (figure 3): `{figure}`"]
    main = results.get((s["lambda"], 20), [])
    base = results.get((0.0, 20), [])
    lines += [
        "",
        "## Targets (full mode, lambda 0.01, rep 20)"
        + (" -- this is a quick run, not the full one" if s["quick"] else ""),
        "",
    ]
    if main:
        lines.append(
            target_line(
                "affinity digit probe", mean([r["target_accuracy"] for r in main]), ">=", 0.93
            )
        )
        lines.append(
            target_line(
                "affinity sensitive probe",
                mean([r["sensitive_accuracy"] for r in main]),
                "<=",
                0.60,
            )
        )
    if base:
        lines.append(
            target_line(
                "baseline sensitive probe",
                mean([r["sensitive_accuracy"] for r in base]),
                ">=",
                0.95,
            )
        )
    return "\n".join(lines) + "\n"


__all__ = ["reproduce"]
