"""Catch GeoTIFF writes that GDAL only logs as failed (a full disk, a file-size limit).

GDAL flushes blocks from its cache and writes the TIFF directory when a
dataset is closed; a failure there is logged ("ERROR 1: ...") but raises
nothing, and a block that could not be written reads back as nodata. So a
finished file is accepted only when closing it logged no error and every one
of its blocks has a place in the file. Only rasterio is used (its GDAL error
handler logs failures to the ``rasterio._env`` logger): no GDAL bindings needed.
"""
from __future__ import annotations

import logging
import math
import threading
from contextlib import contextmanager

import rasterio
from rasterio.errors import RasterioIOError

GDAL_LOGGER = "rasterio._env"  # rasterio's GDAL error handler logs CE_Failure here as "GDAL signalled an error"


class _FailureRecorder(logging.Filter):
    """Keeps the GDAL failures logged in one thread; lets through only what the logger let through before."""

    def __init__(self, thread, previous_level):
        super().__init__()
        self.thread, self.previous_level, self.failures = thread, previous_level, []

    def filter(self, record):
        if record.thread == self.thread and record.getMessage().startswith("GDAL signalled an error"):
            args = record.args if isinstance(record.args, tuple) else ()
            self.failures.append(str(args[-1]) if args else record.getMessage())
        return record.levelno >= self.previous_level


@contextmanager
def gdal_failures(what: str):
    """Raise OSError after the block if GDAL logged a failure (in this thread) within it."""
    logger = logging.getLogger(GDAL_LOGGER)
    level = logger.level
    recorder = _FailureRecorder(threading.get_ident(), logger.getEffectiveLevel())
    logger.addFilter(recorder)
    logger.setLevel(min(logging.INFO, recorder.previous_level))
    try:
        with rasterio.Env():  # rasterio's error handler is active only inside an environment
            yield
    finally:
        logger.removeFilter(recorder)
        logger.setLevel(level)
    if recorder.failures:
        raise OSError(f"writing {what} failed: {recorder.failures[0]}")


def check_all_blocks_written(path: str, what: str):
    """Raise OSError unless the GeoTIFF at ``path`` opens and each block of band 1 has an offset in the file."""
    try:
        with gdal_failures(what):
            ds = rasterio.open(path)
    except RasterioIOError as exc:
        raise OSError(f"writing {what} failed: the file cannot be read back ({exc})") from exc
    with ds:
        by, bx = ds.block_shapes[0]
        for y in range(math.ceil(ds.height / by)):
            for x in range(math.ceil(ds.width / bx)):
                if not int(ds.get_tag_item(f"BLOCK_OFFSET_{x}_{y}", "TIFF", bidx=1) or 0):
                    raise OSError(f"writing {what} failed: block {x},{y} is missing")
