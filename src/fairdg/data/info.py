"""`DatasetInfo` and the location options: re-exported from the torch-free
`fairdg.datasets_info` (the bottom floor), where they are defined."""

from __future__ import annotations

from fairdg.datasets_info import LOCATION_OPTIONS, DatasetInfo, without_location

__all__ = ["LOCATION_OPTIONS", "DatasetInfo", "without_location"]
