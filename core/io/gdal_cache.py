"""Bound GDAL's block cache while a scene streams through the engine.

GDAL's default cache is 5 % of RAM (1.2 GB on a 24 GB machine) and keeps every
block it has read, so without a limit the resident size grows with the scene
even though the engine only needs a few strips at a time. The cache is
process-wide: the previous limit is restored afterwards.
"""
from __future__ import annotations

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
    except ImportError:  # rasterio without the GDAL bindings: leave the cache alone
        yield
        return
    previous = gdal.GetCacheMax()
    if previous > limit_bytes:
        gdal.SetCacheMax(int(limit_bytes))
    try:
        yield
    finally:
        gdal.SetCacheMax(previous)
