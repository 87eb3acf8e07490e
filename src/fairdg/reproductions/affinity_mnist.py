"""Reproduction of the affinity paper's MNIST / MNIST-I experiment (section 2.1): Table 1a
(lambda), Table 1b (size of the representation) and the t-SNE of figure 3. Needs the MNIST
files (``$FAIRDG_DATA/mnist`` or ``--option root=DIR``).

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

from dataclasses import dataclass

from fairdg.algorithms.affinity import FORMS
from fairdg.data import load_dataset
from fairdg.experiments.launchers import dataset_key
from fairdg.interpret import linear_probes
from fairdg.reproductions.protocol import (
    BaseSpec,
    Plan,
    Results,
    markdown_table,
    mean,
    mean_std,
    option,
    paper_cell,
    quick_note,
    target_line,
    tsne_png,
    write_results,
)

HPARAMS = {"mlp_depth": 2, "mlp_width": 128, "rep_dim": 20, "batch_size": 128, "lr": 1e-3}
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


@dataclass(frozen=True)
class Spec(BaseSpec):
    """The options of ``affinity-mnist``."""

    seeds: int = option(5, 1, "trials")
    steps: int = option(3000, 200, "training steps")
    lambdas: list[float] = option([0.0, 1e-4, 1e-3, 1e-2, 1e-1], [0.0, 1e-2], "Table 1a")
    rep_dims: list[int] = option([1, 5, 10, 20, 50, 100], [5, 20], "Table 1b")
    lambda_: float = option(1e-2, help="the lambda of Table 1b")
    form: str = option("eq3", help="the affinity loss's form", choices=tuple(FORMS))
    figures: bool = option(True, False, "the t-SNE of figure 3")
    root: str = option("", help="folder of the MNIST files (default: $FAIRDG_DATA/mnist)")

    def data(self) -> dict:
        """The loader's options (a subsample in quick mode) without the data's location."""
        return {"n_train": 2000, "n_test": 500} if self.quick else {}

    def cells(self) -> list[tuple[float, int]]:
        cells = [(lam, 20) for lam in self.lambdas]
        return cells + [(self.lambda_, r) for r in self.rep_dims if (self.lambda_, r) not in cells]


def plan(spec: Spec) -> Plan:
    """Every (lambda, representation size) of both tables, for every seed."""
    dataset = load_dataset("mnist-inverted", root=spec.root or None, **spec.data())
    result = Plan(datasets={dataset_key(dataset.name, spec.data()): dataset})
    for lam, rep in spec.cells():
        for seed in range(spec.seeds):
            hparams = {**HPARAMS, "rep_dim": rep}
            if lam > 0:  # the form explicitly: runs of another default get another run id
                hparams.update(affinity_lambda=lam, **FORMS[spec.form])
            result.runs[(lam, rep, seed)] = spec.config(
                dataset="mnist-inverted", data_options=spec.data(), hparams=hparams,
                algorithm="affinity" if lam > 0 else "erm", seed=seed, steps=spec.steps,
                eval_every=spec.steps, output_dir=str(spec.out / "runs"),
            )  # fmt: skip
    return result


def report(results: Results, spec: Spec) -> str:
    """Tables 1a and 1b (probes of every run), the t-SNE and the targets."""
    found: dict[tuple[float, int], list[dict]] = {cell: [] for cell in spec.cells()}
    keep = {}
    for lam, rep, seed in results.plan.runs:
        record, run = results.record((lam, rep, seed)), results.load((lam, rep, seed))
        found[(lam, rep)].append(
            {"classifier_accuracy": record["metrics"]["test"]["accuracy"],
             "run_id": record["run_id"], **linear_probes(run.algorithm, run.split)}
        )  # fmt: skip
        if seed == 0 and rep == 20 and lam in (0.0, spec.lambda_):
            keep[lam] = run
    names = {0.0: "baseline (lambda 0)", spec.lambda_: f"affinity (lambda {spec.lambda_:g})"}
    runs = {names[lam]: keep[lam] for lam in (0.0, spec.lambda_) if lam in keep}
    figure = tsne_png(spec.out / "tsne.png", runs) if spec.figures and len(keep) == 2 else None
    cells = [{"lambda": lam, "rep_dim": rep, "runs": runs} for (lam, rep), runs in found.items()]
    write_results(spec, data=spec.data(), cells=cells)
    return _report(spec, found, figure)


def _cell(runs: list[dict], key: str, paper: tuple[float, float] | None) -> str:
    ours = mean_std([r.get(key) for r in runs], digits=3)
    return paper_cell(ours, None if paper is None else f"{paper[0]:g} ± {paper[1]:g}")


def _rows(found, cells, paper) -> list[list[str]]:
    rows = [
        [label, *(_cell(found[c], key, paper[k][index] if k in paper else None)
                  for c, k in cells)]
        for label, key, index in (("accuracy digits (probe)", "target_accuracy", 0),
                                  ("accuracy sensitive (probe)", "sensitive_accuracy", 1))
    ]  # fmt: skip
    for label, key in (("sensitive probe AUC", "sensitive_auc"),
                       ("classifier test accuracy", "classifier_accuracy")):  # fmt: skip
        rows.append([label, *(_cell(found[c], key, None) for c, _ in cells)])
    rows.append(
        ["active units of the representation",
         *(mean_std([r.get("rep_active_units") for r in found[c]], 1) for c, _ in cells)]
    )  # fmt: skip
    return rows


def _report(spec: Spec, found, figure) -> str:
    data = {**spec.data(), "root": spec.root} if spec.root else spec.data()
    lines = [
        "# Affinity loss on MNIST / MNIST-I (affinity paper, section 2.1)",
        "",
        f"{spec.seeds} seed(s), {spec.steps} steps, batch 128, MLP 784-128-128-rep, loss form "
        f"`{spec.form}`; probes refitted on "
        "the frozen representation (train split), accuracies on the test split (MNIST test "
        "images and their inverted copies). Cells: ours (mean ± sample std over seeds) followed "
        "by the paper's (mean ± std over 5 runs). Chance for the sensitive probe: 0.5."
        + (f" Data options: {data}." if data else ""),
        "",
        "## Table 1a: lambda (representation size 20)",
        "",
    ]  # fmt: skip
    cells = [((lam, 20), lam) for lam in spec.lambdas]
    header = ["lambda", *(f"{lam:g}" for _, lam in cells)]
    lines.append(markdown_table(header, _rows(found, cells, PAPER_1A)))
    lines += ["", f"## Table 1b: representation size (lambda {spec.lambda_:g})", ""]
    cells = [((spec.lambda_, rep), rep) for rep in spec.rep_dims]
    paper_1b = PAPER_1B if spec.lambda_ == 1e-2 else {}
    header = ["layer size", *(str(rep) for _, rep in cells)]
    lines.append(markdown_table(header, _rows(found, cells, paper_1b)))
    if figure:
        lines += ["", f"t-SNE (figure 3): `{figure}`"]
    main, base = found.get((spec.lambda_, 20), []), found.get((0.0, 20), [])
    lines += ["", "## Targets (full mode, lambda 0.01, rep 20)" + quick_note(spec), ""]
    for name, runs, key, op, bound in (
        ("affinity digit probe", main, "target_accuracy", ">=", 0.93),
        ("affinity sensitive probe", main, "sensitive_accuracy", "<=", 0.60),
        ("baseline sensitive probe", base, "sensitive_accuracy", ">=", 0.95),
    ):
        if runs:
            lines.append(target_line(name, mean([r[key] for r in runs]), op, bound))
    return "\n".join(lines) + "\n"
