"""Products written after the class raster: flood polygons and area statistics.

They are derived from the finished class raster (streamed by GDAL), so the
engine stays a single pass. If one fails or is cancelled, every output of the
run is removed: a run leaves all its outputs or none.
"""
from __future__ import annotations

import os

from .polygons import check_polygons_path, polygonize_water
from .progress import ScaledProgress
from .stats import check_stats_path, write_stats


def check_product_paths(polygons_path, stats_path):
    """Fail before any work when a destination has an unsupported format."""
    check_polygons_path(polygons_path)
    check_stats_path(stats_path)


def write_products(input_path, result, options, polygons_path, stats_path, progress):
    """Write the polygons and/or statistics of a finished run; on failure remove all its outputs."""
    written = []
    try:
        if polygons_path:
            result.polygons = polygonize_water(result.output, polygons_path, options.min_area,
                                               ScaledProgress(progress, 0.0, 0.95))
            result.polygons["path"] = polygons_path
            written.append(polygons_path)
        if stats_path:
            progress.check_cancelled()
            about = {"input": input_path, "output": result.output, "method": result.method,
                     "predictor": result.predictor, "polygons": result.polygons}
            write_stats(stats_path, result.stats, about)
            written.append(stats_path)
    except BaseException:
        for path in written + [result.output, result.probability]:
            if path and os.path.exists(path):
                os.remove(path)
        raise
