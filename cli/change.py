"""``floodkd segment-change --pre-flood PRE INPUT OUTPUT``: the engine of floodkd:segmentchange.

Takes every flag of ``floodkd segment`` (same parser), plus the pre-flood scene.
"""
from __future__ import annotations

from functools import partial

from . import segment as cli_segment


def add_parser(sub, name):
    cli_segment.add_parser(sub, name)
    p = sub.choices[name]
    p.description = ("Segments a pre-flood and a post-flood (INPUT) Sentinel-1 scene with the same method and "
                     "writes a uint8 GeoTIFF on the post-flood grid: 0 dry, 1 flood (water now, not before), "
                     "2 permanent water (water before and now), 255 nodata.")
    p.add_argument("--pre-flood", required=True, help="pre-flood Sentinel-1 VV/VH (dB) raster of the same area")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..core.change import segment_change

    return cli_segment.run(args, engine=partial(segment_change, args.pre_flood))
