"""A small PNG quick-look: VV backscatter in grey with water in blue."""
from __future__ import annotations

import warnings

import numpy as np
import rasterio
import rasterio.windows
from rasterio._err import CPLE_BaseError

from ..bands import VV
from ..errors import InputError
from ..io.raster_io import inspect_sar, open_raster


def quicklook_scene(sar_path: str, class_path: str, png_path: str, max_side: int = 1024, progress=None) -> str:
    """``floodkd quicklook``: check everything, then publish ``png_path`` like any other product.

    The PNG goes through segment's destination checks (never the scene or the
    class raster, never through a link, a write-protected file refused; a
    missing folder is created); the class raster must lie on the scene's grid.
    """
    from ..io.destinations import Files
    from ..io.publish import publishing

    if not isinstance(max_side, int) or max_side < 1:
        raise InputError(f"--max-side must be a positive number of pixels, got {max_side}; the default is 1024.")
    check_same_grid(sar_path, class_path)
    files = Files((("the quick-look PNG", png_path, (".png",)),))
    with publishing(files, {"SAR": sar_path, "CLASSES": class_path}, progress=progress) as pub:
        write_quicklook(sar_path, class_path, pub.stage(png_path), max_side)
    return png_path


def check_same_grid(sar_path: str, class_path: str) -> None:
    """Refuse a class raster that is not on the scene's grid (size, CRS and transform)."""
    source = inspect_sar(sar_path)
    with open_raster(class_path) as ds:
        same = (ds.width, ds.height) == (source.width, source.height) and ds.crs == source.crs
        same = same and ds.transform.almost_equals(source.transform, precision=1e-9)
        if not same:
            raise InputError(
                f"the class raster {class_path} ({ds.width} x {ds.height} px, {ds.crs}) is not on the grid of "
                f"the scene {sar_path} ({source.width} x {source.height} px, {source.crs}); give the class "
                "raster floodkd segment wrote for this scene.")


def write_quicklook(sar_path: str, class_path: str, png_path: str, max_side: int = 1024) -> str:
    """Render ``class_path`` over the VV band of ``sar_path`` into ``png_path``."""
    source = inspect_sar(sar_path)
    with rasterio.open(class_path) as ds:
        bounds, width, height = ds.bounds, ds.width, ds.height
        scale = max(1, int(np.ceil(max(width, height) / max_side)))
        shape = (max(1, height // scale), max(1, width // scale))
        cls = ds.read(1, out_shape=shape)
    with rasterio.open(sar_path) as ds:
        # The classes may cover a crop of the scene (--bbox): read VV over the same area only.
        window = rasterio.windows.from_bounds(*bounds, transform=ds.transform).round_offsets().round_lengths()
        vv = ds.read(source.band_indexes[0], window=window, out_shape=shape,
                     boundless=True, fill_value=0).astype("float32")  # int8 stays signed
    grey = np.nan_to_num(VV.normalise(vv), nan=0.0)
    rgb = np.stack([grey, grey, grey]) * 255
    water = cls == 1
    rgb[:, water] = np.array([31, 120, 220], np.float32)[:, None]
    rgb[:, cls == 255] = 0
    profile = dict(driver="PNG", width=shape[1], height=shape[0], count=3, dtype="uint8")
    try:
        with warnings.catch_warnings():  # a PNG quick-look has no georeference by design
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            with rasterio.open(png_path, "w", **profile) as out:
                out.write(rgb.astype(np.uint8))
    except (rasterio.errors.RasterioError, CPLE_BaseError) as exc:  # a full disk ("libpng: Write Error")
        raise OSError(f"writing the quick-look PNG failed ({exc})") from None
    return png_path
