"""Training: run configuration, the loop, evaluation and checkpoints.

`RunConfig` is torch-free and imported at once; the loop's names (`train`, `prepare`,
`RunResult`) load torch on first use, so that the command line builds and checks a config
before its heavy imports.
"""

from fairdg.training.config import RunConfig

_LOOP = ("RunResult", "prepare", "train")


def __getattr__(name: str):
    if name in _LOOP:
        from fairdg.training import loop

        return getattr(loop, name)
    raise AttributeError(f"module 'fairdg.training' has no attribute {name!r}")


__all__ = ["RunConfig", "RunResult", "prepare", "train"]
