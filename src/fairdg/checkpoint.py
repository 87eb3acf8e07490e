"""Checkpoint files: written atomically, read safely (``torch.load(..., weights_only=True)``).

Imports only torch and the standard library, so every layer of fairdg can use it. A fairdg
``.pt`` file (training checkpoint, saved model, transformation model) holds only tensors,
numbers, strings, booleans, ``None``, lists, tuples and dicts; loading refuses anything else
without running it, so a crafted pickle cannot execute code.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
from pathlib import Path
from typing import Any

import torch

from fairdg.records import current_umask  # standard library only

__all__ = ["CorruptCheckpointError", "UnsafeCheckpointError", "load_checkpoint", "save_checkpoint"]


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file that cannot be read."""


class UnsafeCheckpointError(CorruptCheckpointError):
    """A checkpoint file that holds Python objects other than plain data (refused, not run)."""


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename over `path`.

    The file gets the permissions of any file the user creates (their umask), not the 0600
    of the temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # POSIX; Windows has no such modes
            os.fchmod(fd, 0o666 & ~current_umask())
    finally:
        os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Load a fairdg ``.pt`` file with ``weights_only=True``.

    Raises
    ------
    UnsafeCheckpointError
        The file holds pickled Python objects beyond plain data (crafted or foreign); nothing
        in it was run.
    CorruptCheckpointError
        A truncated or foreign file, or one without fairdg's ``format`` key.
    """
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r"GLOBAL (\S+)", str(err))
        if found is None:  # damaged bytes, not a forbidden object
            raise _corrupt(path, err) from err
        raise UnsafeCheckpointError(
            f"{path} was refused: it holds a Python object ({found.group(1)}) besides tensors, "
            "numbers, strings, lists and dicts (a crafted or foreign file; fairdg never runs "
            "code from model files); delete it, or recreate it with this version of fairdg"
        ) from err
    except Exception as err:  # torch raises many types for a bad file
        raise _corrupt(path, err) from err
    if not isinstance(state, dict) or "format" not in state:
        raise CorruptCheckpointError(
            f"checkpoint {path} is not a fairdg checkpoint (no 'format' key); delete it to start "
            "the run again"
        )
    return state


def _corrupt(path: Any, err: BaseException) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f"checkpoint {path} is corrupt or not a fairdg checkpoint ({type(err).__name__}: "
        f"{_first_line(err)}); delete it to start the run again from step 0"
    )


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
