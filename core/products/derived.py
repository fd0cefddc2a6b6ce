"""Products written after the class raster: flood polygons, area statistics and a quick-look.

They are derived from the finished (staged) class raster, streamed by GDAL, so
the engine stays a single pass. Each is written to its staged name in the
run's Publication (core/io/publish.py), which publishes them together with the
rasters or, if anything fails or is cancelled, removes them all and leaves the
previous files in place.
"""
from __future__ import annotations

from .polygons import polygonize_water
from ..progress import ScaledProgress
from .quicklook import write_quicklook
from .stats import write_stats


def write_products(input_path, result, options, publication, progress):
    """Write the polygons, statistics and quick-look that ``publication`` asks for, from ``result``."""
    wanted = publication.destinations
    class_raster = publication.staged(wanted.output)
    if wanted.polygons:
        result.polygons = polygonize_water(class_raster, publication.stage(wanted.polygons), options.min_area,
                                           ScaledProgress(progress, 0.0, 0.9), wanted.polygons_layer,
                                           keep_layers_of=wanted.polygons)
        result.polygons["path"] = wanted.polygons
    if wanted.stats:
        progress.check_cancelled()
        about = {"input": input_path, "output": result.output, "method": result.method,
                 "predictor": result.predictor, "polygons": result.polygons}
        write_stats(publication.stage(wanted.stats), result.stats, about)
    if wanted.quicklook:
        progress.check_cancelled()
        write_quicklook(input_path, class_raster, publication.stage(wanted.quicklook))
    progress.check_cancelled()
