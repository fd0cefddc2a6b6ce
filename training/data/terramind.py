"""TerraMind example tiles: co-registered S1 RTC (VV, VH dB), S2 L1C, land cover, DEM.

Layout (IBM/terramind ``examples/``; the same file name is the same place)::

    <root>/S1RTC/<tile>.tif   2 bands VV, VH, float dB (no nodata value set)
    <root>/S2L1C/<tile>.tif   13 bands int16, reflectance x 10000
    <root>/LULC/<tile>.tif    uint8 land cover; class 1 is water
    <root>/DEM/<tile>.tif     int16 metres

There are no flood labels. ``label_source="lulc"`` uses land-cover water as a
weak label (land cover is a yearly product: it misses flood water and may
disagree with the radar date); ``"none"`` gives unlabelled samples, e.g. as the
student's unlabelled half. Non-finite S1 values are nodata.
"""
from __future__ import annotations

import os

import numpy as np

from ...core.errors import InputError
from .etci import S1_DB_BANDS
from .datasets import ChipDataset, RawChip, check_same_size, read_raster, require_folder

LULC_WATER = 1


class TerraMindTiles(ChipDataset):
    """TerraMind S1 RTC tiles as VV/VH dB samples (optionally LULC water as label)."""

    name = "terramind"
    s1_bands = S1_DB_BANDS

    def __init__(self, root: str, label_source: str = "none"):
        super().__init__()
        if label_source not in ("none", "lulc"):
            raise InputError(f"unknown label_source '{label_source}'; use 'none' or 'lulc'")
        self.root = require_folder(root, "the TerraMind examples folder (S1RTC/, LULC/)")
        self.labelled = label_source == "lulc"
        s1_dir = require_folder(os.path.join(root, "S1RTC"), "S1RTC/ with VV, VH dB GeoTIFFs")
        names = sorted(f for f in os.listdir(s1_dir) if f.lower().endswith(".tif"))
        if self.labelled:
            names = [f for f in names if os.path.isfile(os.path.join(root, "LULC", f))]
        self.ids = [f[:-4] for f in names]
        if not self.ids:
            raise InputError(f"no TerraMind S1RTC tile{' with a LULC layer' if self.labelled else ''} in {root}.")

    def load_raw(self, index: int) -> RawChip:
        tile = self.ids[index]
        s1_path = os.path.join(self.root, "S1RTC", tile + ".tif")
        s1 = read_raster(s1_path).astype(np.float32)
        if s1.shape[0] != 2:
            raise InputError(f"{s1_path} has {s1.shape[0]} band(s); TerraMind S1RTC tiles hold VV and VH in dB.")
        valid = np.isfinite(s1).all(axis=0)
        label = np.full(s1.shape[1:], -1, np.int64)
        if self.labelled:
            lulc_path = os.path.join(self.root, "LULC", tile + ".tif")
            lulc = read_raster(lulc_path, 1)
            check_same_size(s1_path, s1, lulc_path, lulc)
            label = (lulc == LULC_WATER).astype(np.int64)
        label[~valid] = -1
        s1[:, ~valid] = 0.0
        return RawChip(tile, s1, None, label, valid)
