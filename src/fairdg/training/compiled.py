"""``--compile``: torch.compile of an algorithm's networks, with a one-line error where the
compiler stack does not work (no C++ compiler, unsupported platform)."""

from __future__ import annotations

import torch
from torch import nn


class CompileUnavailableError(RuntimeError):
    """torch.compile failed on a probe: the option cannot be used on this machine."""


def _probe(x: torch.Tensor) -> torch.Tensor:
    return torch.relu(x) * 2.0 + 1.0


def check_compiler() -> None:
    """Compile and run a tiny function once (a few seconds); raise `CompileUnavailableError`
    with the first line of torch's error if that fails."""
    try:
        torch.compile(_probe)(torch.ones(4))
    except Exception as error:  # torch raises many kinds: each becomes the same one line
        lines = str(error).strip().splitlines() or [""]
        raise CompileUnavailableError(
            f"--compile: torch.compile does not work here ({type(error).__name__}: "
            f"{lines[0][:200]}); run without --compile"
        ) from error


def compile_networks(algorithm: nn.Module) -> list[str]:
    """Compile, in place, each child module of `algorithm` that has parameters (its networks;
    ``nn.Module.compile`` keeps the state-dict keys, so checkpoints are unchanged).

    Returns
    -------
    list of str
        The names of the compiled children.
    """
    check_compiler()
    names = []
    for name, child in algorithm.named_children():
        if any(True for _ in child.parameters()):
            child.compile()
            names.append(name)
    return names
