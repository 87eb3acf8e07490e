"""``fairdg run``: train one algorithm on one dataset and print its metrics next to a baseline.

With no arguments: Affinity (the affinity loss, lambda 0.01, rep 20) on the bundled UCI Adult
data, compared with ERM trained on the same data, split and seed.
"""

from __future__ import annotations

import argparse
import sys
import time

from fairdg.algorithms import ALGORITHMS
from fairdg.cli import flags
from fairdg.cli.common import add_run_flags, config_kwargs, fmt, print_table
from fairdg.metrics.catalogue import RUN_TABLE as TABLE_METRICS
from fairdg.metrics.degenerate import DEFAULT_MIN_POSITIVE_RATE
from fairdg.records import variant_name
from fairdg.reporting.tables import DAGGER, is_fairness
from fairdg.training import RunConfig, train
from fairdg.training.distributed import is_main
from fairdg.training.evaluate import degenerate_line

SETS = ("val", "test", "oracle")
RUN_NOTE = (
    f"constant predictor (positive rate outside [{DEFAULT_MIN_POSITIVE_RATE:g}, "
    f"{1 - DEFAULT_MIN_POSITIVE_RATE:g}] or no score spread): its fairness figures describe a "
    "model that does not decide, not a fair one"
)
DEFAULT_ALGORITHM = "affinity"
DEFAULT_COMPARE = "erm"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="train and evaluate one run (and a baseline to compare with)",
        description="Train an algorithm on a dataset and print validation and test metrics, "
        "next to those of a baseline trained on the same split and seed (--compare). With no "
        "arguments: Affinity on the bundled UCI Adult data, compared with ERM.",
    )
    add_run_flags(p, algorithm=DEFAULT_ALGORITHM)
    p.add_argument(
        "--compare",
        default=DEFAULT_COMPARE,
        metavar="ALGORITHM",
        help=f"also train this algorithm with the same flags and print both (default: "
        f"{DEFAULT_COMPARE}; 'none' to skip); each receives the --hparam keys it declares",
    )
    flags.compile(p)
    flags.force(p, help="rerun even if an identical run is already complete")
    p.set_defaults(func=run_command)


def _compare_config(config: RunConfig, name: str) -> tuple[RunConfig, list[str]]:
    """`config` for algorithm `name`, with the transformation model only when it uses one."""
    if config.transformation is None or ALGORITHMS.get(name).USES_TRANSFORMATION:
        return config.replace(algorithm=name), []
    return config.replace(algorithm=name, transformation=None), ["--transformation"]


def _with_declared_hparams(configs: list[RunConfig]) -> list[RunConfig]:
    """Each config with the --hparam keys its algorithm declares (a note for what is left out);
    a key that none of the algorithms declares is an error before anything trains."""
    overrides = configs[0].hparams
    per_algorithm = flags.split_hparams([c.algorithm for c in configs], overrides)
    kept = []
    for config in configs:
        hparams = per_algorithm[config.algorithm]
        dropped = sorted(set(overrides) - set(hparams))
        if dropped:
            print(
                f"note: {config.algorithm} runs without --hparam {', '.join(dropped)} "
                "(not its hyperparameters)"
            )
        kept.append(config.replace(hparams=hparams))
    return kept


# The knobs that make a run a fairness variant of its algorithm (`records.variant_name`).
FAIRNESS_KNOBS = ("fair_lambda", "fair_tolerance", "fair_dual_step")


def _plain(config: RunConfig) -> RunConfig:
    """The baseline is the plain algorithm: the fairness penalty or constraint is not passed on
    (nor ``fair_metric``, which only says what they measure, unless it is the baseline's own
    constraint, as for the fairlearn models)."""
    knobs = list(FAIRNESS_KNOBS)
    if "fair_lambda" in ALGORITHMS.get(config.algorithm).declared_hparams():
        knobs.append("fair_metric")
    dropped = [k for k in knobs if k in config.hparams]
    if not dropped:
        return config
    print(f"note: {config.algorithm} (the baseline) runs without --hparam {', '.join(dropped)}")
    hparams = {k: v for k, v in config.hparams.items() if k not in dropped}
    return config.replace(hparams=hparams)


def run_command(args: argparse.Namespace) -> int:
    config = RunConfig(**config_kwargs(args))
    configs = [config]
    compare = str(args.compare).lower()
    same = compare == config.algorithm.lower() and variant_name(compare, config.hparams) == compare
    if compare not in ("none", "") and not same:  # erm+fair_lambda is compared with plain erm
        ALGORITHMS.entry(compare)  # unknown name: error before any training
        other, dropped = _compare_config(config, compare)
        if dropped:
            print(f"note: {compare} runs without {', '.join(dropped)} (not its options)")
        configs.append(other)
    configs = _with_declared_hparams(configs)
    configs[1:] = [_plain(c) for c in configs[1:]]
    rows, notes = [], []
    for cfg in configs:
        result = train(cfg, force=args.force)
        if not is_main():  # torchrun: rank 0 reports
            continue
        record = result.record
        name = variant_name(record["algorithm"], record.get("hparams"))
        print(
            f"{name} on {record['dataset']}: {record['steps']} steps, "
            f"selected step {record['selected_step']} by {record['selection']}, "
            f"{_timing(result)}; run folder {result.run_dir}"
        )
        if record.get("selection_note"):
            print(f"note: {name}: {record['selection_note']}")
        line = degenerate_line(record["metrics"])
        if line:  # a constant model is "fair" by every measure: say so
            print(f"fairdg: warning: {name} on {line}", file=sys.stderr)
        for s in (s for s in SETS if s in record["metrics"]):  # done.json sorts its keys
            values = record["metrics"][s]
            reasons = values.get("undefined") or {}
            rows.append([name, s, *(_cell(values, reasons, m) for m in TABLE_METRICS)])
            notes += [f"{name} {s}: {reasons[m]}" for m in TABLE_METRICS if m in reasons]
    if not is_main():
        return 0
    print()
    print_table(["algorithm", "set", *TABLE_METRICS], rows)
    if notes:
        print("\n– undefined: " + "\n  ".join(dict.fromkeys(notes)))
    if any(DAGGER in str(cell) for row in rows for cell in row):
        print(f"\n{DAGGER} {RUN_NOTE}")
    return 0


def _timing(result) -> str:
    """The wall time of a run trained now, or when a reused run was trained."""
    if not result.reused:
        return f"{result.record['wall_seconds']:.1f} s"
    done = result.run_dir / "done.json"
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(done.stat().st_mtime))
    return f"reused (trained {when})"


def _cell(values: dict, reasons: dict, metric: str) -> object:
    """The metric, "–" when the record marks it undefined, and a dagger on the fairness figures
    of a set whose predictions are degenerate (a constant predictor)."""
    if metric in reasons:
        return "–"
    value = values.get(metric)
    if values.get("degenerate") and is_fairness(metric) and value is not None:
        return f"{fmt(value)}{DAGGER}"
    return value
