"""``floodkd segment INPUT OUTPUT``: the same engine and codes as floodkd:segment."""
from __future__ import annotations

import json


def add_parser(sub, name):
    p = sub.add_parser(name, help="map water in a Sentinel-1 VV/VH (dB) scene",
                       description="Writes a uint8 GeoTIFF on the input grid: 0 dry, 1 water, 255 nodata.")
    p.add_argument("input", help="Sentinel-1 raster with VV and VH in dB (GeoTIFF, VRT, ...)")
    p.add_argument("output", help="destination GeoTIFF for the class raster")
    p.add_argument("--model", help="floodkd checkpoint (.pt); default: the bundled model, else Otsu")
    p.add_argument("--method", choices=["auto", "model", "otsu"], default="auto")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    p.add_argument("--threshold", type=float, default=0.5, help="water-probability cut (default 0.5)")
    p.add_argument("--probability", help="also write float32 water probability here")
    p.add_argument("--tile", type=int, default=512)
    p.add_argument("--overlap", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--tta", action="store_true", help="flip test-time augmentation (3x slower)")
    p.add_argument("--quicklook", help="also write a PNG quick-look here")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..core.progress import TerminalProgress
    from ..core.quicklook import write_quicklook
    from ..core.segment import SegmentOptions, segment_scene

    options = SegmentOptions(method=args.method, model=args.model, device=args.device,
                             threshold=args.threshold, tile=args.tile, overlap=args.overlap,
                             batch_size=args.batch_size, tta=args.tta)
    result = segment_scene(args.input, args.output, options, args.probability, TerminalProgress())
    if args.quicklook:
        write_quicklook(args.input, args.output, args.quicklook)
    summary = result.as_dict()
    summary["quicklook"] = args.quicklook
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {result.output} ({result.method}): water {result.water_km2:.3f} km2 "
              f"of {result.valid_km2:.3f} km2 valid, {result.seconds:.1f} s")
    return 0
