"""Process only an area: crop a source to the input-grid window under an extent."""
from __future__ import annotations

import math
from dataclasses import replace

from rasterio.windows import Window, from_bounds, transform as window_transform

from ..errors import InputError

# from_bounds on exact pixel edges can give 9.9999999 or 10.0000001; treat
# differences below this (in pixels) as on the edge.
EDGE_TOLERANCE_PX = 1e-6


def parse_bbox(text: str) -> tuple:
    """``"xmin,ymin,xmax,ymax"`` -> floats, with an error that shows the format."""
    try:
        values = tuple(float(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise InputError(f"bbox '{text}' is not 'xmin,ymin,xmax,ymax' (four numbers separated by commas)")
    return check_bbox(values, text)


def check_bbox(values, text=None) -> tuple:
    """Four finite numbers with xmin < xmax and ymin < ymax, else an InputError showing the format."""
    shown = text if text is not None else ",".join(str(v) for v in values)
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InputError(f"bbox '{shown}' must be four finite numbers 'xmin,ymin,xmax,ymax' (no NaN or inf)")
    if values[0] >= values[2] or values[1] >= values[3]:
        raise InputError(f"bbox '{shown}' is not 'xmin,ymin,xmax,ymax' with xmin < xmax and ymin < ymax")
    return tuple(float(v) for v in values)


def bbox_in_source_crs(source, bbox, bbox_crs):
    """``bbox`` reprojected from ``bbox_crs`` into the input's CRS (None: already in it)."""
    if bbox_crs is None or str(bbox_crs).strip() == "":
        return bbox
    from rasterio.crs import CRS
    from rasterio.errors import CRSError

    try:
        crs = CRS.from_user_input(bbox_crs)
    except (CRSError, ValueError, TypeError) as exc:
        raise InputError(f"the extent's CRS '{bbox_crs}' is not a valid CRS ({exc}); give one such as "
                         "EPSG:4326, or none for the input's CRS.") from None
    if source.crs is None:
        raise InputError(f"{source.path} has no CRS, so an extent in {bbox_crs} cannot be placed on it; give the "
                         "extent in the input's own coordinates without a CRS, or georeference the input "
                         "(e.g. gdal_edit.py -a_srs EPSG:32630).")
    if crs == source.crs:
        return bbox
    from rasterio.warp import transform_bounds

    try:
        return transform_bounds(crs, source.crs, *bbox, densify_pts=21)
    except Exception as exc:  # PROJ cannot transform (outside the CRS's area of use)
        raise InputError(f"the extent {tuple(bbox)} in {bbox_crs} cannot be transformed into {source.crs} "
                         f"({exc}); give the extent in the input's CRS.") from None


def crop_to_extent(source, bbox, bbox_crs=None):
    """The part of ``source``'s grid that intersects ``bbox``, still on its pixels.

    ``bbox`` is (xmin, ymin, xmax, ymax) in ``bbox_crs`` (None: the input's CRS;
    an invalid CRS, or a CRS for an input without one, is an InputError);
    another CRS is reprojected into the input's (edges densified, so the box
    grows to cover the curved outline). Pixels partly inside count as inside.
    Returns a new RasterSource whose reads and output grid cover just that window.
    """
    bbox = check_bbox(tuple(bbox))
    xmin, ymin, xmax, ymax = bbox_in_source_crs(source, bbox, bbox_crs)
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        raise InputError(f"the extent {bbox} in {bbox_crs} has no finite coordinates in {source.crs}; give the "
                         "extent in the input's CRS.")
    # Clip to the scene first: a box of +-1e308 would make the pixel window infinite.
    corners = [source.transform * xy for xy in ((0, 0), (source.width, 0), (0, source.height),
                                                 (source.width, source.height))]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    xmin, xmax = max(xmin, min(xs)), min(xmax, max(xs))
    ymin, ymax = max(ymin, min(ys)), min(ymax, max(ys))
    win = from_bounds(xmin, ymin, xmax, ymax, transform=source.transform) if xmin < xmax and ymin < ymax else None
    if win is None:
        col0 = col1 = row0 = row1 = 0
    else:
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
