"""Per-class pixel counts and areas of a class raster, and their CSV/JSON reports."""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field

import numpy as np

from ..classes import CLASS_NAMES, DRY, FLOOD, NODATA, PERMANENT
from ..errors import InputError
from ..io.run_files import create_temp

STATS_EXTENSIONS = (".csv", ".json")


@dataclass
class ClassStats:
    """Running totals per class code, accumulated strip by strip."""

    pixels: dict = field(default_factory=lambda: {c: 0 for c in CLASS_NAMES})
    km2: dict = field(default_factory=lambda: {c: 0.0 for c in CLASS_NAMES})

    def add(self, classes: np.ndarray, row_km2: np.ndarray):
        """Add a strip ``(rows, cols)`` of codes; ``row_km2`` is each row's pixel area (rows,) or (rows, 1),
        or each pixel's (rows, cols) on rotated grids (core/geo/area.CellAreas); NaN = unknown."""
        areas = np.asarray(row_km2, np.float64)
        areas = areas[:, None] if areas.ndim == 1 else areas
        known = np.broadcast_to(np.isfinite(areas), classes.shape)
        areas = np.where(np.isfinite(areas), areas, 0.0)
        for code in self.pixels:
            mask = classes == code
            self.pixels[code] += int(mask.sum())
            if areas.shape[1] == 1:
                self.km2[code] += float((mask.sum(axis=1) * areas[:, 0]).sum())
            else:
                self.km2[code] += float(areas[mask & known].sum())

    @property
    def flooded_km2(self):
        return self.km2[FLOOD]

    @property
    def permanent_water_km2(self):
        return self.km2[PERMANENT]

    @property
    def valid_km2(self):
        return self.km2[DRY] + self.km2[FLOOD] + self.km2[PERMANENT]

    def summary(self) -> dict:
        return {"flooded_km2": self.flooded_km2, "permanent_water_km2": self.permanent_water_km2,
                "valid_km2": self.valid_km2,
                "classes": [{"code": c, "name": CLASS_NAMES[c], "pixels": self.pixels[c],
                             "km2": self.km2[c] if c != NODATA else None} for c in CLASS_NAMES]}


def check_stats_path(path):
    if path and os.path.splitext(path)[1].lower() not in STATS_EXTENSIONS:
        raise InputError(f"statistics destination {path} must end in .csv or .json")


def write_stats(path: str, stats: ClassStats, about: dict):
    """Write the statistics as CSV (one row per class, totals as comment-free columns) or JSON.

    The file appears under ``path`` only when complete (temp name, then rename).
    """
    check_stats_path(path)
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = create_temp(folder, ".part")
    try:
        with os.fdopen(fd, "w", newline="") as f:
            if path.lower().endswith(".json"):
                json.dump({**about, **stats.summary()}, f, indent=2)
            else:
                writer = csv.writer(f)
                writer.writerow(["code", "class", "pixels", "area_km2"])
                for row in stats.summary()["classes"]:
                    km2 = "" if row["km2"] is None else f"{row['km2']:.6f}"
                    writer.writerow([row["code"], row["name"], row["pixels"], km2])
                for key in ("flooded_km2", "permanent_water_km2", "valid_km2"):
                    writer.writerow(["", key, "", f"{getattr(stats, key):.6f}"])
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
