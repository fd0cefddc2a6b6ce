"""Process only an area: crop a source to the input-grid window under an extent."""
from __future__ import annotations

import math
from dataclasses import replace

from rasterio.windows import Window, from_bounds, transform as window_transform

from .errors import InputError

# from_bounds on exact pixel edges can give 9.9999999 or 10.0000001; treat
# differences below this (in pixels) as on the edge.
EDGE_TOLERANCE_PX = 1e-6


def parse_bbox(text: str) -> tuple:
    """``"xmin,ymin,xmax,ymax"`` -> floats, with an error that shows the format."""
    try:
        values = tuple(float(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or values[0] >= values[2] or values[1] >= values[3]:
        raise InputError(f"bbox '{text}' is not 'xmin,ymin,xmax,ymax' with xmin < xmax and ymin < ymax")
    return values


def crop_to_extent(source, bbox, bbox_crs=None):
    """The part of ``source``'s grid that intersects ``bbox``, still on its pixels.

    ``bbox`` is (xmin, ymin, xmax, ymax) in ``bbox_crs`` (None: the input's CRS);
    another CRS is reprojected into the input's (edges densified, so the box
    grows to cover the curved outline). Pixels partly inside count as inside.
    Returns a new RasterSource whose reads and output grid cover just that window.
    """
    xmin, ymin, xmax, ymax = bbox
    if bbox_crs is not None and source.crs is not None and str(bbox_crs) != str(source.crs):
        from rasterio.crs import CRS
        from rasterio.warp import transform_bounds

        xmin, ymin, xmax, ymax = transform_bounds(CRS.from_user_input(bbox_crs), source.crs,
                                                  xmin, ymin, xmax, ymax, densify_pts=21)
    win = from_bounds(xmin, ymin, xmax, ymax, transform=source.transform)
    col0 = max(0, math.floor(win.col_off + EDGE_TOLERANCE_PX))
    row0 = max(0, math.floor(win.row_off + EDGE_TOLERANCE_PX))
    col1 = min(source.width, math.ceil(win.col_off + win.width - EDGE_TOLERANCE_PX))
    row1 = min(source.height, math.ceil(win.row_off + win.height - EDGE_TOLERANCE_PX))
    if col1 <= col0 or row1 <= row0:
        left, top = source.transform * (0, 0)
        right, bottom = source.transform * (source.width, source.height)
        raise InputError(
            f"the extent {tuple(round(v, 6) for v in bbox)}"
            f"{' (' + str(bbox_crs) + ')' if bbox_crs else ''} does not overlap {source.path}, which covers "
            f"x {min(left, right):.6f}..{max(left, right):.6f}, y {min(top, bottom):.6f}..{max(top, bottom):.6f} "
            f"in {source.crs}. Give an extent inside the scene, or none for the whole scene.")
    window = Window(col0, row0, col1 - col0, row1 - row0)
    return replace(source, col_off=source.col_off + col0, row_off=source.row_off + row0,
                   width=col1 - col0, height=row1 - row0,
                   transform=window_transform(window, source.transform))
