"""Read one strip of tiles in column chunks and hand out fixed-size batches.

A strip is one tile high and the scene wide. Reading it in column chunks
(``chunk_width`` px plus one tile) bounds the read buffers for any scene
width; the strip's valid mask (1 byte a pixel) is the only full-width array
kept. Batches are filled across chunk borders, so which tiles share a batch
depends only on the tiling and the batch size, never on the chunk width: the
network sees exactly the same batches whatever the chunking.
"""
from __future__ import annotations

import numpy as np
from rasterio.windows import Window

from .raster_io import read_block


def strip_tile_batches(ds, source, top: int, tile_h: int, cols, tile_w: int, batch_size: int,
                       chunk_width: int, valid_out: np.ndarray):
    """Yield ``(batch_cols, raw, mask)`` for the strip starting at row ``top``.

    ``raw`` is (N, C, tile_h, tile_w) float32 dB (invalid pixels 0), ``mask``
    (N, tile_h, tile_w) bool; all-nodata tiles are skipped. ``valid_out``
    (tile_h, width) receives the strip's valid mask as chunks are read.
    """
    pending = []
    chunk_width = max(int(chunk_width), tile_w)
    i = 0
    while i < len(cols):
        # Tiles whose start lies in [cols[i], cols[i] + chunk_width): read them in one window.
        j = i
        while j < len(cols) and cols[j] < cols[i] + chunk_width:
            j += 1
        left, right = cols[i], cols[j - 1] + tile_w
        data, valid = read_block(ds, source, Window(left, top, right - left, tile_h))
        valid_out[:, left:right] = valid
        for c in cols[i:j]:
            tile_valid = valid[:, c - left:c - left + tile_w]
            if tile_valid.any():  # skip all-nodata tiles
                pending.append((c, data[:, :, c - left:c - left + tile_w].copy(), tile_valid.copy()))
            if len(pending) == batch_size:
                yield _stack(pending)
                pending = []
        del data, valid
        i = j
    if pending:
        yield _stack(pending)


def _stack(pending):
    return ([c for c, _, _ in pending], np.stack([d for _, d, _ in pending]),
            np.stack([m for _, _, m in pending]))
