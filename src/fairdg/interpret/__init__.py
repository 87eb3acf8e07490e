"""Interpretability of learnt representations (the affinity paper, sections 2 and 3).

- `linear_probes`: freeze the featurizer, refit a linear head on the training split to predict
  the target and the sensitive attribute; test accuracies overall and per group.
- `reattach`: equation (4), y_hat = sigmoid(w_r r + w_z z + b) on a 1-D linear combination r of
  the frozen representation; the weights and the metrics of this "z reattached" model.
- `plot_tsne`, `plot_r_histograms`: figure 3 and figures 5-6 as PNG files.
- `load_run`: a finished run folder back into its trained algorithm and data split.

Command line: ``fairdg interpret RUN_DIR [--baseline RUN_DIR] --tsne --hist``.
"""

from fairdg.interpret.plots import plot_r_histograms, plot_tsne, subsample, tsne_embedding
from fairdg.interpret.probes import (
    LinearProbe,
    fit_linear,
    linear_probes,
    pooled,
    probe_accuracies,
    representation_summary,
    representations,
)
from fairdg.interpret.reattach import Reattachment, fit_reattachment, reattach
from fairdg.interpret.runs import LoadedRun, load_run

__all__ = [
    "LinearProbe",
    "LoadedRun",
    "Reattachment",
    "fit_linear",
    "fit_reattachment",
    "linear_probes",
    "load_run",
    "pooled",
    "plot_r_histograms",
    "plot_tsne",
    "probe_accuracies",
    "reattach",
    "representation_summary",
    "representations",
    "subsample",
    "tsne_embedding",
]
