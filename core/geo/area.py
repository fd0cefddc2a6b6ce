"""Pixel areas in km2 for projected (metre) and geographic (degree) grids, rotated ones included."""
from __future__ import annotations

import numpy as np

EARTH_RADIUS_M = 6371008.8  # mean radius; within 0.5 % of the ellipsoid for areas


def km2_text(value) -> str:
    """An area for messages: ``12.345 km2``, or ``unknown km2`` (input without a CRS)."""
    return "unknown km2" if value is None else f"{value:.3f} km2"


def row_areas_km2(crs, transform, height: int) -> np.ndarray:
    """Area of one pixel in each row (km2), shape (height,).

    Projected CRS: |a*e - b*d| in the CRS's linear unit (metres expected).
    Geographic CRS: the spherical cell area between the row's latitudes.
    Unknown CRS: NaN (areas are then not reported).
    """
    if crs is None:
        return np.full(height, np.nan)
    a, b, d, e, f = transform.a, transform.b, transform.d, transform.e, transform.f
    if crs.is_geographic:
        rows = np.arange(height + 1, dtype=np.float64)
        lat = np.radians(f + e * rows)
        dlon = np.radians(abs(a))
        return EARTH_RADIUS_M ** 2 * dlon * np.abs(np.diff(np.sin(lat))) / 1e6
    factor = crs.linear_units_factor[1] if crs.linear_units_factor else 1.0
    return np.full(height, abs(a * e - b * d) * factor ** 2 / 1e6)


class CellAreas:
    """Pixel areas (km2) of a grid, strip by strip: ``strip(top, n)`` has shape (n, 1) when the area only
    changes with the row (north-up grids), else (n, width).

    On a rotated geographic grid (``transform.b`` or ``.d`` not 0) latitude
    changes along a row too, and a cell is a parallelogram in degrees: its
    area is R^2 |a*e - b*d| (in radians^2) times cos(latitude of its centre),
    within 1e-6 of the exact spherical area for cells of a few arc-seconds.
    """

    def __init__(self, crs, transform, height: int, width: int):
        self.crs, self.transform, self.width = crs, transform, width
        self.rotated_geographic = crs is not None and crs.is_geographic and (transform.b or transform.d)
        self.rows = None if self.rotated_geographic else row_areas_km2(crs, transform, height)

    def strip(self, top: int, n: int) -> np.ndarray:
        if self.rows is not None:
            return self.rows[top:top + n, None]
        t = self.transform
        row, col = np.mgrid[top:top + n, 0:self.width].astype(np.float64) + 0.5
        lat = np.radians(t.d * col + t.e * row + t.f)
        det = abs(t.a * t.e - t.b * t.d) * np.radians(1.0) ** 2
        return EARTH_RADIUS_M ** 2 * det * np.cos(lat) / 1e6
