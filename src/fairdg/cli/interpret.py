"""``fairdg interpret RUN_DIR``: probes, re-attachment and pictures of a trained run.

Prints the linear-probe accuracies of the frozen representation (target and sensitive
attribute, overall and per group) and the re-attachment of z (equation (4) of the affinity
paper: w_r, w_z and the metrics of the "z reattached" model). ``--tsne`` and ``--hist`` write
figure 3 (t-SNE of the representation coloured by target and by group) and figures 5-6
(histograms of r per group), with ``--baseline RUN_DIR`` drawn next to the run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fairdg.cli import flags
from fairdg.cli.common import fmt, print_table


def add_parser(sub) -> None:
    p = sub.add_parser(
        "interpret",
        help="probes, re-attachment of z, t-SNE and histograms of a trained run",
        description="Interpret the representation of a finished run folder (fairdg-runs/<id>/): "
        "linear probes for the target and the sensitive attribute, re-attachment of z "
        "(eq. 4), and with --tsne / --hist the PNG figures, next to --baseline when given.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished run folder (with model.pt)")
    p.add_argument("--baseline", metavar="RUN_DIR", help="a baseline run folder to compare with")
    p.add_argument("--tsne", action="store_true", help="write tsne.png and .pdf (figure 3)")
    p.add_argument("--hist", action="store_true", help="write r_hist.png and .pdf (figures 5, 6)")
    p.add_argument(
        "--samples", type=int, default=2000, help="test samples in the t-SNE (default: 2000)"
    )
    flags.seed(p, help="seed of the subsample and the t-SNE")
    flags.output(p, help="folder of the PNGs (default: RUN_DIR/interpret)")
    flags.device(p)
    p.set_defaults(func=interpret_command)


def interpret_command(args: argparse.Namespace) -> int:
    from fairdg.interpret import (
        linear_probes,
        load_run,
        plot_r_histograms,
        plot_tsne,
        pooled,
        reattach,
        representations,
        subsample,
    )

    if args.samples < 2:
        raise ValueError(f"--samples must be at least 2, got {args.samples}")
    runs = [("run", load_run(args.run_dir, device=args.device))]
    if args.baseline:
        runs.insert(0, ("baseline", load_run(args.baseline, device=args.device)))
    named = [(f"{label} ({r.config.algorithm})", r) for label, r in runs]
    results = {}
    for name, run in named:
        probes = linear_probes(run.algorithm, run.split)
        binary = run.dataset.num_classes == 2
        results[name] = (probes, reattach(run.algorithm, run.split) if binary else None)
    _print(named, results)

    output = Path(args.output) if args.output else Path(args.run_dir) / "interpret"
    dataset = named[-1][1].dataset
    if args.tsne:
        panels = []
        for name, run in named:
            x, y, z = pooled(run.split, "test")
            pick = subsample(len(y), args.samples, args.seed)
            panels.append((name, representations(run.algorithm, x[pick]), y[pick], z[pick]))
        path = plot_tsne(
            panels,
            output / "tsne.png",
            class_names=dataset.class_names,
            group_names=dataset.group_names,
            seed=args.seed,
        )
        print(f"t-SNE written to {path} and {path.with_suffix('.pdf')}")
    if args.hist:
        fits = [(name, fit) for name, _ in named if (fit := results[name][1]) is not None]
        if not fits:
            raise ValueError("--hist needs a binary target (the re-attachment's r)")
        hist = [
            (n, f.r_test, f.z_test)
            for n, f in fits
            if f.r_test is not None and f.z_test is not None
        ]
        path = plot_r_histograms(hist, output / "r_hist.png", group_names=dataset.group_names)
        print(f"histograms written to {path} and {path.with_suffix('.pdf')}")
    return 0


def _print(named, results) -> None:
    groups = named[-1][1].dataset.group_names
    keys = ["target_accuracy", "sensitive_accuracy", "sensitive_majority"]
    keys += [f"sensitive_accuracy/{g}" for g in groups] + [f"target_accuracy/{g}" for g in groups]
    print("linear probes on the frozen representation (fit on train, test accuracy)")
    print_table(
        ["probe", *(n for n, _ in named)],
        [[k, *(results[n][0].get(k) for n, _ in named)] for k in keys],
    )
    fitted = [(n, results[n][1]) for n, _ in named if results[n][1] is not None]
    if not fitted:
        return
    print("\nre-attachment of z (eq. 4): y_hat = sigmoid(w_r r + w_z z + b), r standardised")
    rows = [["w_r", *(f.w_r for _, f in fitted)]]
    for g in groups[1:]:
        rows.append([f"w_z ({g} vs {groups[0]})", *(f.w_z[g] for _, f in fitted)])
    rows.append(["b", *(f.b for _, f in fitted)])
    for m in ("accuracy", "dp_diff", "eopp_diff", "tnr_diff"):
        rows.append([m, *(f.metrics.get(m) for _, f in fitted)])
    print_table(["", *(n for n, _ in fitted)], [[r[0], *map(fmt, r[1:])] for r in rows])
