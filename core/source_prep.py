"""Open a SAR input as the engine will read it: bands, area, units."""
from __future__ import annotations

from dataclasses import replace

from .bands import S1_BANDS
from .errors import InputError
from .geo.extent import crop_to_extent
from .progress import Progress
from .io.raster_io import decimated_values, inspect_sar
from .units import check_plausible, check_units, describe_units, detect_units


def prepare_source(input_path: str, units: str = "auto", bbox=None, bbox_crs=None,
                   progress: Progress | None = None, specs=S1_BANDS):
    """Check ``input_path``, crop it to ``bbox`` (if any) and settle its units.

    ``units`` is auto, db, linear or amplitude; auto looks at a decimated read
    of VV in the processed area. The same read checks that the area holds
    valid pixels (finite, not nodata, not 0 in every band: GRD's fill value)
    and that their values are plausible backscatter in the settled units.
    The choice is logged through ``progress``; an input without a CRS is
    warned about (its areas in km2 are unknown).
    """
    progress = progress or Progress()
    units = check_units(units)
    source = inspect_sar(input_path, specs)
    for warning in source.warnings:
        progress.warning(warning)
    if bbox is not None:
        source = crop_to_extent(source, bbox, bbox_crs)
        progress.info(f"processing a {source.width} x {source.height} px window at column "
                      f"{source.col_off}, row {source.row_off} of {input_path}")
    if source.crs is None:
        progress.warning(f"{input_path} has no CRS: pixel areas are unknown, so areas in km2 are reported as "
                         "unknown. Georeference it (e.g. gdal_edit.py -a_srs EPSG:32630) to get areas.")
    data, valid = decimated_values(source, in_db=False)
    valid &= (data != 0).any(axis=0)  # 0 in every band is GRD's fill value
    if not valid.any():
        raise InputError(f"{input_path} holds no valid pixel (all NaN, nodata or 0, the GRD fill value); "
                         "nothing to segment.")
    names = list(source.band_names)
    vv = data[names.index("VV")][valid]
    vh = data[names.index("VH")][valid] if "VH" in names else vv
    median = None
    if units == "auto":
        units, median = detect_units(vv, vh, input_path)
    check_plausible(vv, vh, units, input_path, source.profile.get("dtype", ""), detected=median is not None)
    progress.info(describe_units(units, median is not None, median))
    return replace(source, units=units)

