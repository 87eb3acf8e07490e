"""Image storage that scales: uint8 pixels, read as float32 in [0, 1] one batch at a time.

Image datasets built from image folders hold their pixels as a uint8 tensor (a quarter of the
float32 size), either in memory or memory-mapped from the on-disk cache (`fairdg.data.images`).
`MultiDomainDataset.split` does not copy them: a split part's ``x`` is an `ImageRows`, the
rows ``index`` of the domain's uint8 tensor, which yields float32 images in [0, 1] when indexed
(``x[idx]``, ``x[a:b]``), so the sampler and the evaluation convert only the batch they read.
``torch.index_select(x, 0, idx)`` reads only those rows too. Any other torch operation on an
`ImageRows` (``torch.cat``, ``.mean()``, ...) converts all of its rows first (a float32 copy),
which keeps rarely used paths (probes, the transformation model's trainer) working unchanged.
"""

from __future__ import annotations

from typing import Any

import torch


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> float32 in [0, 1]; float tensors are returned unchanged."""
    if x.dtype == torch.uint8:
        return x.to(torch.float32).div_(255.0)
    return x


class ImageRows:
    """Rows ``index`` of a uint8 image tensor ``base``, read as float32 in [0, 1] on indexing.

    Not a copy: holding an `ImageRows` costs one index per row.
    """

    def __init__(self, base: torch.Tensor, index: torch.Tensor) -> None:
        if base.dtype != torch.uint8:
            raise TypeError(f"ImageRows needs uint8 pixels, got {base.dtype}")
        self.base = base
        self.index = torch.as_tensor(index, dtype=torch.long, device=base.device)

    # -- tensor-like description ---------------------------------------------------------------
    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self.index), *self.base.shape[1:]))

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32

    @property
    def device(self) -> torch.device:
        return self.base.device

    @property
    def ndim(self) -> int:
        return self.base.ndim

    def __len__(self) -> int:
        return len(self.index)

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def __repr__(self) -> str:
        return f"ImageRows({len(self)} of {len(self.base)} uint8 images {tuple(self.shape[1:])})"

    # -- reading ---------------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> torch.Tensor:
        rows = self.index[key]
        if rows.device != self.base.device:
            rows = rows.to(self.base.device)
        return to_unit(self.base[rows])

    def rows(self, index: torch.Tensor) -> ImageRows:
        """A subset of these rows (still no copy)."""
        return ImageRows(self.base, self.index[torch.as_tensor(index, device=self.index.device)])

    def materialize(self, chunk: int = 4096) -> torch.Tensor:
        """All rows as one float32 tensor (a copy)."""
        out = torch.empty(self.shape, dtype=torch.float32, device=self.base.device)
        for start in range(0, len(self), chunk):
            out[start : start + chunk] = self[start : start + chunk]
        return out

    def to(self, device: str | torch.device | None = None, *args: Any, **kwargs: Any):
        """On another device: this part's uint8 rows copied there (converted per batch)."""
        if isinstance(device, torch.dtype):
            return self.materialize().to(device, *args, **kwargs)
        if device is None or torch.device(device) == self.base.device:
            return self
        pixels = self.base[self.index].to(device)
        return ImageRows(pixels, torch.arange(len(pixels), device=pixels.device))

    def cpu(self) -> ImageRows:
        return self.to("cpu")

    def float(self) -> torch.Tensor:
        return self.materialize()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("base", "index"):
            raise AttributeError(name)
        return getattr(self.materialize(), name)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func is torch.index_select and isinstance(args[0], ImageRows):
            rows = args[0][args[2] if len(args) > 2 else kwargs["index"]]  # only these rows
            dim = args[1] if len(args) > 1 else kwargs["dim"]
            if dim != 0:
                return func(args[0].materialize(), *args[1:], **kwargs)
            out = kwargs.get("out")
            return rows if out is None else out.copy_(rows)

        def convert(value):
            if isinstance(value, ImageRows):
                return value.materialize()
            if isinstance(value, list | tuple):
                return type(value)(convert(v) for v in value)
            return value

        return func(*convert(args), **{k: convert(v) for k, v in kwargs.items()})
