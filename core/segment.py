"""Streaming scene segmentation: read, infer and write strip by strip.

Tiles overlap and are blended with weights (no seams); a buffer one tile high
and the scene wide holds the running weighted sums, and rows are written as
soon as no later tile touches them, so memory stays flat as scenes grow.
"""
from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field

import numpy as np
from rasterio.windows import Window

from .geo.area import row_areas_km2
from .bands import S1_BANDS
from .classes import DRY, FLOOD, NODATA, PERMANENT
from .geo.context import context_masks
from .errors import InputError
from .io.gdal_cache import gdal_cache_limit, strip_cache_bytes
from .option_checks import check_segment_options
from .predict.factory import make_predictor
from .io.destinations import Destinations, run_inputs
from .products.derived import write_products
from .io.publish import publishing
from .progress import Progress, ScaledProgress, TimeLeft
from .io.raster_io import output_profile
from .source_prep import prepare_source
from .products.stats import ClassStats
from .io.strip_reader import strip_tile_batches
from .predict.tiling import blend_weights, tile_starts

WATER = FLOOD  # what the network finds; context layers may turn it into PERMANENT
PROB_NODATA = -1.0
CLASS_COLORS = {DRY: (230, 230, 230, 0), WATER: (31, 120, 220, 255), PERMANENT: (8, 48, 107, 255), NODATA: (0, 0, 0, 0)}


@dataclass
class SegmentOptions:
    method: str = "auto"  # auto (model if any, else otsu) | model | otsu | threshold (fixed VH dB)
    model: str | None = None  # checkpoint path; None = the bundled default
    device: str = "auto"
    threshold: float = 0.5  # water-probability cut
    vh_threshold_db: float | None = None  # method 'threshold': water below this VH dB (None: the default)
    tile: int = 512
    overlap: int = 64
    batch_size: int = 0  # tiles per forward pass; 0 = auto (2 on CPU: same speed, less memory; 8 on CUDA)
    tta: bool = False
    units: str = "auto"  # of the input values: auto | db | linear | amplitude (core/units.py)
    bbox: tuple | None = None  # (xmin, ymin, xmax, ymax): process only this area
    bbox_crs: str | None = None  # CRS of bbox; None = the input's
    cog: bool = False  # write Cloud Optimized GeoTIFFs (with overviews)
    threads: int = 0  # CPU threads for the network; 0 = the CPUs this process may use
    chunk_width: int = 4096  # columns read at once within a strip (bounds memory on wide scenes)
    # Context layers and products (core/geo/context.py, core/products/derived.py):
    permanent_water: str | None = None  # raster: water where value >= permanent_water_threshold -> class 2
    permanent_water_threshold: float = 80.0  # JRC GSW occurrence in %; 1 for a 0/1 mask
    dem: str | None = None  # elevation (m): water on slopes > max_slope degrees -> dry
    max_slope: float = 5.0
    water_before: str | None = None  # pre-flood class raster (set by core/change.py): its water -> class 2
    min_area: float = 0.0  # m2: smaller flood polygons are dropped (polygons only, not the raster)


@dataclass
class SegmentResult:
    output: str
    probability: str | None
    method: str
    valid_pixels: int = 0
    water_pixels: int = 0
    valid_km2: float = 0.0
    water_km2: float = 0.0
    seconds: float = 0.0
    predictor: dict = field(default_factory=dict)
    stats: ClassStats = field(default_factory=ClassStats)  # per-class pixels and km2 (0, 1, 2, 255)
    polygons: dict | None = None  # counts and area of the flood polygons, when written

    def as_dict(self):
        return asdict(self)


def segment_scene(input_path: str, output_path: str, options: SegmentOptions | None = None,
                  probability_path: str | None = None, progress: Progress | None = None,
                  polygons_path: str | None = None, stats_path: str | None = None, quicklook_path: str | None = None,
                  style=None, publication=None) -> SegmentResult:
    """Map water in a Sentinel-1 VV/VH (dB) scene and write a uint8 class GeoTIFF.

    Output codes: 0 dry, 1 water, 255 nodata (declared), on exactly the input
    grid. ``probability_path`` optionally receives float32 water probability
    (nodata -1). Raises InputError/CheckpointError/Cancelled; on any error no
    file is left under either destination name. Context layers in ``options``
    (permanent water, DEM slope) refine the classes (2 = permanent water);
    ``polygons_path`` (.gpkg), ``stats_path`` (.csv/.json) and ``quicklook_path``
    (.png) add products. All are published together at the end or not at all
    (core/io/publish.py; ``style`` and ``publication`` are explained there).
    """
    options = options or SegmentOptions()
    progress = progress or Progress()
    destinations = Destinations(output_path, probability_path or None, polygons_path or None, stats_path or None,
                                quicklook_path or None)
    with publishing(destinations, run_inputs(options, INPUT=input_path), style, progress, publication) as pub:
        return _segment_staged(pub, input_path, options, progress)


def _segment_staged(pub, input_path, options, progress):
    """segment_scene's work, writing every product to its staged name in ``pub``."""
    output_path, probability_path, polygons_path = (pub.destinations.output, pub.destinations.probability,
                                                    pub.destinations.polygons)
    check_segment_options(options, progress)
    start = time.monotonic()
    source = prepare_source(input_path, options.units, options.bbox, options.bbox_crs, progress, S1_BANDS)
    if options.method not in ("otsu", "threshold"):
        progress.report(0.0, "loading the model")
    predictor = make_predictor(options.method, options.model, options.device, options.tta, options.threads,
                               options.vh_threshold_db)
    result = SegmentResult(output_path, probability_path, predictor.name)
    with ExitStack() as stack:
        stack.enter_context(gdal_cache_limit(strip_cache_bytes(source.width, len(source.band_indexes), options.tile)))
        predictor.prepare(source, ScaledProgress(progress, 0.0, 0.1))
        cog = ("nearest", "average") if options.cog else (None, None)
        out = stack.enter_context(
            pub.raster(output_path, cog[0], **output_profile(source, "uint8", NODATA)))
        # Before any pixel: libtiff cannot change the photometric tag of a file being written.
        out.write_colormap(1, CLASS_COLORS)
        prob = None
        if probability_path:
            prob = stack.enter_context(
                pub.raster(probability_path, cog[1], **output_profile(source, "float32", PROB_NODATA)))
        masks = context_masks(stack, source, options)
        end = 0.9 if polygons_path else 1.0
        _run_strips(source, predictor, options, out, prob, result, TimeLeft(ScaledProgress(progress, 0.1, end)),
                    masks)
        if masks is not None:
            masks.report(progress)
        if result.valid_pixels == 0:
            raise InputError(f"{input_path} holds no valid pixel (all NaN or nodata); nothing to segment.")
        _describe_outputs(out, prob, predictor, options)
    result.predictor = predictor.describe()
    if source.crs is None:  # pixel areas unknown (prepare_source warned): not 0 km2
        result.valid_km2 = result.water_km2 = None
    write_products(input_path, result, options, pub, ScaledProgress(progress, end, 1.0))
    result.seconds = time.monotonic() - start
    progress.report(1.0, "done")
    return result


def auto_batch_size(predictor) -> int:
    """Tiles per batch when not given: 2 on CPU, 8 on a GPU.

    On 2 CPU cores with the bundled model (2048 px scene) batch 1, 2 and 4 took
    11.0, 11.7-12.4 and 12.8 s and peaked at 1.57-1.62 GB resident whatever the
    batch: CPU convolutions gain nothing from big batches, and the peak is
    dominated by torch itself (importing the CUDA build of torch 0.52 GB, smp
    0.2 GB, the model 0.13 GB). A GPU does gain from bigger batches.
    """
    return 8 if str(getattr(predictor, "device", "cpu")).startswith("cuda") else 2


def _run_strips(source, predictor, options, out, prob, result, progress, masks=None):
    height, width = source.height, source.width
    rows = tile_starts(height, options.tile, options.overlap)
    cols = tile_starts(width, options.tile, options.overlap)
    th, tw = min(options.tile, height), min(options.tile, width)
    weights = blend_weights(th, tw, options.overlap)
    acc = np.zeros((th, width), np.float32)
    wsum = np.zeros((th, width), np.float32)
    valid = np.zeros((th, width), bool)
    areas = row_areas_km2(source.crs, source.transform, height)
    batch_size = options.batch_size or auto_batch_size(predictor)
    done, total = 0, len(rows) * len(cols)
    with source.open() as ds:
        for i, top in enumerate(rows):
            progress.check_cancelled()
            batches = strip_tile_batches(ds, source, top, th, cols, tw, batch_size,
                                         options.chunk_width, valid)
            for batch, raw, mask in batches:
                p = predictor.predict(raw, mask)
                for k, c in enumerate(batch):
                    acc[:, c:c + tw] += p[k] * weights
                    wsum[:, c:c + tw] += weights
                progress.check_cancelled()
                done += len(batch)
                progress.report((i + (batch[-1] + tw) / width) / len(rows), f"segmenting: tile {done} of {total}")
            nxt = rows[i + 1] if i + 1 < len(rows) else height
            n = nxt - top
            _write_rows(top, n, acc, wsum, valid, options.threshold, out, prob, result, areas, masks)
            keep = th - n
            acc[:keep], wsum[:keep] = acc[n:].copy(), wsum[n:].copy()
            acc[keep:], wsum[keep:] = 0.0, 0.0
            progress.report((i + 1) / len(rows), f"segmenting: tile {done} of {total}")


def _write_rows(top, n, acc, wsum, valid, threshold, out, prob, result, areas, masks=None):
    v, w = valid[:n], wsum[:n]
    if (v & (w <= 0)).any():  # every valid pixel must have been predicted
        raise RuntimeError(f"tiling left valid pixels without prediction in rows {top}..{top + n}")
    p = np.divide(acc[:n], w, out=np.zeros_like(w), where=w > 0)
    water = v & (p >= threshold)
    classes = np.full(v.shape, NODATA, np.uint8)
    classes[v] = DRY
    classes[water] = WATER
    window = Window(0, top, v.shape[1], n)
    if masks is not None:  # slope -> dry, permanent water -> 2
        classes = masks.apply(classes, window)
        water = (classes == WATER) | (classes == PERMANENT)
    out.write(classes, 1, window=window)
    if prob is not None:
        prob.write(np.where(v, p, np.float32(PROB_NODATA)).astype(np.float32), 1, window=window)
    rows_valid, rows_water = v.sum(axis=1), water.sum(axis=1)
    result.valid_pixels += int(rows_valid.sum())
    result.water_pixels += int(rows_water.sum())
    a = areas[top:top + n]
    result.stats.add(classes, a)
    if np.isfinite(a).all():
        result.valid_km2 += float((rows_valid * a).sum())
        result.water_km2 += float((rows_water * a).sum())


def _describe_outputs(out, prob, predictor, options):
    tags = {"FLOODKD_CLASSES": "0=dry,1=water,2=permanent water,255=nodata", "FLOODKD_THRESHOLD": str(options.threshold)}
    tags.update({f"FLOODKD_{k.upper()}": str(v) for k, v in predictor.describe().items()})
    out.update_tags(**tags)
    out.set_band_description(1, "flood class (0 dry, 1 water, 2 permanent water, 255 nodata)")
    if prob is not None:
        prob.update_tags(**tags)
        prob.set_band_description(1, "water probability (0..1, -1 nodata)")
