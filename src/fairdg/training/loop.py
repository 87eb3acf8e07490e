"""The training loop: ``train(config) -> RunResult``.

Reads top to bottom: load and split the data, resolve hyperparameters, build the algorithm,
resume from a checkpoint if one exists, then alternate update steps and evaluations (each
evaluation appended to the run's ``results.jsonl`` and checkpointed), and finally write the
selected checkpoint's metrics to ``done.json`` and to the summary file ``<output>/results.jsonl``.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import json
import logging
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from fairdg import records, replacement, tracking
from fairdg.algorithms import ALGORITHMS, Algorithm, build_algorithm
from fairdg.checkpoint import (
    remove_checkpoint,
    save_checkpoint,
)
from fairdg.data import DATASETS, dataset_info, load_dataset
from fairdg.data.base import Batch, Domain, MultiDomainDataset, Split
from fairdg.hparams import ResolvedHParams, check_overrides, resolve
from fairdg.networks.feature_cache import frozen_features, uses_feature_cache
from fairdg.runlock import run_lock
from fairdg.training import distributed
from fairdg.training.compiled import compile_networks
from fairdg.training.config import RunConfig
from fairdg.training.evaluate import (
    Selection,
    check_evaluable,
    check_selection,
    evaluate_split,
    lookup,
    small_group_warnings,
)
from fairdg.training.progress import evaluation_line, progress_line
from fairdg.training.run_files import (
    append_summary,
    model_state,
    preprocessing,
    read_done,
    resume_state,
    save_state,
    summary_record,
)
from fairdg.training.sampler import DomainSampler
from fairdg.transformation import check_compatible, load_transformation
from fairdg.version import __version__

log = logging.getLogger("fairdg")


@dataclass
class RunResult:
    """What a run produced: its folder, the summary record, the trained algorithm; `reused`
    when the run was found complete (nothing trained now)."""

    run_dir: Path
    record: dict[str, Any]
    algorithm: Algorithm | None = None
    split: Split | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    reused: bool = False


def resolve_hparams(
    config: RunConfig, dataset: MultiDomainDataset | None = None
) -> ResolvedHParams:
    """The run's hyperparameters, resolved and checked once (`prepare` passes them to the
    algorithm; the stale-default check compares a finished run's record with them). Without
    `dataset`, the dataset's defaults come from its registered `DatasetInfo` (no data load)."""
    cls = ALGORITHMS.get(config.algorithm)
    defaults = (
        dataset.default_hparams
        if dataset is not None
        else dataset_info(config.dataset).default_hparams
    )
    return resolve(
        cls.declared_hparams(),
        config.hparams,
        hparams_seed=config.hparams_seed,
        dataset_overrides=defaults,
    )


def check_stale_defaults(
    config: RunConfig, dataset: MultiDomainDataset | None, record: dict[str, Any], run_dir: Path
) -> None:
    """A done run whose recorded hyperparameters differ from what its configuration resolves
    to now (a default changed in another fairdg version) must not be reused silently: the run
    id hashes only the explicit overrides. Knobs the record lacks (added since) are ignored."""
    old = record.get("hparams")
    if not isinstance(old, dict):
        return
    now = json.loads(json.dumps(resolve_hparams(config, dataset), default=str))
    changed = {k: (old[k], now[k]) for k in sorted(set(old) & set(now)) if old[k] != now[k]}
    if changed:
        detail = ", ".join(f"{k}: {a!r} then, {b!r} now" for k, (a, b) in changed.items())
        raise ValueError(
            f"run {run_dir} is complete but was computed with other hyperparameter defaults "
            f"(fairdg {record.get('fairdg_version', '?')}; {detail}); rerun it with --force "
            "(replaces its results) or write to another --output folder"
        )


def load_run_transformation(config: RunConfig, dataset: MultiDomainDataset, split: Split):
    """FDDG's transformation model from ``config.transformation``, checked against the run
    (same dataset and input shape; trained without the run's held-out domains)."""
    if not ALGORITHMS.get(config.algorithm).USES_TRANSFORMATION:
        raise ValueError(
            f"algorithm {config.algorithm!r} uses no transformation model; "
            "drop --transformation (RunConfig.transformation)"
        )
    if config.transformation is None:
        raise ValueError("RunConfig.transformation names no transformation model")
    model = load_transformation(config.transformation, map_location=config.device)
    check_compatible(model, dataset.name, dataset.input_shape, split.test_domains)
    return model


def prepare(config: RunConfig, dataset: MultiDomainDataset | None = None, **extra: Any):
    """Load data, split it, resolve hyperparameters and build the algorithm (no training)."""
    # fail fast on an unknown algorithm or hyperparameter, before loading data
    check_overrides(ALGORITHMS.get(config.algorithm).declared_hparams(), config.hparams)
    if dataset is None:
        dataset = load_dataset(config.dataset, **config.data_options)
    split = config.split_data(dataset)
    hparams = resolve_hparams(config, dataset)
    if uses_feature_cache(hparams, dataset.input_shape):  # frozen backbone: features once
        dataset = frozen_features(dataset, hparams, config.device, quiet=config.quiet)
        split = config.split_data(dataset)
    if config.transformation is not None and "transformation" not in extra:
        extra["transformation"] = load_run_transformation(config, dataset, split)
    if ALGORITHMS.get(config.algorithm).USES_TRAINING_DATA:  # EIIL's pooled inference
        extra.setdefault("train_domains", split.train())
    torch.manual_seed(config.seed)
    algorithm = build_algorithm(
        config.algorithm,
        dataset.input_shape,
        dataset.num_classes,
        len(split.train_domains),
        hparams,
        num_groups=dataset.num_groups,
        **extra,
    ).to(config.device)
    if config.compile:
        compile_networks(algorithm)
    return dataset, split, dict(hparams), algorithm  # a plain dict for records and model.pt


def check_device(device: str) -> torch.device:
    """Parse a device string; asking for an absent accelerator is a clear error."""
    try:
        parsed = torch.device(device)
    except RuntimeError as err:
        raise ValueError(
            f"device must look like 'cpu', 'cuda' or 'cuda:1', got {device!r}"
        ) from err
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {device!r} requested but CUDA is not available; use --device cpu"
        )
    if parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} requested but MPS is not available; use --device cpu")
    return parsed


def environment(device: str) -> dict[str, Any]:
    """Versions and machine of a run (``env.json``)."""
    return {
        "fairdg": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device,
        "argv": sys.argv,
    }


def _start_run_dir(config: RunConfig, run_dir: Path) -> None:
    """Write config.json and env.json; refuse a folder that holds a different run."""
    config_path = run_dir / "config.json"
    if config_path.exists():
        old = records.read_json(config_path, records.CONFIG_SPEC)
        if old["run_id"] != config.run_id():
            raise ValueError(
                f"{run_dir} holds a different run (run_id {old.get('run_id')}); "
                "choose another --output folder"
            )
        return
    records.write_json(config_path, {"run_id": config.run_id(), **config.to_dict()})
    records.write_json(run_dir / "env.json", environment(config.device))


def train(
    config: RunConfig, dataset: MultiDomainDataset | None = None, force: bool = False, **extra: Any
) -> RunResult:
    """Train and evaluate one run; resumable, and a no-op when the run is already done.

    The run folder is locked while it trains (`fairdg.runlock`): a second process gets
    `RunLockedError`. With `force`, the run trains afresh in a hidden folder that replaces the
    old run only once complete, so an interrupted ``--force`` loses nothing. Under torchrun
    (several processes) every rank trains its shard; rank 0 alone locks, evaluates and writes
    (`fairdg.training.distributed`).
    """
    device = distributed.init_from_env(config.device)  # torchrun: join the process group
    if device != config.device:
        config = config.replace(device=device)
    run_dir = Path(config.output_dir) / config.run_id()
    if not distributed.is_main():  # other ranks train alongside rank 0, which locks and writes
        if (run_dir / "done.json").exists() and not force:
            return RunResult(run_dir, {})
        return _train(config, run_dir, dataset, fresh=force, **extra)
    if (run_dir / "done.json").exists() and not force:
        return _finished(config, run_dir, dataset)
    with run_lock(run_dir):
        replacement.recover(run_dir)
        if not force:
            if (run_dir / "done.json").exists():  # finished by another process meanwhile
                return _finished(config, run_dir, dataset)
            return _train(config, run_dir, dataset, fresh=False, **extra)
        work = replacement.fresh_folder(run_dir)
        result = _train(config, work, dataset, fresh=True, **extra)
        replacement.replace(work, run_dir)
        append_summary(config, result.record, replace=True)
        result.run_dir = run_dir
        return result


def _finished(config: RunConfig, run_dir: Path, dataset: MultiDomainDataset | None) -> RunResult:
    """A complete run, shown from its records; it may sit on read-only storage."""
    log.info("run %s is already complete", run_dir)
    record = read_done(run_dir, config.run_id())
    if dataset is None and config.dataset not in DATASETS:
        log.warning("cannot check run %s against current defaults: unknown dataset", run_dir)
    else:  # the registered defaults: the data are not loaded again
        check_stale_defaults(config, dataset, record, run_dir)
    try:
        remove_checkpoint(run_dir / "checkpoint.pt")  # left by a kill after done.json
        append_summary(config, record, replace=False)  # a kill after a --force swap skipped it
    except OSError as err:  # read-only storage: shown, not tidied
        if err.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise
        log.warning("run %s is complete but its folder is read-only (%s)", run_dir, err)
    return RunResult(run_dir, record, reused=True)


def _train(
    config: RunConfig,
    run_dir: Path,
    dataset: MultiDomainDataset | None,
    fresh: bool,
    **extra: Any,
) -> RunResult:
    """Train in `run_dir` (resuming its checkpoint unless `fresh`); writes done.json last."""
    started = time.perf_counter()
    check_device(config.device)
    check_precision(config)
    device = config.device
    rank, world_size = distributed.world()
    main = rank == 0  # only rank 0 evaluates and writes

    # -- data, hyperparameters, model -------------------------------------------------------
    dataset, split, hparams, algorithm = prepare(config, dataset, **extra)
    check_evaluable(split, test=config.test_fraction > 0 or bool(config.test_domains))
    check_selection(config.selection, split, dataset.num_classes, dataset.num_groups)
    steps = config.steps or dataset.default_steps
    if algorithm.FITS_ONCE:  # scikit-learn models: every training row in one update, one eval
        steps = 1
    eval_every = config.eval_every or max(1, steps // 10)
    selection = Selection.of(config.selection, hparams)
    pooled = bool(getattr(algorithm, "POOLED_BATCH", False))
    batch_size = int(hparams.get("batch_size", 1))  # models fitted in one go have none
    sampler = DomainSampler(
        split.train(), batch_size, config.seed, device, pooled=pooled, rank=rank,
        world_size=world_size,
    )  # fmt: skip
    distributed.sync_gradients(algorithm)
    if main:
        _start_run_dir(config, run_dir)
    ckpt_path = run_dir / "checkpoint.pt"

    # -- resume ------------------------------------------------------------------------------
    best: dict[str, Any] = {"value": None, "step": None, "metrics": None, "state": None}
    step, n_evals = 0, 0
    if ckpt_path.exists() and not fresh:
        step, n_evals, best = resume_state(ckpt_path, run_dir, algorithm, sampler, config.device)
    elif main:  # a fresh start: drop evaluations of an earlier attempt that left no checkpoint
        (run_dir / "results.jsonl").unlink(missing_ok=True)
        remove_checkpoint(ckpt_path)
    distributed.barrier()
    tracker = tracking.start(config, resumed_at=step) if main else tracking.Tracker()

    # -- training ----------------------------------------------------------------------------
    # a terminal gets a bar; a pipe or a log file one line per evaluation (`progress_line`)
    lines = main and not config.quiet and not sys.stderr.isatty()
    bar = tqdm(
        total=steps,
        initial=step,
        desc=f"{config.algorithm} on {config.dataset}",
        disable=config.quiet or not sys.stderr.isatty() or not main,
        leave=False,
    )
    if lines:
        progress_line(f"{run_dir.name}: {config.algorithm} on {config.dataset}, {steps} steps "
                      f"from step {step}, evaluating every {eval_every}")  # fmt: skip
    running: dict[str, float] = {}
    algorithm.train()
    while step < steps:
        with autocast(config):
            batches = whole(split.train(), device) if algorithm.FITS_ONCE else sampler()
            stats = algorithm.update(batches)
        stats = distributed.reduce_stats(stats, device)
        step += 1
        for key, value in stats.items():  # exponential moving average for display
            running[key] = value if key not in running else 0.98 * running[key] + 0.02 * value
        bar.update(1)
        if "loss" in running and step % 20 == 0:
            bar.set_postfix(loss=f"{running['loss']:.4f}")
        if main and (step % eval_every == 0 or step == steps):
            if algorithm.USES_GROUPS_AT_PREDICTION:  # post-processing: the sources' val rows
                val = [split.parts[name]["val"] for name in split.train_domains]
                algorithm.fit_postprocessing(whole(val, device))
            with autocast(config):
                metrics = evaluate_split(
                    algorithm, split, config.device, config.min_group_size,
                    config.min_positive_rate,
                )  # fmt: skip
            if n_evals == 0:  # one line per split, once per run
                for line in small_group_warnings(metrics):
                    log.warning("%s: %s", config.run_id(), line)  # not a --force folder
            value = lookup(metrics, config.selection)
            record = {
                "step": step,
                "stats": stats,
                "metrics": metrics,
                "wall_seconds": time.perf_counter() - started,
            }
            records.append_jsonl(run_dir / "results.jsonl", record)
            tracker.evaluation(record)
            n_evals += 1
            if lines:
                progress_line(evaluation_line(run_dir.name, step, steps, running, metrics, record))
            # degenerate evaluations last; a constrained run prefers those meeting it
            if best["step"] is None or selection.rank(metrics) > selection.rank(best["metrics"]):
                best = {
                    "value": value,
                    "step": step,
                    "metrics": metrics,
                    "state": copy.deepcopy(algorithm.state_dict()),
                }
            save_state(ckpt_path, algorithm, sampler, step, n_evals, best)
    bar.close()
    if not main:  # the other ranks end once rank 0 has written the results
        distributed.barrier()
        return RunResult(run_dir, {}, algorithm, split)

    # -- finish ------------------------------------------------------------------------------
    if best["state"] is not None:  # the model the record describes, not the last step's
        algorithm.load_state_dict(best["state"])
    if config.save_model and best["state"] is not None:  # its sha256 in model.pt.sha256
        state = model_state(config, dataset, split, hparams, best, algorithm)
        save_checkpoint(run_dir / "model.pt", state, sidecar=True)
        if dataset.preprocessing is not None:  # how to encode new rows (fairdg predict)
            records.write_json(run_dir / "preprocessing.json", preprocessing(dataset, split))
    # Order matters for a kill at any point: the summary line is appended at most once (a
    # resumed finish finds it), the checkpoint goes (a kill now only costs a rerun of this
    # deterministic run), and done.json marks completion last. A forced rerun (`fresh`, in a
    # temporary folder) appends its summary line once it has replaced the old run.
    record = summary_record(config, split, hparams, steps, best, time.perf_counter() - started)
    record.update(selection.note(best["metrics"]))
    record = json.loads(records.dumps(record))  # the JSON form (NaN as null) everywhere
    if not fresh:
        append_summary(config, record, replace=False)
    remove_checkpoint(ckpt_path)
    records.write_json(run_dir / "done.json", record)
    tracker.finish(record)
    distributed.barrier()
    history, _ = records.load_jsonl(run_dir / "results.jsonl")
    return RunResult(run_dir, record, algorithm, split, history)


def whole(domains: list[Domain], device: str) -> list[Batch]:
    """Every row of each domain as one `Batch` on `device` (``d`` = the domain's position):
    what algorithms fitted in one go (``FITS_ONCE``) and post-processing are fitted on."""
    out = []
    for i, domain in enumerate(domains):
        x = domain.x[torch.arange(len(domain.y))]  # image rows: converted to float here
        parts = (x, domain.y, domain.z, torch.full_like(domain.y, i))
        out.append(Batch(*(t.to(device) for t in parts)))
    return out


def check_precision(config: RunConfig) -> None:
    """``bf16`` autocast runs on CUDA and CPU devices (`RunConfig` checks the value itself)."""
    if config.precision == "bf16" and torch.device(config.device).type not in ("cuda", "cpu"):
        raise ValueError("--precision bf16 runs on a CUDA device or the CPU; use fp32 here")


def autocast(config: RunConfig):
    """bfloat16 autocast for ``precision="bf16"`` (parameters stay float32): on a CPU with
    AVX-512 BF16 or AMX, convolutions and matrix products run several times faster
    (docs/scale.md)."""
    if config.precision == "bf16":
        return torch.autocast(torch.device(config.device).type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
