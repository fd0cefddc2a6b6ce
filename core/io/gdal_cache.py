"""Bound GDAL's block cache while a scene streams through the engine.

GDAL's default cache is 5 % of RAM (1.2 GB on a 24 GB machine) and keeps every
block it has read, so without a limit the resident size grows with the scene
even though the engine only needs a few strips at a time. The cache is
process-wide: the previous limit is restored afterwards. Without GDAL's Python
bindings rasterio's environment sets and restores it.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

MIN_CACHE_BYTES = 64 * 2**20


def strip_cache_bytes(width: int, bands: int, strip_rows: int) -> int:
    """Room for three strips of float32 input: consecutive strips overlap and a
    strip straddles two or three rows of file blocks, which stay cached for the next."""
    return max(MIN_CACHE_BYTES, 3 * strip_rows * width * bands * 4)


@contextmanager
def gdal_cache_limit(limit_bytes: int):
    """Lower GDAL's cache to ``limit_bytes`` (never raise it) for the duration."""
    try:
        from osgeo import gdal
    except ImportError:  # rasterio alone: its Env sets GDAL_CACHEMAX through GDALSetCacheMax and restores it
        with _rasterio_cache_limit(limit_bytes):
            yield
        return
    previous = gdal.GetCacheMax()
    if previous > limit_bytes:
        gdal.SetCacheMax(int(limit_bytes))
    try:
        yield
    finally:
        gdal.SetCacheMax(previous)


def configured_cache_bytes(value) -> float:
    """GDAL's reading of GDAL_CACHEMAX: '10%' of RAM, a number below 100000 in MB, else bytes; unset: 5 %."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 8 * 2**30
    text = str(value or "5%").strip()
    try:
        if text.endswith("%"):
            return ram * float(text[:-1]) / 100
        number = float(text)
    except ValueError:
        return ram * 0.05
    return number * 2**20 if number < 100000 else number


@contextmanager
def _rasterio_cache_limit(limit_bytes: int):
    import rasterio
    from rasterio.env import get_gdal_config

    if configured_cache_bytes(get_gdal_config("GDAL_CACHEMAX", normalize=False)) <= limit_bytes:
        yield
        return
    with rasterio.Env(GDAL_CACHEMAX=int(limit_bytes)):
        yield
