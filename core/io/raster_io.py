"""Raster input checks, windowed reading and safe (temp-then-rename) writing."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.windows import Window

from ..bands import S1_BANDS
from ..errors import InputError
from .run_files import create_temp
from .write_check import check_all_blocks_written, gdal_failures
from ..units import to_db_inplace

SAR_HINT = ("Give a Sentinel-1 GRD raster with 2 bands, VV and VH backscatter in dB "
            "(for example a Sen1Floods11 S1Hand chip), in any CRS.")


@dataclass
class RasterSource:
    """An opened-and-checked input: where each wanted band is and its grid."""

    path: str
    band_indexes: tuple  # 1-based indexes of the wanted bands, in spec order
    band_names: tuple
    nodata: float | None
    width: int
    height: int
    crs: object
    transform: object
    profile: dict
    units: str = "db"  # of the stored values; reads return dB (core/units.py)
    col_off: int = 0  # where this source's grid starts in the file (an EXTENT crop)
    row_off: int = 0
    warnings: tuple = ()  # about how it was read (bands taken in the documented order)

    def open(self, decode_threads: int | None = None):
        """Open the file; ``decode_threads`` (0: all CPUs) lets GDAL decode a GeoTIFF's blocks in parallel."""
        if decode_threads is None or self.profile.get("driver") != "GTiff":
            return rasterio.open(self.path)
        return rasterio.open(self.path, NUM_THREADS=str(decode_threads) if decode_threads > 0 else "ALL_CPUS")

    def file_window(self, window: Window = None) -> Window:
        """``window`` (in this source's grid; None: all of it) in the file's pixels."""
        window = window or Window(0, 0, self.width, self.height)
        return Window(window.col_off + self.col_off, window.row_off + self.row_off, window.width, window.height)


def _gdal_syntax(path: str) -> bool:
    """A GDAL dataset name such as ``GTIFF_DIR:1:scene.tif`` or ``NETCDF:"f.nc":var`` (not a drive letter)."""
    import re

    return re.match(r"^[A-Za-z][A-Za-z0-9_]+:", path) is not None


def open_raster(path: str):
    """Open ``path`` with rasterio, turning GDAL's errors into InputError."""
    if not os.path.exists(path) and "://" not in path and not path.startswith("/vsi") and not _gdal_syntax(path):
        raise InputError(f"input raster not found: {path}. {SAR_HINT}")
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"{path} is not a readable raster ({exc}). {SAR_HINT}") from exc


def _band_order(ds, wanted):
    """1-based band indexes for ``wanted`` names and a warning (core/bands.py: select_bands)."""
    from ..bands import select_bands

    try:
        return select_bands(ds.descriptions, wanted, ds.name)
    except ValueError as exc:
        raise InputError(f"{exc} {SAR_HINT}") from None


def inspect_sar(path: str, specs=S1_BANDS) -> RasterSource:
    """Check that ``path`` is a usable SAR raster for ``specs`` and describe it."""
    wanted = tuple(s.name for s in specs)
    with open_raster(path) as ds:
        if ds.count < len(wanted):
            raise InputError(
                f"{path} has {ds.count} band(s); floodkd needs {len(wanted)} "
                f"({', '.join(wanted)}). {SAR_HINT}")
        if any(np.dtype(dt).kind not in "fiu" for dt in ds.dtypes):
            raise InputError(f"{path} has non-numeric bands ({ds.dtypes}). {SAR_HINT}")
        if ds.crs is None and ds.gcps[0]:
            raise InputError(
                f"{path} is georeferenced by {len(ds.gcps[0])} ground control points (GCPs) only, which floodkd "
                "does not warp. Warp it onto a grid first, e.g. gdalwarp -t_srs EPSG:4326 -r bilinear "
                f"{os.path.basename(path)} warped.tif, and give the warped file.")
        indexes, warning = _band_order(ds, wanted)
        return RasterSource(path, indexes, wanted, ds.nodata, ds.width, ds.height,
                            ds.crs, ds.transform, ds.profile.copy(), warnings=(warning,) if warning else ())


def _valid_in_db(data, source: RasterSource):
    """Convert ``data`` to dB in place; valid = finite, not nodata, convertible."""
    declared = None
    if source.nodata is not None and np.isfinite(source.nodata):
        declared = (data != np.float32(source.nodata)).all(axis=0)
    valid = to_db_inplace(data, source.units)
    if declared is not None:
        valid &= declared
    np.copyto(data, np.float32(0.0), where=~valid)  # (a boolean-indexed assignment was 3x slower)
    return valid


def read_block(ds, source: RasterSource, window: Window):
    """Read ``window`` of the wanted bands as float32 dB and a valid-pixel mask.

    A pixel is valid when every band is finite, differs from the declared
    nodata value and (for power or amplitude input) is positive. Invalid
    pixels are set to 0 in the returned data.
    """
    data = _read_checked(ds, source, window)
    return data, _valid_in_db(data, source)


def _read_checked(ds, source: RasterSource, window: Window | None = None, **kwargs):
    """``ds.read`` of the wanted bands; a failed read becomes an InputError naming the rows."""
    try:
        if any(ds.dtypes[i - 1] == "int8" for i in source.band_indexes):  # GDAL 3.6 converts int8 as unsigned
            return ds.read(source.band_indexes, window=source.file_window(window), **kwargs).astype("float32")
        return ds.read(source.band_indexes, window=source.file_window(window), out_dtype="float32", **kwargs)
    except (rasterio.errors.RasterioError, rasterio.errors.RasterioIOError) as exc:  # truncated file, bad block, lost network read
        where = ("the overview read" if window is None else
                 f"rows {window.row_off}..{window.row_off + window.height} and columns "
                 f"{window.col_off}..{window.col_off + window.width}")
        raise InputError(
            f"{source.path}: reading {where} failed ({exc}). The file may be truncated or corrupt: "
            "check it with gdalinfo -checksum, or re-download or re-export the scene.") from exc


def decimated_values(source: RasterSource, max_side: int = 1024, in_db: bool = True):
    """A cheap sample of the whole source's values: ``(data, valid)``, data (bands, h, w).

    Overviews when the file has them, else whole blocks spread over the scene
    when that is much cheaper (core/io/block_sample.py; then h is 1), else
    a decimated read (every n-th pixel, at most ``max_side`` a side). With
    ``in_db=False`` the data keep the file's units (for unit detection).
    """
    data = _block_sample(source)
    if data is None:
        data = _decimated(source, max_side)
    if in_db:
        return data, _valid_in_db(data, source)
    return data, _valid_as_stored(data, source)


def _valid_as_stored(data, source):
    valid = np.isfinite(data).all(axis=0)
    if source.nodata is not None and np.isfinite(source.nodata):
        valid &= (data != np.float32(source.nodata)).all(axis=0)
    return valid


def _block_sample(source: RasterSource):
    """Values of whole blocks spread over the scene, or None (overviews, small scene, or too few valid)."""
    from .block_sample import read_sample, sample_windows

    with source.open() as ds:
        block_h, block_w = ds.block_shapes[source.band_indexes[0] - 1]
        if ds.overviews(source.band_indexes[0]):
            return None  # GDAL's decimated read uses them: cheap already
        windows = sample_windows(source, block_h, block_w)
        if windows is None:
            return None
        data = read_sample(ds, source, windows, _read_checked)
    valid = _valid_as_stored(data, source) & (data != 0).any(axis=0)
    # A mostly empty scene (the valid area in a corner): decide on the decimated read, as before.
    return data if valid.mean() >= 0.01 else None


def _decimated(source: RasterSource, max_side: int):
    scale = max(1, int(np.ceil(max(source.width, source.height) / max_side)))
    shape = (len(source.band_indexes), max(1, source.height // scale), max(1, source.width // scale))
    from .gdal_cache import gdal_cache_limit, strip_cache_bytes

    # Without overviews GDAL decimates from full-resolution blocks: keep them from
    # filling its (by default 5 %-of-RAM) cache with the whole scene, while still
    # holding a full row of blocks (a smaller cache re-reads each row: thrashing).
    limit = strip_cache_bytes(source.width, len(source.band_indexes), 512)
    with gdal_cache_limit(limit), source.open() as ds:
        return _read_checked(ds, source, out_shape=shape)


def any_valid_pixel(source: RasterSource, max_side: int = 1024) -> bool:
    """Cheap check on a decimated read: does the scene hold any valid pixel?"""
    return bool(decimated_values(source, max_side)[1].any())


def _umask_permissions(path):
    """Give outputs the usual umask-based mode (whatever created them)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


class AtomicRaster:
    """Write a GeoTIFF under a temporary name; rename it into place on success.

    On any exception (including a cancel) the temporary file is removed, so no
    half-written output is ever left under the destination name. With
    ``cog_resampling`` (e.g. "nearest", "average") the finished GeoTIFF is
    copied to a Cloud Optimized GeoTIFF with overviews before the rename.
    """

    def __init__(self, path: str, cog_resampling: str | None = None, display_name: str | None = None, **profile):
        self.path = os.path.abspath(path)
        self.display_name = display_name or path  # for messages (the destination, not a staged name)
        self.profile = profile
        self.cog_resampling = cog_resampling
        self.tmp = None
        self.ds = None

    def __enter__(self):
        folder = os.path.dirname(self.path) or "."
        os.makedirs(folder, exist_ok=True)
        fd, self.tmp = create_temp(folder, ".tif.part")  # new (never a link); a later run removes it if we are killed
        os.close(fd)
        try:
            self.ds = rasterio.open(self.tmp, "w", **self.profile)
        except BaseException:  # a refused profile, a signal: __exit__ will not run
            os.remove(self.tmp)
            raise
        return self.ds

    def __exit__(self, exc_type, exc, tb):
        written = [self.tmp]
        what = self.display_name
        try:
            with gdal_failures(what):
                self.ds.close()
            if exc_type is None:
                check_all_blocks_written(self.tmp, what)
            if exc_type is None and self.cog_resampling:
                written.append(self.tmp + ".cog")
                with gdal_failures(what):
                    _copy_to_cog(self.tmp, written[-1], self.cog_resampling)
                check_all_blocks_written(written[-1], what)
            if exc_type is None:
                os.replace(written[-1], self.path)
                written.pop()
        finally:
            for p in written + [w + ".aux.xml" for w in written]:
                if os.path.exists(p):
                    os.remove(p)
        return False


def _copy_to_cog(src: str, dst: str, resampling: str) -> None:
    """GDAL's COG driver: internal tiles, overviews built with ``resampling``."""
    from rasterio.shutil import copy as gdal_copy

    gdal_copy(src, dst, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=512, OVERVIEWS="AUTO",
              RESAMPLING=resampling.upper(), BIGTIFF="IF_SAFER", NUM_THREADS="ALL_CPUS")
    _umask_permissions(dst)


def output_profile(source: RasterSource, dtype: str, nodata, count: int = 1) -> dict:
    """A tiled, compressed GeoTIFF profile on exactly the input grid.

    NUM_THREADS: GDAL compresses the blocks leaving its cache on all CPUs
    (the same bytes as one thread; no effect on the pixels).
    """
    tiled = source.width >= 256 and source.height >= 256
    profile = dict(driver="GTiff", width=source.width, height=source.height, count=count,
                   dtype=dtype, nodata=nodata, crs=source.crs, transform=source.transform,
                   compress="deflate", BIGTIFF="IF_SAFER", NUM_THREADS="ALL_CPUS")
    if tiled:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    return profile
