"""segment_scene's strip loop: read -> predict -> blend -> classify -> write, overlapped.

Tiles overlap and are blended with weights (no seams); a buffer one tile high
and the scene wide holds the running weighted sums, and rows are classified
as soon as no later tile touches them, so memory stays flat as scenes grow.
A reader thread decodes the input and cuts tile batches, the main thread
runs the network and the blending, a writer thread classifies, counts and
writes finished rows (core/pipeline.py); each stage works in the order one
thread would, so the map is the same, bit for bit.
"""
from __future__ import annotations

import numpy as np
from rasterio.windows import Window

from .classes import DRY, FLOOD, NODATA, PERMANENT
from .geo.area import CellAreas
from .predict.common import check_finite_probabilities, cpu_threads
from .io.strip_reader import read_strips, strip_tile_batches
from .blending import make_blend
from .pipeline import Clock, Pipeline
from .predict.tiling import blend_weights, tile_starts

WATER = FLOOD  # what the network finds; context layers may turn it into PERMANENT
PROB_NODATA = -1.0
READ_AHEAD = 1  # strips of tile batches waiting for the network (the reader builds the next meanwhile)
WRITE_BEHIND = 2  # strips waiting for compression


def auto_batch_size(predictor) -> int:
    """Tiles per batch when not given: 2 on CPU, 8 on a GPU.

    On 2 CPU cores with the bundled model (2048 px scene) batch 1, 2 and 4 took
    11.0, 11.7-12.4 and 12.8 s and peaked at 1.57-1.62 GB resident whatever the
    batch: CPU convolutions gain nothing from big batches, and the peak is
    dominated by torch itself. A GPU gains from bigger batches (the network
    alone ran at 1003 Mpx/s with 16 tiles of 1024 px on an H100, issue 14);
    8 tiles of 512 px (2 Mpx a pass) is kept until a GPU run shows more helps.
    """
    return 8 if str(getattr(predictor, "device", "cpu")).startswith("cuda") else 2


def run_strips(source, predictor, options, out, prob, result, progress, masks=None, clock=None):
    """Segment ``source`` strip by strip into the open datasets ``out`` (and ``prob``); fill ``result``.

    ``clock`` (core/pipeline.Clock) receives the seconds of each stage: reader thread ``read`` (decode,
    dB) and ``batch`` (tile copies); main thread ``wait for reader``, ``network``, ``blend``,
    ``finish rows`` (core/blending.py; "(queued)" on a GPU), ``wait for writer``; writer thread ``classify`` (classes, context layers,
    counts) and ``write`` (GDAL).
    """
    clock = clock or Clock()
    height, width = source.height, source.width
    rows = tile_starts(height, options.tile, options.overlap)
    cols = tile_starts(width, options.tile, options.overlap)
    th, tw = min(options.tile, height), min(options.tile, width)
    blend = make_blend(predictor, th, width, blend_weights(th, tw, options.overlap))
    areas = CellAreas(source.crs, source.transform, height, width)  # per row, or per pixel if rotated
    batch_size = options.batch_size or auto_batch_size(predictor)
    done, total = 0, len(rows) * len(cols)

    def strips():  # in the reader thread, with its own dataset handle
        with source.open(decode_threads=options.threads) as ds:
            bands = read_strips(ds, source, rows, th, options.chunk_width, cpu_threads(options.threads))
            for top, data, valid in clock.timed("read", bands):
                with clock("batch"):
                    batches = list(strip_tile_batches(data, valid, cols, tw, batch_size))
                del data  # the batches hold copies: one strip less in memory while the queue is full
                yield top, valid, batches

    with Pipeline() as pipe:
        reader, writer = pipe.prefetch(strips, READ_AHEAD), pipe.writer(WRITE_BEHIND)
        for i, (top, valid, batches) in enumerate(clock.timed("wait for reader", reader)):
            progress.check_cancelled()
            for batch, raw, mask in batches:
                blend.add_batch(batch, raw, mask, clock)
                progress.check_cancelled()
                done += len(batch)
                progress.report((i + (batch[-1] + tw) / width) / len(rows), f"segmenting: tile {done} of {total}")
            n = (rows[i + 1] if i + 1 < len(rows) else height) - top
            with clock("finish rows"):
                p = blend.finish_rows(n, valid[:n], top)
                check_finite_probabilities(p, valid[:n], predictor, f"rows {top}..{top + n}")  # NaN: never all dry
            with clock("wait for writer"):
                writer.submit(classify_and_write, p, valid[:n], Window(0, top, width, n), options.threshold,
                              masks, result, areas.strip(top, n), out, prob, clock)
            progress.report((i + 1) / len(rows), f"segmenting: tile {done} of {total}")
        with clock("wait for writer"):
            writer.finish()


def classify_and_write(p, valid, window, threshold, masks, result, areas, out, prob, clock):
    """In the writer thread: classes, context layers, counts, then the write (GDAL compresses
    full blocks as they leave its cache). The main thread goes on with the next strip."""
    with clock("classify"):
        classes = np.where(p >= threshold, np.uint8(WATER), np.uint8(DRY))
        np.copyto(classes, np.uint8(NODATA), where=~valid)
        if masks is not None:  # slope -> dry, permanent water -> 2
            classes = masks.apply(classes, window)
        count_rows(result, classes, areas)
        probability = None if prob is None else np.where(valid, p, np.float32(PROB_NODATA)).astype(np.float32)
    with clock("write"):
        out.write(classes, 1, window=window)
        if prob is not None:
            prob.write(probability, 1, window=window)


def count_rows(result, classes, areas):
    """Add finished rows to the pixel counts, areas and class statistics."""
    rows_valid = (classes != NODATA).sum(axis=1)
    rows_water = ((classes == WATER) | (classes == PERMANENT)).sum(axis=1)
    result.valid_pixels += int(rows_valid.sum())
    result.water_pixels += int(rows_water.sum())
    result.stats.add(classes, areas)  # areas: (rows, 1), or (rows, width) on rotated geographic grids
    if np.isfinite(areas).all():
        if areas.shape[1] == 1:
            result.valid_km2 += float((rows_valid * areas[:, 0]).sum())
            result.water_km2 += float((rows_water * areas[:, 0]).sum())
        else:
            result.valid_km2 += float(areas[classes != NODATA].sum())
            result.water_km2 += float(areas[(classes == WATER) | (classes == PERMANENT)].sum())
