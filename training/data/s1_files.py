"""Single Sentinel-1 GeoTIFFs (VV, VH in dB) as unlabelled chips.

:class:`S1DbFiles` reads scenes such as ``harvey2017/harvey_crop.tif`` (2 bands,
VV then VH, dB, non-finite = nodata) as unlabelled samples, e.g. the student's
unlabelled half.
"""
from __future__ import annotations

import os

import numpy as np

from ...core.errors import InputError
from .datasets import ChipDataset, RawChip, read_raster
from .etci import S1_DB_BANDS


class S1DbFiles(ChipDataset):
    """Unlabelled VV/VH dB GeoTIFFs, one chip per file."""

    name = "s1_files"
    s1_bands = S1_DB_BANDS
    labelled = False

    def __init__(self, paths, name: str = "s1_files"):
        super().__init__()
        self.paths = [os.path.abspath(p) for p in paths]
        for p in self.paths:
            if not os.path.isfile(p):
                raise InputError(f"{p} does not exist; give GeoTIFFs with VV, VH in dB.")
        self.ids = [os.path.splitext(os.path.basename(p))[0] for p in self.paths]
        self.name = name

    def load_raw(self, index: int) -> RawChip:
        path = self.paths[index]
        s1 = read_raster(path).astype(np.float32)
        if s1.shape[0] != 2:
            raise InputError(f"{path} has {s1.shape[0]} band(s); give VV and VH in dB (2 bands).")
        valid = np.isfinite(s1).all(axis=0)
        s1[:, ~valid] = 0.0
        return RawChip(self.ids[index], s1, None, np.full(valid.shape, -1, np.int64), valid)

