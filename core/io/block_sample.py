"""A sample of a scene's values that costs a small fraction of reading it.

Unit detection and the plausibility checks need a few million values spread
over the scene. A decimated read (every n-th pixel) of a GeoTIFF without
overviews decodes every block, which is as slow as reading the whole scene:
on a 6144 px scene it took as long as all the strip reads of the threshold
method together. Whole blocks, spread evenly over the scene's block grid,
give more values at a fraction of the cost (about 2 Mpx of a 419 Mpx scene).
"""
from __future__ import annotations

import math

import numpy as np
from rasterio.windows import Window

SAMPLE_PIXELS = 2 * 2**20  # pixels decoded (whole blocks)
MAX_VALUES = 2**20  # values kept (every n-th of the sample): the medians cost as with the decimated read
MIN_SAVING = 4  # sample only when the scene holds at least this many times the sample


def sample_windows(source, block_h: int, block_w: int, pixels: int = 0):
    """Windows (in the source's grid) of whole file blocks, evenly spread, about ``pixels``
    (0: SAMPLE_PIXELS) in all. None when that would not be much cheaper than reading everything.
    """
    pixels = pixels or SAMPLE_PIXELS
    top, left = source.row_off, source.col_off  # the source window in the file
    rows = range(top // block_h, (top + source.height - 1) // block_h + 1)
    cols = range(left // block_w, (left + source.width - 1) // block_w + 1)
    wanted = max(1, math.ceil(pixels / (block_h * block_w)))
    if len(rows) * len(cols) < MIN_SAVING * wanted:
        return None
    n_rows = min(len(rows), max(1, math.ceil(math.sqrt(wanted * len(rows) / len(cols)))))
    n_cols = min(len(cols), math.ceil(wanted / n_rows))
    windows = []
    for r in _spread(rows, n_rows):
        for c in _spread(cols, n_cols):
            y0, x0 = max(top, r * block_h), max(left, c * block_w)
            y1 = min(top + source.height, (r + 1) * block_h)
            x1 = min(left + source.width, (c + 1) * block_w)
            windows.append(Window(x0 - left, y0 - top, x1 - x0, y1 - y0))
    return windows


def _spread(indexes, n):
    """``n`` of ``indexes``, evenly spaced, centred in their share."""
    return [indexes[int((k + 0.5) * len(indexes) / n)] for k in range(n)]


def read_sample(ds, source, windows, read):
    """``read(ds, source, window)`` of each window, as one (bands, 1, N) array of at most about MAX_VALUES."""
    parts = [read(ds, source, w) for w in windows]
    values = np.concatenate([p.reshape(p.shape[0], 1, -1) for p in parts], axis=2)
    step = -(-values.shape[2] // MAX_VALUES)
    return values[:, :, ::step] if step > 1 else values
