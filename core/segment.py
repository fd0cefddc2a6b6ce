"""Streaming scene segmentation: read, infer and write strip by strip.

This module checks the options, prepares the source, the predictor and the
staged outputs, and publishes them; the strip loop itself (overlapping tiles
blended without seams, a reader and a writer thread beside the network) is
core/strip_engine.py. Memory stays flat as scenes grow.
"""
from __future__ import annotations

import os
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field

from .bands import S1_BANDS
from .classes import DRY, NODATA, PERMANENT
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
from .strip_engine import PROB_NODATA, WATER, auto_batch_size  # noqa: F401 (re-export)
from .strip_engine import run_strips as _run_strips
from .pipeline import Clock

STAGE_TIMES_ENV = "FLOODKD_STAGE_TIMES"  # set (to 1): log the seconds of each stage (benchmarks/)

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
    chunk_width: int = 0  # columns read at once (whole blocks); 0: the whole width (core/io/strip_reader.py)
    # Context layers and products (core/geo/context.py, core/products/derived.py):
    permanent_water: str | None = None  # raster: water where value >= permanent_water_threshold -> class 2
    permanent_water_threshold: float = 80.0  # JRC GSW occurrence in %; 1 for a 0/1 mask
    dem: str | None = None  # elevation (m): water on slopes > max_slope degrees -> dry
    max_slope: float = 5.0
    water_before: str | None = None  # pre-flood class raster (set by core/change.py): its water -> class 2
    water_before_label: str | None = None  # how messages name it (the pre-flood scene, not a temporary file)
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
    check_segment_options(options, progress, input_path)
    start = time.monotonic()
    clock = Clock()
    with clock("statistics"):
        source = prepare_source(input_path, options.units, options.bbox, options.bbox_crs, progress, S1_BANDS)
    if options.method not in ("otsu", "threshold"):
        progress.report(0.0, "loading the model")
    with clock("load model"):
        predictor = make_predictor(options.method, options.model, options.device, options.tta, options.threads,
                                   options.vh_threshold_db)
    result = SegmentResult(output_path, probability_path, predictor.name)
    with ExitStack() as stack:
        stack.enter_context(gdal_cache_limit(strip_cache_bytes(source.width, len(source.band_indexes), options.tile)))
        with clock("prepare predictor"):
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
                    masks, clock)
        if masks is not None:
            masks.report(progress)
        if result.valid_pixels == 0:
            raise InputError(f"{input_path} holds no valid pixel (all NaN or nodata); nothing to segment.")
        _describe_outputs(out, prob, predictor, options)
        closing = time.perf_counter()  # flush, compression of the last blocks, COG copy, checks
    clock.seconds["close outputs"] += time.perf_counter() - closing
    result.predictor = predictor.describe()
    if source.crs is None:  # pixel areas unknown (prepare_source warned): not 0 km2
        result.valid_km2 = result.water_km2 = None
    with clock("products"):
        write_products(input_path, result, options, pub, ScaledProgress(progress, end, 1.0))
    result.seconds = time.monotonic() - start
    if os.environ.get(STAGE_TIMES_ENV):
        progress.info(f"stage seconds, wall/cpu (threads overlap; {result.seconds:.2f} s in all): {clock.describe()}")
    progress.report(1.0, "done")
    return result


def _describe_outputs(out, prob, predictor, options):
    tags = {"FLOODKD_CLASSES": "0=dry,1=water,2=permanent water,255=nodata", "FLOODKD_THRESHOLD": str(options.threshold)}
    tags.update({f"FLOODKD_{k.upper()}": str(v) for k, v in predictor.describe().items()})
    out.update_tags(**tags)
    out.set_band_description(1, "flood class (0 dry, 1 water, 2 permanent water, 255 nodata)")
    if prob is not None:
        prob.update_tags(**tags)
        prob.set_band_description(1, "water probability (0..1, -1 nodata)")
