"""Open a SAR input as the engine will read it: bands, area, units."""
from __future__ import annotations

from dataclasses import replace

from .bands import S1_BANDS
from .extent import crop_to_extent
from .progress import Progress
from .raster_io import decimated_values, inspect_sar
from .units import check_units, describe_units, detect_units


def prepare_source(input_path: str, units: str = "auto", bbox=None, bbox_crs=None,
                   progress: Progress | None = None, specs=S1_BANDS):
    """Check ``input_path``, crop it to ``bbox`` (if any) and settle its units.

    ``units`` is auto, db, linear or amplitude; auto looks at a decimated read
    of VV in the processed area. The choice is logged through ``progress``.
    """
    progress = progress or Progress()
    source = inspect_sar(input_path, specs)
    if bbox is not None:
        source = crop_to_extent(source, bbox, bbox_crs)
        progress.info(f"processing a {source.width} x {source.height} px window at column "
                      f"{source.col_off}, row {source.row_off} of {input_path}")
    units = check_units(units)
    median = None
    if units == "auto":
        data, valid = decimated_values(source, in_db=False)
        vv = data[list(source.band_names).index("VV")][valid]
        units, median = detect_units(vv, input_path) if vv.size else ("db", None)
    progress.info(describe_units(units, median is not None, median))
    return replace(source, units=units)
