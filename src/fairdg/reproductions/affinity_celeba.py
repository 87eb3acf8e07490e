"""Reproduction of the affinity paper's CelebA experiment (section 3.3): debiasing a frozen
pretrained network. Table 4 (lambda), Table 5 (with / without z, z reattached), figure 6
(histograms of the re-attachment's r per group).

``fairdg reproduce affinity-celeba [--quick] [--seeds N] [--option weights=vgg19.pth]
[--option root=DIR] [--option target=Attractive] [--option sensitive=Male]
[--option lambda=0.07] [--option steps=2000] [--option image_size=224] [--option figures=true]
[--option fixture=true] [--option n=2000]``

Setting (paper): a fixed ImageNet-pretrained VGG19 and one trainable hidden layer of 124 units
(the representation, trained with the affinity loss) under a linear head; y = Attractive,
z = Male. The VGG19 is frozen, so its 4,096 features (second fully connected layer) are computed
once and cached (`fairdg.networks.feature_cache`); the runs then train ``Linear(4096, 124) +
ReLU -> Linear(124, 2)`` on them. "With z" appends z to those features. Every run is evaluated
at its last step. Not stated by the paper, so ours: batch 128, Adam 1e-3, 2,000 steps, 3 seeds,
validation rows drawn from the non-test partitions.

Data: real CelebA when it is found (``root=`` or ``$FAIRDG_DATA/celeba``), else -- and always
with ``fixture=true`` -- a generated stand-in in CelebA's file formats
(`fairdg.data.celeba_fixture`), which the report says in its first lines. Without
``weights=PATH`` (a torchvision ``vgg19`` state dict, ``.pth`` or ``.safetensors``) the VGG19
has random weights, which the report also says: only real CelebA with ImageNet weights is the
paper's setting.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from fairdg import records as records_io
from fairdg.data import load_dataset
from fairdg.data.celeba import FILES
from fairdg.data.celeba_fixture import write_celeba_fixture
from fairdg.data.sources import DataNotFoundError, locate
from fairdg.interpret import linear_probes, plot_r_histograms, reattach
from fairdg.networks.feature_cache import frozen_features
from fairdg.reproductions import ReproOptions
from fairdg.reproductions.affinity_celeba_report import report
from fairdg.reproductions.protocol import check_options, progress, seeds_for, train_and_load

HPARAMS = {"mlp_depth": 0, "rep_dim": 124, "batch_size": 128, "lr": 1e-3}
LAMBDAS = (0.05, 0.07, 0.1)
FULL = {"steps": 2000, "seeds": 3, "lambdas": LAMBDAS, "fixture_n": 2000, "fixture_size": 64}
QUICK = {"steps": 150, "seeds": 1, "lambdas": (0.07,), "fixture_n": 300, "fixture_size": 32}
KNOWN = {
    "root", "fixture", "weights", "backbone", "target", "sensitive", "lambda", "steps",
    "image_size", "max_per_domain", "figures", "n",
}  # fmt: skip


def _settings(options: ReproOptions) -> dict[str, Any]:
    base = dict(QUICK if options.quick else FULL)
    extra = dict(options.extra)
    check_options("affinity-celeba", extra, KNOWN)
    main = float(extra.get("lambda", 0.07))
    fixture = str(extra.get("fixture", "false")).lower() in ("1", "true", "yes")
    root = extra.get("root")
    if not fixture and root is None:
        try:
            locate("celeba", FILES)
        except DataNotFoundError:
            fixture = True
    real_size = 224  # VGG19's ImageNet input size
    max_rows = extra.get("max_per_domain")
    return {
        "steps": int(extra.get("steps", base["steps"])),
        "seeds": seeds_for(options, base["seeds"]),
        "lambdas": sorted(set(base["lambdas"]) | {main}),
        "lambda": main,
        "fixture": fixture,
        "fixture_n": int(extra.get("n", base["fixture_n"])),
        "root": None if fixture or root is None else str(root),
        "weights": str(extra.get("weights", "")),
        "backbone": str(extra.get("backbone", "vgg19")),
        "target": str(extra.get("target", "Attractive")),
        "sensitive": str(extra.get("sensitive", "Male")),
        "image_size": int(extra.get("image_size", base["fixture_size"] if fixture else real_size)),
        "max_per_domain": None if max_rows is None else int(max_rows),
        "figures": str(extra.get("figures", not options.quick)).lower() in ("1", "true", "yes"),
        "quick": options.quick,
    }


def _with_z(dataset):
    """The features with z appended as one more input column ("baseline with z")."""
    domains = [
        replace(d, x=torch.cat([d.x, d.z.float().unsqueeze(1)], 1)) for d in dataset.domains
    ]
    return replace(dataset, domains=domains, input_shape=(dataset.input_shape[0] + 1,))


def _features(options: ReproOptions, out: Path, s: dict[str, Any]):
    root = s["root"]
    if s["fixture"]:
        root = str(write_celeba_fixture(out / f"celeba-fixture-{s['fixture_n']}", s["fixture_n"]))
    images = load_dataset(
        "celeba",
        root=root,
        target=s["target"],
        sensitive=s["sensitive"],
        image_size=s["image_size"],
        max_per_domain=s["max_per_domain"],
    )
    hp = {"backbone": s["backbone"], "pretrained": s["weights"], "freeze": "all"}
    features = frozen_features(images, hp, options.device, quiet=options.quiet)
    identity = {
        "target": s["target"],
        "sensitive": s["sensitive"],
        "image_size": s["image_size"],
        "features": features.meta["features"].split(" ")[1].strip("(),"),
        "fixture": s["fixture_n"] if s["fixture"] else None,
        "max_per_domain": s["max_per_domain"],
    }
    return features, identity


def reproduce(options: ReproOptions) -> str:
    """Run Tables 4 and 5 (and figure 6) and return the markdown report."""
    s = _settings(options)
    out = Path(options.output) / ("affinity-celeba-quick" if options.quick else "affinity-celeba")
    features, identity = _features(options, out, s)
    features_z = _with_z(features)

    def run(kind: str, seed: int, lam: float | None, load: bool):
        hp = dict(HPARAMS) if lam is None else {**HPARAMS, "affinity_lambda": lam}
        return train_and_load(
            options,
            out,
            features_z if kind == "erm+z" else features,
            algorithm="affinity" if lam is not None else "erm",
            hparams=hp,
            seed=seed,
            steps=s["steps"],
            data_options={**identity, "with_z": kind == "erm+z"},
            load=load,
        )

    plan = [("erm", seed, None) for seed in s["seeds"]]
    plan += [("affinity", seed, lam) for lam in s["lambdas"] for seed in s["seeds"]]
    records = {}
    for kind, seed, lam in progress(plan, options, "affinity-celeba runs"):
        records[(kind, seed, lam)] = run(kind, seed, lam, load=False)[0]
    analyses: dict[str, list[dict]] = {"erm+z": [], "erm": [], "affinity": [], "reattached": []}
    fits: dict[str, list] = {"erm": [], "affinity": []}
    for seed in progress(s["seeds"], options, "probes"):
        for kind, lam in (("erm+z", None), ("erm", None), ("affinity", s["lambda"])):
            record, loaded = run(kind, seed, lam, load=True)
            probes = linear_probes(loaded.algorithm, loaded.split)
            analyses[kind].append({**record["metrics"]["test"], **probes})
            if kind in fits:
                fit = reattach(loaded.algorithm, loaded.split)
                fits[kind].append(fit)
                if kind == "affinity":
                    analyses["reattached"].append({**fit.metrics, **fit.sensitive_probe})
    figure = _figure(out, fits, s, features) if s["figures"] else None
    _dump(out, s, records, analyses, fits)
    return report(s, records, analyses, fits, figure, features.group_names)


def _figure(out: Path, fits, s, dataset) -> Path:
    """Figure 6: histograms of r (eq. 4) per group, baseline vs affinity, first seed."""
    return plot_r_histograms(
        [
            ("baseline", fits["erm"][0].r_test, fits["erm"][0].z_test),
            (f"affinity (lambda {s['lambda']:g})", fits["affinity"][0].r_test,
             fits["affinity"][0].z_test),
        ],
        out / "r_hist.png",
        group_names=dataset.group_names,
    )  # fmt: skip


def _dump(out: Path, s, records, analyses, fits) -> None:
    data = {
        "settings": s,
        "runs": [
            {"kind": k, "seed": seed, "lambda": lam, "run_id": r["run_id"],
             "test": r["metrics"]["test"]}
            for (k, seed, lam), r in records.items()
        ],
        "analyses": analyses,
        "reattachment": {
            k: [{"w_r": f.w_r, "w_z": f.w_z, "b": f.b} for f in v] for k, v in fits.items()
        },
    }  # fmt: skip
    records_io.write_json(out / "results.json", json.loads(json.dumps(data, default=float)))


__all__ = ["reproduce"]
