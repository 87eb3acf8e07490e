"""Reporting from records alone: collect runs, select models, tables and plots (no torch).

Tables can be rebuilt on any machine from copied run folders::

    from fairdg.reporting import collect, build_summary, render
    print(render(build_summary(collect("fairdg-runs/sweep"), ["training", "oracle"])))
"""

from fairdg.reporting.collect import Collection, RunRecords, collect
from fairdg.reporting.selection import METHODS, select, select_steps
from fairdg.reporting.tables import DEFAULT_METRICS, build_summary, render, summarize

__all__ = [
    "DEFAULT_METRICS",
    "METHODS",
    "Collection",
    "RunRecords",
    "build_summary",
    "collect",
    "render",
    "select",
    "select_steps",
    "summarize",
]
