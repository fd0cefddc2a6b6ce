"""Read a scene once, in block-aligned row bands, and hand out overlapping strips of tiles.

A strip is one tile high and the scene wide; consecutive strips overlap by the
tile overlap. Reading each strip as its own window decompressed the rows
shared by two strips twice (and relied on GDAL's cache for the rest); here
the file is read in bands of whole block rows, each pixel decoded once
(``NUM_THREADS`` lets GDAL decode a band's blocks in parallel), converted to
dB once, and the strips are cut from a rolling buffer of those bands. Which
tiles share a batch depends only on the tiling and the batch size, never on
how the file is read: the network sees the same batches whatever the layout.
"""
from __future__ import annotations

import numpy as np
from rasterio.windows import Window

from .raster_io import _read_checked, _valid_in_db

MIN_BAND_ROWS = 256  # striped files (a few rows a block) are read this many rows at a time
MAX_BAND_ROWS = 1024  # taller blocks (one strip for a whole image) are not read whole


def band_rows(block_rows: int) -> int:
    """Rows read at once for a file whose blocks are ``block_rows`` high."""
    if block_rows > MAX_BAND_ROWS:
        return MIN_BAND_ROWS  # huge blocks: GDAL's cache holds the block between reads
    return block_rows * max(1, -(-MIN_BAND_ROWS // block_rows))


def read_strips(ds, source, tops, tile_h: int, chunk_width: int = 0, threads: int = 1):
    """Yield ``(top, data, valid)`` for each strip top in ``tops`` (ascending), in order.

    ``data`` is (C, tile_h, width) float32 dB with invalid pixels 0, ``valid``
    (tile_h, width) bool, exactly what ``read_block`` returns for the strip's
    window. Each file row is read once; ``chunk_width`` > 0 splits the reads
    into column windows of about that width (whole blocks), bounding GDAL's
    temporaries on very wide scenes. ``threads`` > 1 converts each band of
    rows to dB in that many row chunks at once (numpy releases the GIL; the
    conversion is per pixel, so the values are the same).
    """
    if threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads, thread_name_prefix="floodkd-convert") as pool:
            yield from _strips(ds, source, tops, tile_h, chunk_width, pool, threads)
    else:
        yield from _strips(ds, source, tops, tile_h, chunk_width, None, 1)


def _strips(ds, source, tops, tile_h, chunk_width, pool, threads):
    step = band_rows(ds.block_shapes[0][0])
    block_w = ds.block_shapes[0][1]
    chunk = source.width if not chunk_width else max(block_w, chunk_width // block_w * block_w)
    bands = []  # (first row, data, valid) in this source's rows, ascending and contiguous
    next_row = 0
    for top in tops:
        bottom = top + tile_h
        while next_row < bottom:
            # Bands end on file rows that are multiples of ``step`` (block-aligned), whatever the crop.
            end = min(source.height, (source.row_off + next_row) // step * step + step - source.row_off)
            bands.append((next_row, *_read_band(ds, source, next_row, end - next_row, chunk, pool, threads)))
            next_row = end
        while bands and bands[0][0] + bands[0][1].shape[1] <= top:
            bands.pop(0)  # wholly above this strip: no later strip needs it
        yield (top, *_cut(bands, top, bottom))


def _read_band(ds, source, row: int, rows: int, chunk: int, pool, threads: int):
    if chunk >= source.width:
        data = _read_checked(ds, source, Window(0, row, source.width, rows))
    else:
        data = np.empty((len(source.band_indexes), rows, source.width), np.float32)
        for left in range(0, source.width, chunk):
            right = min(source.width, left + chunk)
            data[:, :, left:right] = _read_checked(ds, source, Window(left, row, right - left, rows))
    if pool is None:
        return data, _valid_in_db(data, source)
    step = -(-rows // (2 * threads))
    parts = [pool.submit(_valid_in_db, data[:, a:a + step], source) for a in range(0, rows, step)]
    return data, np.concatenate([p.result() for p in parts])


def _cut(bands, top: int, bottom: int):
    """Rows [top, bottom) of the rolling buffer, as one new array pair."""
    first = bands[0]
    if len(bands) == 1 or first[0] + first[1].shape[1] >= bottom:
        a, b = top - first[0], bottom - first[0]
        return first[1][:, a:b].copy(), first[2][a:b].copy()
    data, valid = [], []
    for row, d, v in bands:
        a, b = max(top, row) - row, min(bottom, row + d.shape[1]) - row
        if a < b:
            data.append(d[:, a:b])
            valid.append(v[a:b])
    return np.concatenate(data, axis=1), np.concatenate(valid, axis=0)


def strip_tile_batches(data, valid, cols, tile_w: int, batch_size: int):
    """Yield ``(batch_cols, raw, mask)`` for one strip's tiles, skipping all-nodata tiles.

    ``raw`` is (N, C, tile_h, tile_w) float32, ``mask`` (N, tile_h, tile_w)
    bool, each tile copied once straight into the batch arrays.
    """
    tile_h = data.shape[1]
    keep = [c for c in cols if valid[:, c:c + tile_w].any()]
    for i in range(0, len(keep), batch_size):
        batch = keep[i:i + batch_size]
        raw = np.empty((len(batch), data.shape[0], tile_h, tile_w), np.float32)
        mask = np.empty((len(batch), tile_h, tile_w), bool)
        for k, c in enumerate(batch):
            raw[k] = data[:, :, c:c + tile_w]
            mask[k] = valid[:, c:c + tile_w]
        yield batch, raw, mask
