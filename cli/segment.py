"""``floodkd segment INPUT OUTPUT``: the same engine and codes as floodkd:segment."""
from __future__ import annotations

import json
import signal
import threading
from contextlib import contextmanager


def add_parser(sub, name):
    p = sub.add_parser(name, help="map water in a Sentinel-1 VV/VH (dB) scene",
                       description="Writes a uint8 GeoTIFF on the input grid: 0 dry, 1 water, 255 nodata.")
    p.add_argument("input", help="Sentinel-1 raster with VV and VH in dB, linear power or amplitude "
                                 "(GeoTIFF, COG, VRT, anything GDAL reads)")
    p.add_argument("output", help="destination GeoTIFF for the class raster")
    p.add_argument("--probability", help="also write float32 water probability here")
    p.add_argument("--quicklook", help="also write a PNG quick-look here")
    add_engine_arguments(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    add_context_arguments(p)
    p.set_defaults(run=run)


def add_engine_arguments(p):
    """The options of the engine itself (shared with segment-change and segment-batch)."""
    p.add_argument("--model", help="floodkd checkpoint (.pt, torch) or exported model (.onnx, onnxruntime); "
                                   "default: the bundled model (.onnx where onnxruntime is installed)")
    p.add_argument("--method", choices=["auto", "model", "otsu", "threshold"], default="auto",
                   help="auto: the model (default: the bundled one); otsu: per-scene Otsu on VH; threshold: "
                        "water where VH is below --vh-threshold-db")
    p.add_argument("--vh-threshold-db", type=float, default=None,
                   help="dB for --method threshold (default -23.25, chosen on the training data; "
                        "see core/predict/threshold_predictor.py)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    p.add_argument("--threshold", type=float, default=0.5, help="water-probability cut (default 0.5)")
    p.add_argument("--tile", type=int, default=512)
    p.add_argument("--overlap", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=0, help="tiles per batch; 0 = auto (2 on CPU, 8 on GPU)")
    p.add_argument("--tta", action="store_true", help="flip test-time augmentation (3x slower)")
    p.add_argument("--units", default="auto", choices=["auto", "db", "linear", "amplitude"],
                   help="units of the input values (default: detected from them); converted to dB")
    p.add_argument("--bbox", help="process only this area: xmin,ymin,xmax,ymax (in the input CRS unless --bbox-crs)")
    p.add_argument("--bbox-crs", help="CRS of --bbox, e.g. EPSG:4326 (default: the input's)")
    p.add_argument("--cog", action="store_true", help="write Cloud Optimized GeoTIFFs (with overviews)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for the network (default: all usable CPUs)")


def add_context_arguments(p, product_paths=True):
    """Context layers and --min-area; with ``product_paths`` also --polygons PATH and --stats PATH."""
    g = p.add_argument_group("context layers and products")
    g.add_argument("--permanent-water", help="raster (any grid/CRS): water where value >= threshold is "
                   "permanent water (class 2), e.g. JRC GSW occurrence (%%)")
    g.add_argument("--permanent-water-threshold", type=float, default=80.0,
                   help="default 80 (%% occurrence); use 1 for a 0/1 mask")
    g.add_argument("--dem", help="elevation raster (m): water on steeper slopes becomes dry")
    g.add_argument("--max-slope", type=float, default=5.0, help="degrees (default 5)")
    g.add_argument("--min-area", type=float, default=0.0, help="drop polygons smaller than this (m2)")
    if product_paths:
        g.add_argument("--polygons", help="also write water polygons here (GeoPackage .gpkg, or "
                                          "x.gpkg|layername=NAME for a layer other than flood_water)")
        g.add_argument("--stats", help="also write area statistics here (.csv or .json)")


def context_options(options, args):
    """Copy the context/product flags into SegmentOptions."""
    options.permanent_water, options.permanent_water_threshold = args.permanent_water, args.permanent_water_threshold
    options.dem, options.max_slope, options.min_area = args.dem, args.max_slope, args.min_area
    return options


def segment_options(args):
    """SegmentOptions from the parsed engine and context flags."""
    from ..core.geo.extent import parse_bbox
    from ..core.segment import SegmentOptions

    options = SegmentOptions(method=args.method, model=args.model, device=args.device,
                             threshold=args.threshold, tile=args.tile, overlap=args.overlap,
                             batch_size=args.batch_size, tta=args.tta, units=args.units,
                             bbox=parse_bbox(args.bbox) if args.bbox else None, bbox_crs=args.bbox_crs,
                             cog=args.cog, threads=args.threads, vh_threshold_db=args.vh_threshold_db)
    return context_options(options, args)


@contextmanager
def terminate_as_interrupt():
    """SIGTERM (kill, a batch scheduler's stop) ends the run like Ctrl-C: its temporary files are removed."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args, engine=None) -> int:
    """Run ``engine`` (default segment_scene; cli_change passes segment_change) and report."""
    from ..core.geo.area import km2_text
    from .progress_bar import TqdmProgress
    from ..core.segment import segment_scene

    options = segment_options(args)
    engine = engine or segment_scene
    with terminate_as_interrupt(), TqdmProgress() as progress:
        result = engine(args.input, args.output, options, args.probability,
                        progress, args.polygons, args.stats, args.quicklook)
    summary = result.as_dict()
    summary["quicklook"] = args.quicklook
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {result.output} ({result.method}): water {km2_text(result.water_km2)} "
              f"of {km2_text(result.valid_km2)} valid, {result.seconds:.1f} s")
        if args.permanent_water or getattr(args, "pre_flood", None):
            print(f"flood {result.stats.flooded_km2:.3f} km2, permanent water {result.stats.permanent_water_km2:.3f} km2")
        for path in (args.probability, args.polygons, args.stats, args.quicklook):
            if path:
                print(f"wrote {path}")
    return 0
