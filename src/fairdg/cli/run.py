"""``fairdg run``: train one algorithm on one dataset and print its metrics next to a baseline.

With no arguments: Affinity (the affinity loss, lambda 0.01, rep 20) on the bundled UCI Adult
data, compared with ERM trained on the same data, split and seed. ``--config RUN_DIR`` (or its
``config.json``) runs a recorded run again: the same configuration, hence the same run id.

Every name, option and selection is checked before torch is imported; the hyperparameters right
after (they are declared beside the algorithms' torch code), before any data load.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import sys
import time
from pathlib import Path

from fairdg import records
from fairdg.cli import flags
from fairdg.cli.common import fmt, print_table
from fairdg.metrics.catalogue import CATALOGUE
from fairdg.metrics.catalogue import RUN_TABLE as TABLE_METRICS
from fairdg.metrics.degenerate import DEFAULT_MIN_POSITIVE_RATE
from fairdg.records import variant_name
from fairdg.registry import unknown_name_message
from fairdg.training.config import RunConfig, algorithm_names, check_registered

SETS = ("val", "test", "oracle")
DAGGER = "†"  # as in the report tables (fairdg.reporting.tables)
RUN_NOTE = (
    f"constant predictor (positive rate outside [{DEFAULT_MIN_POSITIVE_RATE:g}, "
    f"{1 - DEFAULT_MIN_POSITIVE_RATE:g}] or no score spread): its fairness figures describe a "
    "model that does not decide, not a fair one"
)
DEFAULT_ALGORITHM = "affinity"
DEFAULT_COMPARE = "erm"
BASE = RunConfig(algorithm=DEFAULT_ALGORITHM)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="train and evaluate one run (and a baseline to compare with)",
        description="Train an algorithm on a dataset and print validation and test metrics, "
        "next to those of a baseline trained on the same split and seed (--compare). With no "
        "arguments: Affinity on the bundled UCI Adult data, compared with ERM.",
    )
    flags.run_config(p, BASE)
    p.add_argument(
        "--config",
        metavar="RUN_DIR",
        help="run a recorded run again: its folder or its config.json (same configuration, "
        "same run id; written beside it unless --output says otherwise; no --compare unless "
        "given); flags given as well change it",
    )
    p.add_argument(
        "--compare",
        default=flags.UNSET,
        metavar="ALGORITHM",
        help=f"also train this algorithm with the same flags and print both (default: "
        f"{DEFAULT_COMPARE}; 'none' to skip); each receives the --hparam keys it declares",
    )
    flags.json(
        p, help="print each run's final record (done.json) as one JSON line, and nothing else"
    )
    flags.force(p, help="rerun even if an identical run is already complete")
    p.set_defaults(func=run_command)


def replayed(path: str) -> RunConfig:
    """The `RunConfig` recorded in a run folder's ``config.json`` (`path`: the folder or the
    file), written to the folder that holds the run; its run id must still be the recorded one.
    """
    file = Path(path) / "config.json" if Path(path).is_dir() else Path(path)
    stored = records.read_json(file)  # a clear error for a missing or unreadable file
    if not isinstance(stored, dict):
        raise ValueError(f"--config {file}: not a run's config.json")
    recorded = stored.pop("run_id", None)
    config = RunConfig.from_dict(stored).replace(output_dir=str(file.parent.parent))
    if recorded is not None and recorded != config.run_id():
        raise ValueError(
            f"--config {file}: recorded as run {recorded}, but this fairdg version computes "
            f"run id {config.run_id()} for it; it cannot be replayed as the same run"
        )
    return config


def _configs(args: argparse.Namespace) -> list[RunConfig]:
    """The run and its comparison, every name checked (no torch yet)."""
    config = flags.config_of(args, replayed(args.config) if args.config else BASE)
    check_registered(config)
    configs = [config]
    compare = getattr(args, "compare", "none" if args.config else DEFAULT_COMPARE)
    compare = str(compare).lower()
    same = compare == config.algorithm.lower() and variant_name(compare, config.hparams) == compare
    if compare not in ("none", "") and not same:  # erm+fair_lambda: compared with plain erm
        if compare not in algorithm_names():
            raise ValueError(unknown_name_message("algorithm", compare, algorithm_names()))
        configs.append(config.replace(algorithm=compare))
    return configs


def _with_declared_hparams(configs: list[RunConfig], notes) -> list[RunConfig]:
    """Each config with the --hparam keys its algorithm declares (a note for what is left out)
    and the transformation model only when it uses one; a key that none of the algorithms
    declares, or a value a knob refuses, is an error before any data load."""
    from fairdg.algorithms import ALGORITHMS  # torch: after every name is checked
    from fairdg.hparams import check_overrides

    overrides = configs[0].hparams
    per_algorithm = flags.split_hparams([c.algorithm for c in configs], overrides)
    kept = []
    for n, config in enumerate(configs):
        hparams = per_algorithm[config.algorithm]
        dropped = sorted(set(overrides) - set(hparams))
        if dropped:
            notes(f"note: {config.algorithm} runs without --hparam {', '.join(dropped)}")
        config = config.replace(hparams=hparams)
        if n:  # the baseline is the plain algorithm
            config = _plain(config, notes)
        cls = ALGORITHMS.get(config.algorithm)
        if n and config.transformation is not None and not cls.USES_TRANSFORMATION:
            notes(f"note: {config.algorithm} runs without --transformation (not its option)")
            config = config.replace(transformation=None)
        check_overrides(cls.declared_hparams(), config.hparams)
        kept.append(config)
    return kept


# The knobs that make a run a fairness variant of its algorithm (`records.variant_name`).
FAIRNESS_KNOBS = ("fair_lambda", "fair_tolerance", "fair_dual_step", "fair_rate_ema")


def _plain(config: RunConfig, notes=print) -> RunConfig:
    """The baseline is the plain algorithm: the fairness penalty or constraint is not passed on
    (nor ``fair_metric``, which only says what they measure, unless it is the baseline's own
    constraint, as for the fairlearn models)."""
    from fairdg.algorithms import ALGORITHMS  # torch: after every name is checked

    knobs = list(FAIRNESS_KNOBS)
    if "fair_lambda" in ALGORITHMS.get(config.algorithm).declared_hparams():
        knobs.append("fair_metric")
    dropped = [k for k in knobs if k in config.hparams]
    if not dropped:
        return config
    notes(f"note: {config.algorithm} (the baseline) runs without --hparam {', '.join(dropped)}")
    hparams = {k: v for k, v in config.hparams.items() if k not in dropped}
    return config.replace(hparams=hparams)


def run_command(args: argparse.Namespace) -> int:
    def notes(text: str) -> None:  # with --json, stdout holds the records alone
        print(text, file=sys.stderr if args.json else sys.stdout)

    configs = _configs(args)
    configs = _with_declared_hparams(configs, notes)
    from fairdg.training.distributed import is_main  # torch: after every check

    results = _train_all(configs, args.force)
    if not is_main():  # torchrun: rank 0 reports
        return 0
    if args.json:
        for result in results:
            print(json.dumps(result.record, sort_keys=True))
        return 0
    _print_results(results)
    return 0


def _train_all(configs: list[RunConfig], force: bool) -> list:
    """Each run's `RunResult` (without its model). The data are loaded once for the runs still
    to train; on the CPU with a core per run the runs train side by side, each in a forked
    process with its share of the cores (the quick start: Affinity and ERM on Adult on one
    thread each give the same records as one after the other on two threads, where the threads
    of such small layers mostly wait for each other)."""
    from fairdg.data import load_dataset
    from fairdg.experiments.launchers import side_by_side, start_method, usable_cores

    todo = [
        c for c in configs if force or not (Path(c.output_dir) / c.run_id() / "done.json").exists()
    ]
    first = configs[0]
    same = all((c.dataset, c.data_options) == (first.dataset, first.data_options) for c in configs)
    dataset = load_dataset(first.dataset, **first.data_options) if same and todo else None
    threads = _threads_each(todo, usable_cores())
    if threads and start_method([]) == "fork":
        if sys.stderr.isatty():  # one progress bar: the first run's
            configs = [configs[0], *(c.replace(quiet=True) for c in configs[1:])]
        return side_by_side(
            [functools.partial(_trained, c, dataset, force) for c in configs], threads
        )
    return [_trained(c, dataset, force) for c in configs]


def _threads_each(configs: list[RunConfig], cores: int) -> int:
    """Torch threads per run side by side; 0 where they train one after the other (one run,
    fewer cores than runs, a device other than the CPU, or processes of torchrun)."""
    import torch

    alone = len(configs) < 2 or cores < len(configs) or int(os.environ.get("WORLD_SIZE", "1")) > 1
    if alone or any(c.device != "cpu" for c in configs):
        return 0
    return max(1, min(torch.get_num_threads(), cores // len(configs)))


def _trained(config: RunConfig, dataset, force: bool):
    """The run's `RunResult`, without the model and split (sent back from a worker process)."""
    from fairdg.training import train

    result = train(config, dataset=dataset, force=force)
    return dataclasses.replace(result, algorithm=None, split=None, history=[])


def _print_results(results) -> None:
    from fairdg.training.evaluate import degenerate_line

    rows, notes = [], []
    for result in results:
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
        # done.json sorts its keys; a set without rows (--test-fraction 0) has no line
        for s in (s for s in SETS if record["metrics"].get(s, {}).get("n")):
            values = record["metrics"][s]
            reasons = values.get("undefined") or {}
            rows.append([name, s, *(_cell(values, reasons, m) for m in TABLE_METRICS)])
            notes += [f"{name} {s}: {reasons[m]}" for m in TABLE_METRICS if m in reasons]
    print()
    print_table(["algorithm", "set", *TABLE_METRICS], rows)
    if notes:
        print("\n– undefined: " + "\n  ".join(dict.fromkeys(notes)))
    if any(DAGGER in str(cell) for row in rows for cell in row):
        print(f"\n{DAGGER} {RUN_NOTE}")


def _timing(result) -> str:
    """The wall time of a run trained now, or when a reused run was trained."""
    if not getattr(result, "reused", False):
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
    found = CATALOGUE.get(metric)
    if values.get("degenerate") and found is not None and found.fairness and value is not None:
        return f"{fmt(value)}{DAGGER}"
    return value
