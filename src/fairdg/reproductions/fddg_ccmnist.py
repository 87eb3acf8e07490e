"""``fairdg reproduce fddg-ccmnist``: FDDG Tables 6 and 10 on ccMNIST (red, green, blue held out).

ERM, the three ablations and FDDG, each domain held out in turn, on a per-domain subsample of
ccMNIST: see `fairdg.reproductions.fddg_protocol` for the protocol. The report holds the table
(ours, then the paper's rows), the targets of the issue checked on the averages, diagnostics
of each T (reconstruction error, digit class kept, background following the sampled sensitive
factor), a figure-4 grid per target and the plot of DP ratio against dependence score.

Grayscale by default. The paper's classifier is an ImageNet-pretrained ResNet-50 at 224 x 224,
which recognises digits of a colour it never saw (its ERM row: 98% accuracy on the red domain).
The small CNN we train from scratch on a CPU does not: held out red, with the sources' green
and blue digits, ERM scored 49.8% on red (all one class) and FDDG 22.5%; every cell would
measure colour transfer, not fairness. In the channel-mean view (`grayscale`) every digit colour
has intensity 1/3 and the background stays black or white, so the domains differ only in their
dependence between y and z, the shift FDDG's fairness constraint is about; ERM then reaches 90%
on red. ``--option colour=true`` runs the coloured version (T's style then carries the colour).

Options (``--option KEY=VALUE``): ``colour``, ``subsample`` (images per domain), ``steps``
(classifier), ``t_steps`` (T), ``targets`` (comma-separated), ``diagnostics`` (true/false),
``max_variant`` (true: add FDDG with ``fddg_fair_sets=max``), ``methods`` (comma-separated
rows to run, e.g. ``erm,fddg``); ``--seeds N``. Quick mode: 1
seed, 1,000 images per domain, 100 classifier steps, 150 T steps on
narrow networks (a smoke test of the whole pipeline, not a result). Full mode: 3 seeds, 4,000
images per domain, 600 classifier steps, 800 T steps (lr 1e-3 instead of the authors' 1e-4).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import torch

from fairdg import records
from fairdg.data import load_dataset
from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.reproductions import ReproOptions
from fairdg.reproductions import fddg_protocol as protocol
from fairdg.transformation import load_transformation
from fairdg.transformation.diagnostics import (
    augmentation_report,
    figure_grid,
    fit_probes,
    save_png,
)

# Tables 6 (ERM, FDDG) and 10 (ablations): targets R (0.11), G (0.43), B (0.87), average.
PAPER = {
    "ERM": [
        "0.12 ± 0.25 / 0.91 ± 0.03 / 98.00 ± 1.14",
        "0.43 ± 0.23 / 0.78 ± 0.01 / 98.07 ± 0.35",
        "0.89 ± 0.06 / 0.64 ± 0.01 / 95.64 ± 1.75",
        "0.48 / 0.78 / 97.24",
    ],
    "FDDG w/o sf": [
        "0.23 ± 0.05 / 0.98 ± 0.01 / 94.89 ± 1.72",
        "0.11 ± 0.06 / 0.92 ± 0.02 / 98.19 ± 1.39",
        "0.42 ± 0.06 / 0.72 ± 0.03 / 95.28 ± 0.22",
        "0.25 / 0.87 / 96.12",
    ],
    "FDDG w/o T": [
        "0.21 ± 0.12 / 0.92 ± 0.01 / 96.74 ± 1.15",
        "0.15 ± 0.08 / 0.86 ± 0.02 / 96.95 ± 0.93",
        "0.48 ± 0.06 / 0.57 ± 0.02 / 96.05 ± 1.17",
        "0.28 / 0.79 / 96.58",
    ],
    "FDDG w/o fc": [
        "0.22 ± 0.08 / 0.91 ± 0.02 / 96.63 ± 0.63",
        "0.44 ± 0.16 / 0.75 ± 0.01 / 97.90 ± 0.40",
        "0.97 ± 0.02 / 0.61 ± 0.02 / 96.01 ± 0.20",
        "0.54 / 0.76 / 96.85",
    ],
    "FDDG": [
        "0.23 ± 0.09 / 0.84 ± 0.01 / 96.15 ± 0.50",
        "0.98 ± 0.01 / 0.58 ± 0.01 / 97.94 ± 0.30",
        "0.92 ± 0.05 / 0.57 ± 0.03 / 96.19 ± 1.33",
        "0.71 / 0.66 / 96.76",
    ],
}

QUICK = {
    "subsample": 1000,
    "steps": 100,
    "t_steps": 150,
    "seeds": 1,
    "t_config": {
        "width": 4,
        "semantic_channels": 16,
        "content_channels": 16,
        "mlp_dim": 32,
        "disc_width": 8,
        "batch_size": 16,
        "lr": 1e-3,
    },
    "classifier": {"batch_size": 32, "cnn_width": 8, "lr": 1e-3},
}
FULL = {
    "subsample": 4000,
    "steps": 600,
    "t_steps": 800,
    "seeds": 3,
    "t_config": {"lr": 1e-3},
    "classifier": {"batch_size": 32, "cnn_width": 16, "lr": 1e-3},
}


def _bool(value) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


def grayscale(dataset: MultiDomainDataset) -> MultiDomainDataset:
    """ccMNIST seen through the channel mean: every digit colour gives the same intensity 1/3,
    the background stays 0 or 1, so the domains differ only in their dependence between y and
    z (no covariate shift). Named ``ccmnist-gray``; an in-memory view, not a registered set."""
    domains = [Domain(d.name, d.x.mean(1, keepdim=True), d.y, d.z) for d in dataset.domains]
    return dataclasses.replace(
        dataset,
        name="ccmnist-gray",
        domains=domains,
        input_shape=(1, *dataset.input_shape[1:]),
        meta={**dataset.meta, "view": "channel mean (grayscale)"},
    )


def plan_from(options: ReproOptions) -> protocol.Plan:
    """The runs of the reproduction (full or quick, with ``--option`` changes)."""
    base = QUICK if options.quick else FULL
    extra = options.extra
    data_options = {"subsample": int(extra.get("subsample", base["subsample"]))}
    dataset = load_dataset("ccmnist", **data_options)
    if not _bool(extra.get("colour", False)):
        dataset = grayscale(dataset)
    steps = int(extra.get("steps", base["steps"]))
    targets = extra.get("targets")
    return protocol.Plan(
        dataset=dataset,
        data_options=data_options,
        seeds=options.seeds or base["seeds"],
        steps=steps,
        eval_every=max(1, steps // 3),
        hparams=dict(base["classifier"]),
        t_steps=int(extra.get("t_steps", base["t_steps"])),
        t_config=base["t_config"],
        targets=tuple(str(targets).split(",")) if targets else None,
        methods=protocol.methods_option(
            extra, protocol.METHODS + (("fddg:max",) if _bool(extra.get("max_variant")) else ())
        ),
    )


def diagnose(
    plan: protocol.Plan, t_paths: dict[str, Path], folder: Path, probe_steps: int
) -> list[str]:
    """Diagnostics of each full T on the sources' validation rows and the target's rows."""
    lines = [
        "| target | rows | recon MAE / pixel | y kept on x' | y probe agrees on x, x' | z' != z | "
        "top z' share | z' shows on x' | y probe on real | z probe on real |",
        "|" + "---|" * 10,
    ]
    for key, path in sorted(t_paths.items()):
        target, variant = key.split("/")
        if variant != "sf":
            continue
        model = load_transformation(path)
        split = plan.dataset.split(0, [target])
        cat = lambda parts, a: torch.cat([getattr(p, a) for p in parts])  # noqa: E731
        train_parts = split.train()
        probes = fit_probes([cat(train_parts, a)[:3000] for a in "xyz"], 2, 2, probe_steps)
        sets = {
            "source val": [split.parts[n]["val"] for n in split.train_domains],
            "target": [split.parts[target]["test"]],
        }
        for name, parts in sets.items():
            test = [cat(parts, a)[:1000] for a in "xyz"]
            r = augmentation_report(model, None, test, 2, 2, probes=probes)
            lines.append(
                f"| {target} | {name} | {r['recon_mae']:.3f} | {r['label_kept']:.3f} | "
                f"{r['label_agreement']:.3f} | "
                f"{r['z_flip']:.3f} | {r['z_prime_share']:.3f} | {r['z_consistent']:.3f} | "
                f"{r['probe_y_accuracy']:.3f} | {r['probe_z_accuracy']:.3f} |"
            )
        grid_rows = cat(sets["source val"], "x")[::97][:8]  # spread over both sources
        grid_z = cat(sets["source val"], "z")[::97][:8]
        save_png(figure_grid(model, grid_rows, grid_z), str(folder / f"grid-{target}.png"))
    return lines


def run(options: ReproOptions) -> str:
    """Run the ccMNIST reproduction and return its markdown report."""
    started = time.perf_counter()
    plan = plan_from(options)
    folder = Path(options.output) / ("fddg-ccmnist-quick" if options.quick else "fddg-ccmnist")
    rows, t_paths = protocol.run_plan(plan, folder, options.device, options.quiet)
    summary = plan.dataset.summary()["domains"]
    dependence = {name: summary[name]["dependence"] for name in plan.dataset.domain_names}
    targets = list(plan.targets or plan.dataset.domain_names)
    table = protocol.results_table(
        rows,
        plan.methods,
        targets,
        dependence,
        PAPER if targets == ["red", "green", "blue"] else None,
    )
    plot = protocol.plot_dp_vs_dependence(
        rows,
        {t: dependence[t] for t in targets},
        folder / "dp-vs-dependence.png",
        title="ccMNIST: DP ratio on the held-out domain",
    )
    records_path = folder / "rows.json"
    records.write_json(records_path, rows)
    lines = [
        f"# FDDG on ccMNIST ({'quick' if options.quick else 'full'})",
        "",
        f"{plan.data_options['subsample']} images per domain, {plan.seeds} seed(s), "
        f"{plan.steps} classifier steps (hparams {plan.hparams}), T: {plan.t_steps} steps. "
        "Cells: DP ratio / fairness AUC / accuracy (%) on the held-out domain at the last "
        "step, mean ± sample std over seeds; Avg = mean over targets. Column headers give each "
        "domain's dependence score.",
        "",
        table,
        "",
        "Targets (averages over held-out domains):",
        *protocol.checks(rows),
        "",
    ]
    if _bool(options.extra.get("diagnostics", True)):
        lines += [
            "Transformation models (full T, one per target; probes trained on the "
            "sources' training rows):",
            "",
            *diagnose(plan, t_paths, folder, 100 if options.quick else 1000),
            "",
            f"Figure-4 grids: {folder}/grid-<target>.png (original, reconstruction, "
            "three DataAug samples; validation rows of the source domains).",
        ]
    lines += [
        f"DP ratio vs dependence: {plot}",
        f"Per-run rows: {records_path}",
        f"Wall time: {time.perf_counter() - started:.0f} s",
    ]
    return "\n".join(lines)
