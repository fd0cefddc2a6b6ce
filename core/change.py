"""Change detection: segment a pre-flood and a post-flood scene with the same method.

flood (1) = water after and not before; permanent water (2) = water before and
after. The pre-flood scene is segmented first (on its own grid, same engine and
options) into a temporary class raster beside the output; the post-flood run
then reads it window by window through the context machinery (nearest
resampling onto the post-flood grid), so memory stays flat and the engine is
not duplicated. Where the pre-flood scene has no data, post-flood water counts
as flood (a warning says how many pixels).
"""
from __future__ import annotations

from dataclasses import replace

from .errors import InputError
from .io.destinations import Destinations, run_inputs
from .geo.area import km2_text
from .progress import Progress, ScaledProgress
from .io.publish import Publication
from .segment import SegmentOptions, SegmentResult, segment_scene


def segment_change(pre_flood_path: str, input_path: str, output_path: str, options: SegmentOptions | None = None,
                   probability_path: str | None = None, progress: Progress | None = None,
                   polygons_path: str | None = None, stats_path: str | None = None,
                   quicklook_path: str | None = None, style=None) -> SegmentResult:
    """Map flood as new water in ``input_path`` (post-flood) relative to ``pre_flood_path``.

    Same outputs, codes and guarantees as :func:`segment_scene` (destinations
    checked against both scenes before any work; all products published
    together or none); ``probability_path`` is the post-flood water probability.
    """
    options = options or SegmentOptions()
    progress = progress or Progress()
    destinations = Destinations(output_path, probability_path or None, polygons_path or None, stats_path or None,
                                quicklook_path or None)
    inputs = run_inputs(options, INPUT=input_path, PRE_FLOOD=pre_flood_path)
    with Publication(destinations, inputs, style, progress) as pub:
        post_crs = check_pre_flood_covers(pre_flood_path, input_path, options)
        before = pub.scratch(".tif")
        progress.info(f"pre-flood scene {pre_flood_path}")
        # BBOX is in the post-flood scene's CRS (or its own): never read in the pre-flood scene's.
        bbox_crs = options.bbox_crs or (post_crs.to_wkt() if options.bbox is not None and post_crs else None)
        pre_options = replace(options, permanent_water=None, water_before=None, bbox_crs=bbox_crs)
        pre = segment_scene(pre_flood_path, before, pre_options, progress=ScaledProgress(progress, 0.0, 0.45))
        progress.info(f"pre-flood water {km2_text(pre.water_km2)} of {km2_text(pre.valid_km2)} valid")
        progress.info(f"post-flood scene {input_path}")
        post_options = replace(options, water_before=before, water_before_label=f"{pre_flood_path} (segmented)")
        result = segment_scene(input_path, output_path, post_options, probability_path,
                               ScaledProgress(progress, 0.45, 1.0), polygons_path, stats_path, quicklook_path,
                               publication=pub)
        pub.commit()
    result.predictor["pre_flood"] = pre_flood_path
    result.predictor["pre_flood_water_km2"] = pre.water_km2
    return result


def check_pre_flood_covers(pre_flood_path: str, input_path: str, options: SegmentOptions):
    """Before any work: the pre-flood scene must be another file, georeferenced and overlap the post-flood
    area. Returns the post-flood scene's CRS.

    (Otherwise the check would fire only later, on the segmented pre-flood
    scene, naming its temporary file.)
    """
    from .geo.context import check_covers
    from .geo.extent import crop_to_extent
    from .io.destinations import same_file
    from .io.raster_io import inspect_sar, open_raster

    if same_file(pre_flood_path, input_path):
        raise InputError(f"PRE_FLOOD {pre_flood_path} is the same file as INPUT {input_path}: change mode compares "
                         "two dates. Give the pre-flood scene as PRE_FLOOD (--pre-flood) and the post-flood "
                         "scene as INPUT.")
    source = inspect_sar(input_path)
    if options.bbox is not None:
        source = crop_to_extent(source, options.bbox, options.bbox_crs)
    inspect_sar(pre_flood_path)
    with open_raster(pre_flood_path) as ds:
        check_covers(ds, pre_flood_path, "PRE_FLOOD", (source.crs, source.transform, source.width, source.height))
    return source.crs
