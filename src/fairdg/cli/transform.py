"""``fairdg transform train|show``: FDDG's transformation model T as an artifact.

``train`` fits T on the training rows of the source domains (held-out domains never seen) and
writes a ``.pt`` artifact that ``fairdg run --algorithm fddg --transformation PATH`` uses.
``show`` prints what an artifact was trained on and, for images, writes the figure-4 grid
(original, reconstruction, three DataAug samples with resampled sensitive and style factors);
``--measure`` adds the diagnostics of `fairdg.transformation.diagnostics`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from fairdg.cli import flags
from fairdg.hparams import parse_assignments
from fairdg.transformation import OBJECTIVES, TransformationConfig, objective_changes


def add_parser(sub) -> None:
    p = sub.add_parser(
        "transform",
        help="train or inspect FDDG's transformation model",
        description="Train FDDG's transformation model T on source domains, or "
        "show one (figure-4 grid, diagnostics).",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")

    t = actions.add_parser("train", help="train T on the source domains and save it")
    _data_flags(t)
    flags.test_domains(t, help="held-out domains T must never see (default: none)")
    flags.seed(t, help="split and initialisation seed (use the classifier runs' seed)")
    flags.steps(t, default=2000)
    t.add_argument(
        "--max-train",
        type=int,
        default=None,
        help="train on at most this many rows (seeded subset; default: all)",
    )
    t.add_argument(
        "--select",
        choices=("val_loss", "last"),
        default="val_loss",
        help="keep the checkpoint with the lowest sources' validation loss (the paper's, "
        "default) or the last step's weights",
    )
    t.add_argument(
        "--no-sensitive",
        action="store_true",
        help="no sensitive factor (content and style only): the FDDG w/o sf ablation",
    )
    t.add_argument(
        "--objective",
        choices=sorted(OBJECTIVES),
        default="ours",
        help="T's loss: 'ours' (default: conditional image discriminator, sensitive cycle, "
        "prior matching added to the paper's terms) or 'paper' (the paper's terms only, as "
        "the T-using competitors MBDG, DDG, FATDM describe it); --set changes apply after it",
    )
    t.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="TransformationConfig field (width=16, batch_size=64, "
        "weights.recon_x=10, ...), repeatable",
    )
    flags.output(t, required=True, help="artifact path to write (.pt)")
    flags.force(t, help="replace an existing --output file")
    flags.device(t)
    flags.quiet(t)
    t.set_defaults(func=train_command)

    s = actions.add_parser("show", help="describe a trained T; PNG grid for images")
    s.add_argument("path", help="artifact written by `fairdg transform train`")
    _data_flags(s)
    flags.output(s, help="PNG file of the figure-4 grid (images); a PDF is written beside it")
    s.add_argument("--rows", type=int, default=8, help="images in the grid (default 8)")
    s.add_argument(
        "--held-out",
        action="store_true",
        help="use rows of the held-out domains (never seen by T) instead of the "
        "sources' validation rows",
    )
    s.add_argument(
        "--measure",
        action="store_true",
        help="also measure label preservation and sensitive-factor control with "
        "probes trained on real data (about a minute on ccMNIST)",
    )
    s.set_defaults(func=show_command)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def _data_flags(p: argparse.ArgumentParser) -> None:
    flags.dataset(p, required=True)
    flags.data_options(p, help="e.g. subsample=4000")


def config_from_flags(
    dataset, assignments: list[str], no_sensitive: bool, objective: str = "ours"
) -> TransformationConfig:
    """The default config for `dataset` with the named `objective`, then ``--set KEY=VALUE``
    changes applied."""
    from fairdg.transformation import default_config

    values = parse_assignments(assignments, "--set")
    weights = {k.split(".", 1)[1]: float(v) for k, v in values.items() if k.startswith("weights.")}
    fields = {k: v for k, v in values.items() if not k.startswith("weights.")}
    known = {f.name for f in dataclasses.fields(TransformationConfig)} - {"input_shape", "weights"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(
            f"--set: unknown field(s) {unknown}; valid: {sorted(known)} and weights.<name>"
        )
    base = objective_changes(objective)
    weights = {**base.pop("weights"), **weights}
    config = default_config(dataset, use_sensitive=not no_sensitive, **{**base, **fields})
    return config.replace(weights={**config.weights, **weights})


def train_command(args: argparse.Namespace) -> int:
    if Path(args.output).exists() and not args.force:
        raise ValueError(
            f"{args.output} already exists; pass --force to replace it or choose another --output"
        )
    from fairdg.data import load_dataset
    from fairdg.transformation import fit_transformation, save_transformation

    dataset = load_dataset(args.dataset, **flags.data_options_of(args))
    config = config_from_flags(dataset, args.set, args.no_sensitive, args.objective)
    model = fit_transformation(
        dataset,
        config,
        test_domains=args.test_domains,
        seed=args.seed,
        steps=args.steps,
        device=args.device,
        quiet=args.quiet,
        max_train=args.max_train,
        select=args.select,
    )
    path = save_transformation(model, args.output)
    meta = model.meta
    print(
        f"transformation model trained on {meta['train_domains']} of {dataset.name} "
        f"(held out: {meta['test_domains'] or 'none'}) in {meta['wall_seconds']:.1f} s; "
        f"written to {path}"
    )
    print("validation (source domains): " + json.dumps(meta["val_metrics"]))
    return 0


def show_command(args: argparse.Namespace) -> int:
    import torch

    from fairdg.data import load_dataset
    from fairdg.transformation import load_transformation
    from fairdg.transformation.diagnostics import augmentation_report, save_grid

    model = load_transformation(args.path)
    meta = model.meta
    print(
        f"{args.path}: {model.config.family} transformation model, "
        f"sensitive factor: {'yes' if model.config.use_sensitive else 'no'}, "
        f"objective: {model.config.objective}"
    )
    print(
        f"  trained on {meta.get('dataset')} domains {meta.get('train_domains')} "
        f"(held out {meta.get('test_domains')}), seed {meta.get('seed')}, "
        f"{meta.get('steps')} steps"
    )
    print("  validation: " + json.dumps(meta.get("val_metrics", {})))
    dataset = load_dataset(args.dataset, **flags.data_options_of(args))
    trained_on = meta.get("dataset")
    shape = tuple(model.config.input_shape)
    if shape != tuple(dataset.input_shape) or trained_on not in (None, dataset.name):
        view = (
            "; it is the in-memory grayscale view of `fairdg reproduce fddg-ccmnist`, which "
            "writes its own grids (grid-<target>.png in the reproduction's folder)"
            if str(trained_on).endswith("-gray")
            else ""
        )
        raise ValueError(
            f"{args.path} was trained on dataset {trained_on!r} with inputs of shape {shape}; "
            f"--dataset {args.dataset} gives {dataset.name!r} with shape "
            f"{tuple(dataset.input_shape)}: pass the dataset and --data-option values T was "
            f"trained with{view}"
        )
    split = dataset.split(int(meta.get("seed", 0)), meta.get("test_domains", []))
    # the sources' validation rows (T's own domains, never trained on), or the held-out ones
    names = split.test_domains if args.held_out and split.test_domains else split.train_domains
    part = "test" if names == split.test_domains else "val"
    x = torch.cat([split.parts[n][part].x for n in names])
    z = torch.cat([split.parts[n][part].z for n in names])
    if args.output:
        if len(dataset.input_shape) != 3:
            raise ValueError(
                f"--output writes an image grid; dataset {dataset.name!r} is not "
                f"an image dataset (input shape {dataset.input_shape})"
            )
        pick = torch.randperm(len(z), generator=torch.Generator().manual_seed(0))[: args.rows]
        png = save_grid(model, x[pick], args.output, z[pick], dataset.group_names)
        print(
            f"grid (original, reconstruction, 3 samples) of {len(pick)} {part} images from "
            f"{names} written to {png} and {png.with_suffix('.pdf')}"
        )
    if args.measure:
        train_rows = [torch.cat([getattr(d, a) for d in split.train()]) for a in "xyz"]
        test_rows = [x, torch.cat([split.parts[n][part].y for n in names]), z]
        report = augmentation_report(
            model, train_rows, test_rows, dataset.num_classes, dataset.num_groups
        )
        print(f"  diagnostics on {part} rows of {names}: " + json.dumps(report))
    if not args.output and not args.measure:
        print("(add --output grid.png for the figure-4 grid, --measure for diagnostics)")
    return 0


__all__ = ["add_parser", "config_from_flags"]
