"""Training T on the source domains: ``fit_transformation(dataset, ...) -> TransformationModel``.

Reads top to bottom: split the data with the same seed and held-out domains as the classifier
runs (so T never sees a held-out domain, nor the validation rows), pool the training parts of
the source domains, then alternate one discriminator step and one generator step on shuffled
minibatches (epochs of a random permutation, not the authors' batch of one repeated as both
"domains"), and finally measure reconstruction error and the accuracy of h on the sources'
validation rows. Two Adam optimisers with the configured lr, betas and weight decay.

Model selection (``select="val_loss"``, the default, as appendix C: "we monitor the loss of the
validation set and choose the T with the lowest validation loss"): every ``steps // 10`` steps
the weighted generator objective is computed on the sources' validation rows (codes drawn from
a fixed generator, so checkpoints are compared on the same draws) and the weights with the
lowest value are kept; ``select="last"`` keeps the last step's weights.
"""

from __future__ import annotations

import copy
import logging
import sys
import time
from collections.abc import Iterator, Sequence

import torch
from tqdm.auto import tqdm

from fairdg.data.base import MultiDomainDataset
from fairdg.transformation.config import TransformationConfig
from fairdg.transformation.model import TransformationModel
from fairdg.transformation.objective import discriminator_loss, generator_loss
from fairdg.version import __version__

log = logging.getLogger("fairdg")


def _minibatches(
    x: torch.Tensor, z: torch.Tensor, batch_size: int, generator: torch.Generator
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless shuffled minibatches: each epoch a fresh permutation, the last partial batch
    dropped (unless the data holds fewer rows than one batch)."""
    n = len(z)
    size = min(batch_size, n)
    while True:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - size + 1, size):
            idx = order[start : start + size]
            yield x[idx], z[idx]


def default_config(dataset: MultiDomainDataset, **changes) -> TransformationConfig:
    """A config for `dataset`'s input shape and groups, with `changes` applied."""
    return TransformationConfig(
        input_shape=dataset.input_shape, num_groups=dataset.num_groups, **changes
    )


@torch.no_grad()
def evaluate_transformation(
    model: TransformationModel, x: torch.Tensor, z: torch.Tensor, batch_size: int = 256
) -> dict[str, float]:
    """Mean absolute reconstruction error per input value (data space) and h's accuracy."""
    model.eval()
    errors, correct = [], []
    for start in range(0, len(z), batch_size):
        xb, zb = x[start : start + batch_size], z[start : start + batch_size]
        errors.append((model.reconstruct(xb) - xb).abs().flatten(1).mean(1))
        if model.config.use_sensitive:
            correct.append((model.predict_sensitive(xb) == zb).float())
    out = {"recon_mae": float(torch.cat(errors).mean()), "n": float(len(z))}
    if correct:
        out["sensitive_accuracy"] = float(torch.cat(correct).mean())
    return out


@torch.no_grad()
def validation_loss(
    model: TransformationModel,
    x: torch.Tensor,
    z: torch.Tensor,
    seed: int = 0,
    batch_size: int = 256,
) -> float:
    """The weighted generator objective on validation rows (eval mode), codes drawn under a
    fixed seed so that checkpoints are compared on the same draws; mean over rows."""
    model.eval()
    total, n = 0.0, 0
    cuda = [x.device.index or 0] if x.device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed + 1)
        for start in range(0, len(z), batch_size):
            xb, zb = x[start : start + batch_size], z[start : start + batch_size]
            total += generator_loss(model, xb, zb)[1]["gen_loss"] * len(zb)
            n += len(zb)
    return total / max(n, 1)


def fit_transformation(
    dataset: MultiDomainDataset,
    config: TransformationConfig | None = None,
    *,
    test_domains: Sequence[str] = (),
    seed: int = 0,
    steps: int = 2000,
    device: str | torch.device = "cpu",
    quiet: bool = False,
    max_train: int | None = None,
    select: str = "val_loss",
) -> TransformationModel:
    """Train T on the training rows of the source domains of ``dataset.split(seed, test_domains)``.

    Parameters
    ----------
    dataset, test_domains, seed
        The data, the held-out domains (never seen) and the split / initialisation seed.
    config
        Architecture and optimiser (None: `default_config`). For images, a missing data range
        (``x_low``, ``x_high``) is set from the training rows.
    steps
        Generator steps (each preceded by one discriminator step).
    max_train
        Use at most this many training rows (a seeded random subset), for quick runs.
    select
        ``"val_loss"`` (the paper's): keep the checkpoint (every ``steps // 10`` steps) with
        the lowest generator objective on the sources' validation rows; ``"last"``: the last.

    Returns
    -------
    TransformationModel
        Trained, in eval mode, on `device`; ``model.meta`` records the data and validation
        metrics (``recon_mae``, ``sensitive_accuracy``).
    """
    if steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if select not in ("val_loss", "last"):
        raise ValueError(f"select must be 'val_loss' or 'last', got {select!r}")
    started = time.perf_counter()

    # -- data: the training rows of the source domains only ----------------------------------
    split = dataset.split(seed, test_domains)
    x = torch.cat([d.x for d in split.train()])
    z = torch.cat([d.z for d in split.train()])
    generator = torch.Generator().manual_seed(seed)
    if max_train is not None and max_train < len(z):
        keep = torch.randperm(len(z), generator=generator)[:max_train]
        x, z = x[keep], z[keep]
    val_x = torch.cat([split.parts[n]["val"].x for n in split.train_domains])
    val_z = torch.cat([split.parts[n]["val"].z for n in split.train_domains])

    # -- model and optimisers ----------------------------------------------------------------
    config = config or default_config(dataset)
    if tuple(config.input_shape) != tuple(dataset.input_shape):
        raise ValueError(
            f"config.input_shape {config.input_shape} does not match dataset "
            f"{dataset.name!r} input shape {dataset.input_shape}"
        )
    if config.family == "conv" and config.x_low is None:
        config = config.replace(x_low=float(x.min()), x_high=float(x.max()))
    torch.manual_seed(seed)
    model = TransformationModel(config).to(device)
    betas = (config.beta1, config.beta2)
    opt_gen = torch.optim.Adam(
        model.generator_parameters(), lr=config.lr, betas=betas, weight_decay=config.weight_decay
    )
    opt_dis = torch.optim.Adam(
        model.discriminator_parameters(),
        lr=config.lr,
        betas=betas,
        weight_decay=config.weight_decay,
    )

    # -- training: one discriminator step, then one generator step -----------------------------
    batches = _minibatches(x, z, config.batch_size, generator)
    bar = tqdm(
        range(steps),
        desc=f"transformation on {dataset.name}",
        leave=False,
        disable=quiet or not sys.stderr.isatty(),
    )
    history: list[dict[str, float]] = []
    running: dict[str, float] = {}
    selection: list[dict[str, float]] = []
    best: tuple[float, int, dict] | None = None
    check_every = max(1, steps // 10)
    model.train()
    for step in bar:
        xb, zb = next(batches)
        xb, zb = xb.to(device), zb.to(device)
        d_loss, d_stats = discriminator_loss(model, xb, zb)
        opt_dis.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_dis.step()
        g_loss, g_stats = generator_loss(model, xb, zb)
        opt_gen.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_gen.step()
        for key, value in {**g_stats, **d_stats}.items():
            running[key] = value if key not in running else 0.95 * running[key] + 0.05 * value
        if (step + 1) % max(1, steps // 20) == 0 or step + 1 == steps:
            history.append({"step": step + 1, **running})
            bar.set_postfix(recon_x=f"{running['recon_x']:.3f}")
        if select == "val_loss" and ((step + 1) % check_every == 0 or step + 1 == steps):
            loss = validation_loss(model, val_x.to(device), val_z.to(device), seed)
            selection.append({"step": step + 1, "val_loss": loss})
            if best is None or loss < best[0]:
                best = (loss, step + 1, copy.deepcopy(model.state_dict()))
            model.train()
    bar.close()
    selected_step = steps
    if best is not None:
        model.load_state_dict(best[2])
        selected_step = best[1]

    # -- validation on the sources' held-out rows -------------------------------------------
    metrics = evaluate_transformation(model, val_x.to(device), val_z.to(device))
    model.meta = {
        "dataset": dataset.name,
        "input_shape": list(dataset.input_shape),
        "train_domains": list(split.train_domains),
        "test_domains": list(split.test_domains),
        "seed": seed,
        "steps": steps,
        "select": select,
        "selected_step": selected_step,
        "selection": selection,
        "n_train": len(z),
        "val_metrics": metrics,
        "history": history,
        "wall_seconds": time.perf_counter() - started,
        "fairdg_version": __version__,
    }
    log.info("transformation trained in %.1f s: %s", model.meta["wall_seconds"], metrics)
    return model.eval()
