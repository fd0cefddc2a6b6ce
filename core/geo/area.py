"""Pixel areas in km2 for projected (metre) and geographic (degree) grids."""
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
