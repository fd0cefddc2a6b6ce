"""Catch GeoTIFF writes that GDAL only logs as failed (a full disk, a file-size limit).

GDAL flushes blocks from its cache and writes the TIFF directory when a
dataset is closed; a failure there is printed as "ERROR 1: ..." but raises
nothing, and a block that could not be written reads back as nodata. So a
finished file is accepted only when closing it logged no error and every one
of its blocks has a place in the file.
"""
from __future__ import annotations

import math
from contextlib import contextmanager


@contextmanager
def gdal_failures(what: str):
    """Raise OSError after the block if GDAL logged a failure (in this thread) within it."""
    from osgeo import gdal

    failures = []

    def record(level, number, message):
        if level >= gdal.CE_Failure:
            failures.append(message)

    gdal.PushErrorHandler(record)
    try:
        yield
    finally:
        gdal.PopErrorHandler()
    if failures:
        raise OSError(f"writing {what} failed: {failures[0]}")


def check_all_blocks_written(path: str, what: str):
    """Raise OSError unless GDAL opens the GeoTIFF at ``path`` and each block of band 1 has an offset."""
    from osgeo import gdal

    with gdal_failures(what):
        ds = gdal.Open(path)
    if ds is None:
        raise OSError(f"writing {what} failed: the file cannot be read back")
    band = ds.GetRasterBand(1)
    bx, by = band.GetBlockSize()
    for y in range(math.ceil(ds.RasterYSize / by)):
        for x in range(math.ceil(ds.RasterXSize / bx)):
            if not int(band.GetMetadataItem(f"BLOCK_OFFSET_{x}_{y}", "TIFF") or 0):
                raise OSError(f"writing {what} failed: block {x},{y} is missing")
