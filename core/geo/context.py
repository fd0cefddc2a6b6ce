"""Context layers resampled onto the SAR grid window by window: permanent water and slope.

Each layer is read through a rasterio ``WarpedVRT`` on the output grid, so only
the strip being written is ever resampled and memory stays flat however large
the layer (a JRC Global Surface Water tile, a national DEM) is.

Rules applied to the predicted water of each strip, in this order:
1. slope (from DEM) above ``max_slope`` degrees -> dry (radar shadow / layover
   look-alikes); pixels without DEM data keep their class;
2. water where a permanent-water layer is ``>= threshold`` (or where the
   pre-flood scene was water) -> permanent water (2); the rest stays flood (1).
"""
from __future__ import annotations

import numpy as np
from rasterio.windows import Window

from .area import EARTH_RADIUS_M
from ..classes import DRY, FLOOD, NODATA, PERMANENT
from ..errors import InputError


def check_covers(ds, path, what, grid) -> None:
    """Refuse a layer (open dataset ``ds``) without a CRS or outside ``grid`` (crs, transform, width, height)."""
    from rasterio.warp import transform_bounds

    if ds.crs is None:
        raise InputError(f"{what} layer {path} has no CRS; georeference it (e.g. gdal_edit.py -a_srs) "
                         "so it can be resampled onto the scene's grid.")
    crs, transform, width, height = grid
    if crs is None:
        raise InputError(f"the scene has no CRS, so the {what} layer {path} cannot be placed on it; "
                         "georeference the scene (e.g. gdal_edit.py -a_srs).")
    left, top = transform * (0, 0)
    right, bottom = transform * (width, height)
    scene = (min(left, right), min(top, bottom), max(left, right), max(top, bottom))
    b = transform_bounds(ds.crs, crs, *ds.bounds, densify_pts=21)
    if b[0] >= scene[2] or b[2] <= scene[0] or b[1] >= scene[3] or b[3] <= scene[1]:
        raise InputError(
            f"{what} layer {path} does not overlap the scene: its extent in the scene's CRS is "
            f"{tuple(round(v, 6) for v in b)}, the scene's is {tuple(round(v, 6) for v in scene)}. "
            "Give a layer that covers the scene.")


class _Layer:
    """One context raster warped onto the output grid (optionally with a halo)."""

    def __init__(self, stack, path, what, grid, resampling, halo=0, label=None):
        import rasterio
        from affine import Affine
        from rasterio.vrt import WarpedVRT

        self.what, self.halo = what, halo
        self.path = label or path  # as messages name it
        try:
            ds = stack.enter_context(rasterio.open(path))
        except rasterio.errors.RasterioIOError as exc:
            raise InputError(f"{what} layer {path} is not a readable raster ({exc}); "
                             "give a GeoTIFF (or any GDAL raster) covering the scene.") from exc
        check_covers(ds, path, what, grid)
        crs, transform, width, height = grid
        self.vrt = stack.enter_context(WarpedVRT(
            ds, crs=crs, transform=transform * Affine.translation(-halo, -halo), width=width + 2 * halo,
            height=height + 2 * halo, resampling=resampling, dtype="float32", nodata=np.nan))
        self.src_nodata = ds.nodata

    def read(self, window: Window):
        """float32 values for ``window`` of the output grid (plus the halo), NaN = no data."""
        h = self.halo
        win = Window(window.col_off, window.row_off, window.width + 2 * h, window.height + 2 * h)
        return self.vrt.read(1, window=win)


def slope_degrees(z, transform, crs, row0):
    """Slope (degrees) of the interior of a haloed DEM block ``z`` (one pixel of halo).

    Pixel spacing in metres: from the CRS units, or, for geographic CRS, from
    the latitude of each row (east-west spacing shrinks with cos(latitude)).
    """
    px = float(np.hypot(transform.a, transform.d))
    py = float(np.hypot(transform.b, transform.e))
    rows = z.shape[0] - 2
    if crs is not None and crs.is_geographic:
        centre = np.arange(row0, row0 + rows) + 0.5
        lat = np.radians(transform.f + transform.e * centre)
        dy = np.full(rows, EARTH_RADIUS_M * np.radians(py))
        dx = EARTH_RADIUS_M * np.cos(lat) * np.radians(px)
    else:
        factor = crs.linear_units_factor[1] if crs is not None and crs.linear_units_factor else 1.0
        dx, dy = np.full(rows, px * factor), np.full(rows, py * factor)
    centre = z[1:-1, 1:-1]
    dzdx = _difference(z[1:-1, :-2], centre, z[1:-1, 2:], dx[:, None])
    dzdy = _difference(z[:-2, 1:-1], centre, z[2:, 1:-1], dy[:, None])
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy)))


def _difference(before, centre, after, spacing):
    """Central difference; one-sided where a neighbour has no data (scene or DEM edge)."""
    lo, hi = np.isnan(before), np.isnan(after)
    steps = (2.0 - lo - hi) * spacing
    with np.errstate(invalid="ignore", divide="ignore"):
        d = (np.where(hi, centre, after) - np.where(lo, centre, before)) / steps
    return np.where(steps > 0, d, np.nan)


class ContextMasks:
    """Opens the context layers of a run and refines each strip of classes."""

    def __init__(self, stack, grid, permanent=(), dem=None, max_slope=5.0, labels=None):
        from rasterio.enums import Resampling

        if not 0.0 <= max_slope <= 90.0:
            raise InputError(f"MAX_SLOPE must be in degrees within [0, 90], got {max_slope}")
        self.grid = grid
        labels = labels or {}
        self.permanent = [(_Layer(stack, p, what, grid, Resampling.nearest, label=labels.get(what)), t, what)
                          for p, t, what in permanent]
        self.dem = _Layer(stack, dem, "DEM", grid, Resampling.bilinear, halo=1) if dem else None
        self.max_slope = max_slope
        self.steep_pixels = 0
        self.missing = {what: 0 for _, _, what in self.permanent}
        self.max_value = {what: -np.inf for _, _, what in self.permanent}
        self.no_dem_pixels = 0

    @property
    def active(self):
        return bool(self.permanent or self.dem)

    def apply(self, classes, window: Window):
        """Refine one strip in place: steep water -> dry, permanent water -> 2."""
        valid = classes != NODATA
        water = classes == FLOOD
        if self.dem is not None:
            slope = slope_degrees(self.dem.read(window), self.grid[1], self.grid[0], window.row_off)
            steep = water & (slope > self.max_slope)
            classes[steep] = DRY
            water &= ~steep
            self.steep_pixels += int(steep.sum())
            self.no_dem_pixels += int((valid & np.isnan(slope)).sum())
        for layer, threshold, what in self.permanent:
            values = layer.read(window)
            known = np.isfinite(values)
            if layer.src_nodata is not None:
                known &= values != np.float32(layer.src_nodata)
            self.missing[what] += int((valid & ~known).sum())
            if known.any():
                self.max_value[what] = max(self.max_value[what], float(values[known].max()))
            classes[water & known & (values >= threshold)] = PERMANENT
        return classes

    def report(self, progress, thresholds=None):
        """Warn about what the user would otherwise not see (gaps, an unlikely threshold)."""
        if self.dem is not None:
            progress.info(f"slope > {self.max_slope:g} deg: {self.steep_pixels} water pixels set to dry")
            if self.no_dem_pixels:
                progress.warning(f"DEM {self.dem.path} has no data for {self.no_dem_pixels} valid scene "
                                 "pixels; slope was not checked there")
        for layer, threshold, what in self.permanent:
            if self.missing[what]:
                progress.warning(f"{what} layer {layer.path} has no data for {self.missing[what]} valid "
                                 "scene pixels; water there is counted as flood")
            top = self.max_value[what]
            if threshold > 1 and np.isfinite(top) and top <= 1:
                progress.warning(
                    f"{what} layer {layer.path} holds values <= 1 over the scene (a 0/1 mask?) but the "
                    f"threshold is {threshold:g}: no pixel counts as permanent water. For a 0/1 mask "
                    "use threshold 1; for JRC occurrence (%) 80 is usual.")


def context_masks(stack, source, options):
    """The ContextMasks a run's options ask for, on ``source``'s grid; None when none."""
    permanent = []
    if options.permanent_water:
        permanent.append((options.permanent_water, options.permanent_water_threshold, "PERMANENT_WATER"))
    if options.water_before:
        permanent.append((options.water_before, 1, "PRE_FLOOD"))
    if not permanent and not options.dem:
        return None
    grid = (source.crs, source.transform, source.width, source.height)
    labels = {"PRE_FLOOD": getattr(options, "water_before_label", None)}
    return ContextMasks(stack, grid, permanent, options.dem, options.max_slope, labels)
