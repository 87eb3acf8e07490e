"""fairdg: accurate, fair and shift-robust models.

The affinity loss ("learning what to ignore"), FDDG (fairness-aware domain generalisation) and
the domain-generalisation baselines they are compared with, on one data model, one training
engine and one set of metrics.
"""

from fairdg.version import __version__


def load_dataset(name, root=None, **options):
    """Load a registered dataset (see `fairdg.data.load_dataset`)."""
    from fairdg.data import load_dataset as _load

    return _load(name, root=root, **options)


def load_model(run_dir, device="cpu"):
    """A finished run folder's model, for new rows (see `fairdg.predict.load_model`)."""
    from fairdg.predict import load_model as _load

    return _load(run_dir, device=device)


def __getattr__(name):
    # the estimator imports torch: loaded on first use so that ``import fairdg`` stays light
    if name == "FairClassifier":
        from fairdg.estimator import FairClassifier

        return FairClassifier
    raise AttributeError(f"module 'fairdg' has no attribute {name!r}")


__all__ = ["FairClassifier", "__version__", "load_dataset", "load_model"]
