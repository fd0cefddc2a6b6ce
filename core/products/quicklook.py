"""A small PNG quick-look: VV backscatter in grey with water in blue."""
from __future__ import annotations

import warnings

import numpy as np
import rasterio

from ..bands import VV
from ..io.raster_io import inspect_sar


def write_quicklook(sar_path: str, class_path: str, png_path: str, max_side: int = 1024) -> str:
    """Render ``class_path`` over the VV band of ``sar_path`` into ``png_path``."""
    source = inspect_sar(sar_path)
    scale = max(1, int(np.ceil(max(source.width, source.height) / max_side)))
    shape = (max(1, source.height // scale), max(1, source.width // scale))
    with rasterio.open(sar_path) as ds:
        vv = ds.read(source.band_indexes[0], out_shape=shape, out_dtype="float32")
    with rasterio.open(class_path) as ds:
        cls = ds.read(1, out_shape=shape)
    grey = np.nan_to_num(VV.normalise(vv), nan=0.0)
    rgb = np.stack([grey, grey, grey]) * 255
    water = cls == 1
    rgb[:, water] = np.array([31, 120, 220], np.float32)[:, None]
    rgb[:, cls == 255] = 0
    profile = dict(driver="PNG", width=shape[1], height=shape[0], count=3, dtype="uint8")
    with warnings.catch_warnings():  # a PNG quick-look has no georeference by design
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(png_path, "w", **profile) as out:
            out.write(rgb.astype(np.uint8))
    return png_path
