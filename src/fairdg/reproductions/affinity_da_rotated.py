"""Reproduction of the affinity paper's MNIST -> MNIST-R few-shot adaptation (section 4):
Table 6 and figure 7.

``fairdg reproduce affinity-da-rotated [--quick] [--seeds N] [--option steps=2000]
[--option lambda=0.3] [--option form=symmetric] [--option per_class=[1,5,10,20,50,100]]
[--option degrees=15] [--option translate=0.1] [--option figure=false]``; needs the MNIST files
(``$FAIRDG_DATA/mnist`` or ``--option root=DIR``).

Setting (paper): source MNIST (1,000 or 10,000 training images), target MNIST-R (every image
rotated by 30 degrees), 200 labelled target images (20 per class), MLP 784-128-128-20 (ReLU;
the affinity loss acts on the 20 units, the domain is the ignored attribute), accuracy on the
10,000 rotated test images. The paper gives no steps, batch, optimiser or lambda: we train 2,000
Adam steps (lr 1e-3) on 64 source + 64 target rows, and lambda 0.3 was picked on 3,000 rotated
*training* images (never the test set) among 0.03, 0.1, 0.3, 1 and 10 (seed 0, 10,000 source
images; docs/affinity.md). The augmentation baseline rotates each target image by a random
angle in [-15, 15] degrees and shifts it by up to 10% of its size (torchvision's
``RandomAffine(15, translate=(0.1, 0.1))``), drawn anew at every step; the paper does not give
its augmentation. Two more columns are ours, not the paper's: the same 200 target samples without
augmentation, and the augmented target samples alone. See `fairdg.reproductions.affinity_da`
for the methods.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from fairdg.algorithms.affinity import FORMS
from fairdg.data import load_dataset
from fairdg.networks import MLP
from fairdg.reproductions import ReproOptions
from fairdg.reproductions.affinity_da import (
    LABELS,
    LAMBDA,
    DAData,
    DASettings,
    RunStore,
    collect,
    plot_figure7,
)
from fairdg.reproductions.protocol import (
    check_options,
    choice_option,
    markdown_table,
    mean,
    mean_std,
    paper_cell,
    seeds_for,
    target_line,
)
from fairdg.reproductions.protocol import progress as progress_bar

PAPER_TABLE6 = {  # source samples: (only source, + aug, affinity)
    1000: (0.52, 0.76, 0.78),
    10000: (0.67, 0.76, 0.82),
}
TABLE_METHODS = ("source", "augment", "affinity", "target", "augment-only")
FULL = {
    "steps": 2000,
    "seeds": 3,
    "per_class": (1, 5, 10, 20, 50, 100),
    "figure_methods": ("target", "augment", "affinity"),
    "n_test": None,
}
QUICK = {
    "steps": 800,
    "seeds": 1,
    "per_class": (1, 5, 20, 100),
    "figure_methods": ("augment", "affinity"),
    "n_test": 2000,
}
N_SOURCES = (1000, 10000)
KNOWN = {
    "steps",
    "lambda",
    "form",
    "per_class",
    "degrees",
    "translate",
    "figure",
    "root",
    "n_sources",
}


def _positive(value: Any, name: str) -> list[int]:
    values = sorted({int(v) for v in (value if isinstance(value, list | tuple) else [value])})
    if not values or values[0] < 1:
        raise ValueError(f"affinity-da-rotated: {name} must be integers >= 1, got {value!r}")
    return values


def _settings(options: ReproOptions) -> dict[str, Any]:
    base = dict(QUICK if options.quick else FULL)
    extra = dict(options.extra)
    check_options("affinity-da-rotated", extra, KNOWN)
    form = choice_option("affinity-da-rotated", extra, "form", FORMS, "eq3")
    per_class = _positive(extra.get("per_class", base["per_class"]), "per_class")
    n_sources = _positive(extra.get("n_sources", N_SOURCES), "n_sources")
    train = DASettings(
        steps=int(extra.get("steps", base["steps"])),
        lam=float(extra.get("lambda", LAMBDA)),
        form=form,
        degrees=float(extra.get("degrees", 15.0)),
        translate=float(extra.get("translate", 0.1)),
        device=options.device,
    )
    return {
        "train": train,
        "seeds": seeds_for(options, base["seeds"]),
        "per_class": per_class,
        "n_sources": n_sources,
        "figure_source": n_sources[-1],
        "figure_methods": base["figure_methods"],
        "figure": bool(extra.get("figure", True)),
        "n_test": base["n_test"],
        "root": extra.get("root"),
        "quick": options.quick,
    }


def _loader(s: dict[str, Any]):
    def load(n_source: int | None, per_class: int, seed: int) -> DAData:
        ds = load_dataset(
            "mnist-rotated",
            root=s["root"],
            n_source=n_source,
            target_labeled_per_class=per_class,
            flatten=False,
            seed=seed,
        )
        (d,) = ds.domains
        test = d.test_mask.nonzero().flatten()
        if s["n_test"] is not None:
            g = torch.Generator().manual_seed(seed)
            test = test[torch.randperm(len(test), generator=g)[: s["n_test"]]]
        source = ((d.z == 0) & ~d.test_mask).nonzero().flatten()
        target = d.train_mask.nonzero().flatten()
        return DAData(
            d.x[source], d.y[source], d.x[target], d.y[target], {"target": (d.x[test], d.y[test])}
        )

    return load


def reproduce(options: ReproOptions) -> str:
    """Run Table 6 and figure 7 and return the markdown report."""
    s = _settings(options)
    name = "affinity-da-rotated" + ("-quick" if options.quick else "")
    out = Path(options.output) / name
    store = RunStore(out / "runs.json")
    plan = [
        (method, n_source, 20, seed)
        for seed in s["seeds"]
        for n_source in s["n_sources"]
        for method in TABLE_METHODS
    ]
    plan += [
        (method, s["figure_source"], k, seed)
        for seed in s["seeds"]
        for k in (s["per_class"] if s["figure"] else [])
        for method in s["figure_methods"]
        if (method, s["figure_source"], k, seed) not in plan
    ]
    results = collect(
        plan,
        _loader(s),
        lambda: MLP(784, 20, 128, 2, 0.0),
        s["train"],
        store,
        "rotated",
        lambda items: progress_bar(items, options, "affinity-da-rotated runs"),
    )
    figure = None
    if s["figure"]:
        curves = {
            m: [[r["target"] for r in results[(m, s["figure_source"], k)]] for k in s["per_class"]]
            for m in s["figure_methods"]
        }
        figure = plot_figure7(
            out / "figure7.png",
            s["per_class"],
            curves,
            f"MNIST -> MNIST-R, {s['figure_source']:,} source images, {len(s['seeds'])} seed(s)",
            ("only source", mean(_acc(results, "source", s["figure_source"], 20))),
        )
    return _report(s, results, figure)


def _acc(results, method, n_source, k) -> list[float]:
    return [r["target"] for r in results.get((method, n_source, k), [])]


def _report(s, results, figure) -> str:
    t: DASettings = s["train"]
    lines = [
        "# Few-shot domain adaptation MNIST -> MNIST-R (affinity paper, section 4)",
        "",
        f"{len(s['seeds'])} seed(s) (each its own draw of source and target images), {t.steps} "
        f"steps of Adam (lr {t.lr:g}) on {t.batch} source + {t.batch} target rows, MLP "
        f"784-128-128-20, affinity lambda {t.lam:g} (form `{t.form}`), augmentation: rotation "
        f"in ±{t.degrees:g} degrees and shift up to {t.translate:g} of the size. Accuracy on "
        + (f"{s['n_test']:,} of " if s["n_test"] else "")
        + "the rotated MNIST test images; cells: ours (mean ± sample std over seeds) followed "
        "by the paper's value in parentheses."
        + (
            " Quick mode: fewer steps and test images, not the full protocol."
            if s["quick"]
            else ""
        ),
        "",
        "## Table 6 (200 target samples, 20 per class)",
        "",
    ]
    rows = []
    for n_source in s["n_sources"]:
        paper = PAPER_TABLE6.get(n_source, (None, None, None))
        cells = [
            paper_cell(mean_std(_acc(results, m, n_source, 20)), p)
            for m, p in zip(("source", "augment", "affinity"), paper, strict=True)
        ]
        ours = [mean_std(_acc(results, m, n_source, 20)) for m in ("target", "augment-only")]
        rows.append([f"{n_source:,}", *cells, *ours])
    header = ["# source samples", *(LABELS[m] for m in ("source", "augment", "affinity"))]
    header.append("+ 200 target samples, no augmentation (ours; not in the paper)")
    header.append("200 target samples only, with augmentation (ours; not in the paper)")
    lines.append(markdown_table(header, rows))
    if figure is not None:
        lines += ["", f"## Figure 7 ({s['figure_source']:,} source images)", ""]
        rows = [
            [k, *(mean_std(_acc(results, m, s["figure_source"], k)) for m in s["figure_methods"])]
            for k in s["per_class"]
        ]
        lines.append(
            markdown_table(
                ["target samples per class", *(LABELS[m] for m in s["figure_methods"])], rows
            )
        )
        lines += ["", f"Figure: `{figure}`"]
    lines += _targets(s, results)
    return "\n".join(lines) + "\n"


def _targets(s, results) -> list[str]:
    if not {1000, 10000} <= set(s["n_sources"]):
        return []
    lines = ["", "## Targets" + (" -- quick run, not the full one" if s["quick"] else ""), ""]
    big = {m: mean(_acc(results, m, 10000, 20)) for m in ("augment", "affinity")}
    small = {m: mean(_acc(results, m, 1000, 20)) for m in ("augment", "affinity")}
    lines.append(target_line("10,000 source: affinity", big["affinity"], ">=", 0.80))
    lines.append(
        target_line(
            "10,000 source: affinity - augmentation", big["affinity"] - big["augment"], ">=", 0.03
        )
    )
    lines.append(
        target_line(
            "1,000 source: affinity - augmentation", small["affinity"] - small["augment"], ">=", 0
        )
    )
    return lines


__all__ = ["reproduce"]
