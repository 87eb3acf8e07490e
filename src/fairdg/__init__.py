"""fairdg: accurate, fair and shift-robust models.

The affinity loss ("learning what to ignore"), FDDG (fairness-aware domain generalisation) and
the domain-generalisation baselines they are compared with, on one data model, one training
engine and one set of metrics.
"""

__version__ = "0.1.0"


def load_dataset(name, root=None, **options):
    """Load a registered dataset (see `fairdg.data.load_dataset`)."""
    from fairdg.data import load_dataset as _load

    return _load(name, root=root, **options)


__all__ = ["__version__", "load_dataset"]
