"""A hand-made folder of run records with known selections (the golden input of the reports).

Dataset "toy" has domains A, B, C (in that order). Algorithm "erm": targets A and B, trials 0
and 1, hyperparameter seeds 0 and 1, evaluations at steps 5 and 10; the values below are
chosen so that each selection method picks a different evaluation, identified by its
``test.accuracy``. Algorithm "irm": one run (target A, trial 0) only. Pair runs (A+B, A+C,
B+C) carry the leave-one-domain-out validation accuracies. A few damaged folders test that
problems are reported and skipped. Expected values are worked out in test_selection.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DOMAINS = ("A", "B", "C")

# (target, trial, hparams_seed, step): (val.accuracy, val.dp_ratio, oracle.accuracy, test.acc)
MAIN = {
    ("A", 0, 0, 5): (0.70, 0.90, 0.60, 0.61),
    ("A", 0, 0, 10): (0.80, 0.50, 0.65, 0.62),
    ("A", 0, 1, 5): (0.75, 0.85, 0.70, 0.63),
    ("A", 0, 1, 10): (0.72, 0.95, 0.55, 0.64),
    ("A", 1, 0, 5): (0.60, 0.90, 0.50, 0.71),
    ("A", 1, 0, 10): (0.65, 0.90, 0.52, 0.72),
    ("A", 1, 1, 5): (0.70, 0.70, 0.58, 0.73),
    ("A", 1, 1, 10): (0.68, 0.60, 0.60, 0.74),
    ("B", 0, 0, 5): (0.50, 0.80, 0.40, 0.81),
    ("B", 0, 0, 10): (0.55, 0.85, 0.45, 0.82),
    ("B", 0, 1, 5): (0.52, 0.90, 0.50, 0.83),
    ("B", 0, 1, 10): (0.58, 0.70, 0.42, 0.84),
    ("B", 1, 0, 5): (0.90, 0.99, 0.80, 0.91),
    ("B", 1, 0, 10): (0.85, 0.99, 0.85, 0.92),
    ("B", 1, 1, 5): (0.88, 0.50, 0.90, 0.93),
    ("B", 1, 1, 10): (0.89, 0.95, 0.70, 0.94),
}
# Whole-domain accuracy of the validation domain of pair runs; every value not listed is 0.5.
# (pair, trial, hparams_seed, step, validation domain): accuracy
LODO = {
    (("A", "B"), 0, 1, 10, "B"): 0.9,
    (("A", "C"), 0, 1, 10, "C"): 0.8,  # A, trial 0: hp1 s10
    (("A", "B"), 0, 0, 10, "B"): 1.0,  # would win, but the A+C run lacks step 10 (ineligible)
    (("A", "B"), 1, 0, 5, "B"): 0.9,
    (("A", "C"), 1, 0, 5, "C"): 0.9,  # A, trial 1: hp0 s5
    (("A", "B"), 0, 0, 5, "A"): 0.8,
    (("B", "C"), 0, 0, 5, "C"): 0.8,  # B, trial 0: hp0 s5
    (("A", "B"), 1, 1, 5, "A"): 0.9,
    (("B", "C"), 1, 1, 5, "C"): 0.7,  # B, trial 1: hp1 s5
}
MISSING_STEP = (("A", "C"), 0, 0, 10)


def write_run(
    root: Path,
    name: str,
    config: dict,
    history: list[dict],
    done: bool = True,
    failed: bool = False,
) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    full = {
        "dataset": "toy",
        "data_options": {},
        "algorithm": "erm",
        "hparams": {},
        "hparams_seed": 0,
        "test_domains": [],
        "seed": 0,
        "steps": 10,
        "eval_every": 5,
        "selection": "val.accuracy",
        "transformation": None,
        **config,
        "run_id": name,
    }
    if failed:
        (folder / "failed.json").write_text(
            json.dumps({"run_id": name, "config": full, "error": "ValueError: boom"})
        )
    else:
        (folder / "config.json").write_text(json.dumps(full))
    (folder / "results.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))
    if done:
        (folder / "done.json").write_text(json.dumps({"run_id": name}))
    return folder


def _domain_metrics(held: tuple[str, ...], accuracy: dict[str, float]) -> dict:
    metrics = {}
    for d in DOMAINS:
        acc = accuracy.get(d, 0.5)
        if d == "C" and acc == 0.8:
            # 0.8 on all of C from unequal parts: (20 * 0.5 + 60 * 0.9) / 80
            metrics["C/val"], metrics["C/test"] = (
                {"n": 20, "accuracy": 0.5},
                {"n": 60, "accuracy": 0.9},
            )
            continue
        metrics[f"{d}/val"] = {"n": 10, "accuracy": acc}
        metrics[f"{d}/test"] = {"n": 30 if d in held else 10, "accuracy": acc}
    return metrics


def build_golden(root: Path) -> Path:
    for (target, trial, hp, step), (val, dp, oracle, test) in MAIN.items():
        name = f"erm-{target}-t{trial}-h{hp}"
        history = [] if not (root / name).exists() else None
        record = {
            "step": step,
            "stats": {"loss": 1.0 / step},
            "wall_seconds": 0.1,
            "metrics": {
                "val": {"accuracy": val, "dp_ratio": dp},
                "oracle": {"accuracy": oracle},
                "test": {"accuracy": test, "dp_ratio": test - 0.5, "fairness_auc": 0.5 + hp / 10},
                **_domain_metrics((target,), {}),
            },
        }
        if history is None:
            with open(root / name / "results.jsonl", "a") as handle:
                handle.write(json.dumps(record) + "\n")
        else:
            write_run(
                root, name, {"test_domains": [target], "seed": trial, "hparams_seed": hp}, [record]
            )
    for pair in (("A", "B"), ("A", "C"), ("B", "C")):
        for trial in (0, 1):
            for hp in (0, 1):
                history = []
                for step in (5, 10):
                    if (pair, trial, hp, step) == MISSING_STEP:
                        continue
                    accuracy = {d: LODO.get((pair, trial, hp, step, d), 0.5) for d in pair}
                    history.append(
                        {
                            "step": step,
                            "stats": {},
                            "metrics": {
                                "val": {"accuracy": 0.99},
                                **_domain_metrics(pair, accuracy),
                            },
                        }
                    )
                write_run(
                    root,
                    f"erm-{pair[0]}{pair[1]}-t{trial}-h{hp}",
                    {"test_domains": list(pair), "seed": trial, "hparams_seed": hp},
                    history,
                )
    irm = {
        "step": 10,
        "stats": {},
        "metrics": {
            "val": {"accuracy": 0.9, "dp_ratio": 0.9},
            "oracle": {"accuracy": 0.9},
            "test": {"accuracy": 0.5, "dp_ratio": 0.25, "fairness_auc": 0.75},
            **_domain_metrics(("A",), {}),
        },
    }
    write_run(root, "irm-A-t0-h0", {"algorithm": "irm", "test_domains": ["A"]}, [irm])
    # damaged or unfinished runs: never selected, reported as problems where broken
    best = {
        "step": 10,
        "metrics": {"val": {"accuracy": 1.0, "dp_ratio": 1.0}, "test": {"accuracy": 0.0}},
    }
    write_run(root, "erm-partial", {"test_domains": ["A"], "hparams_seed": 7}, [best], done=False)
    write_run(
        root,
        "erm-crashed",
        {"test_domains": ["A"], "hparams_seed": 8},
        [best],
        done=False,
        failed=True,
    )
    broken = write_run(root, "erm-corrupt", {"test_domains": ["A"], "hparams_seed": 9}, [best])
    (broken / "done.json").write_text("{not json")
    with open(root / "erm-A-t0-h0" / "results.jsonl", "a") as handle:
        handle.write('{"step": 15, "metr')  # a line cut by a crash
    (root / "stray").mkdir()
    (root / "stray" / "config.json").write_text("[1, 2]")
    return root


@pytest.fixture
def golden(tmp_path) -> Path:
    return build_golden(tmp_path / "golden")


@pytest.fixture
def run_writer():
    """`write_run`, for tests that build their own record folders."""
    return write_run
