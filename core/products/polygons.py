"""Flood polygons from a written class raster, with areas in m2 and a minimum mapping unit.

rasterio's ``features.shapes`` polygonises the raster band through GDAL (no
GDAL bindings needed; the band is streamed, so memory follows the number of
polygons, not the scene size). Areas are exact for any CRS: projected grids
use the plane area in metres; geographic grids are measured in a Lambert
azimuthal equal-area projection centred on the scene (equal-area everywhere).
The layer goes into a GeoPackage (core/products/gpkg.py): into an existing
one, only that layer is written or replaced and the file's other layers stay.
"""
from __future__ import annotations

import os
import re
from itertools import islice

import numpy as np

from ..classes import FLOOD, PERMANENT
from ..errors import InputError
from ..progress import Progress
from .gpkg import check_writer_available, copy_geopackage, is_geopackage, layer_writer, wkb_polygon

LAYER = "flood_water"
CHUNK = 20000  # polygons measured and written at a time
_QGIS_URI = re.compile(r"^(?P<path>.+?)\|layername=(?P<layer>[^|]+)$")
_SPHEROID = re.compile(r'SPHEROID\["[^"]*",\s*([-+.\deE]+),\s*([-+.\deE]+)')  # the scene's own ellipsoid
_PROCESSING_URI = re.compile(r"""^ogr:dbname='(?P<path>(?:[^']|'')+)'\s+table="(?P<layer>[^"]+)"(\s*\(\w+\))?$""")


def split_layer(destination: str) -> tuple:
    """``x.gpkg`` -> (x.gpkg, flood_water); QGIS's ``x.gpkg|layername=flood`` and Processing's
    ``ogr:dbname='x.gpkg' table="flood" (geom)`` -> (x.gpkg, flood)."""
    for pattern in (_QGIS_URI, _PROCESSING_URI):
        match = pattern.match(destination)
        if match:
            return match.group("path").replace("''", "'"), match.group("layer")
    return destination, LAYER


def check_polygons_path(path):
    """Refuse a polygon destination that is not a .gpkg, or an existing file that is not a GeoPackage."""
    path, layer = split_layer(path)
    if "|" in path or os.path.splitext(path)[1].lower() != ".gpkg":
        raise InputError(f"polygon destination {path} must be a GeoPackage (.gpkg), optionally with a layer "
                         f"name as QGIS writes it: x.gpkg|layername={LAYER}")
    if os.path.isfile(path) and os.path.getsize(path) > 0 and not is_geopackage(path):
        raise InputError(f"polygon destination {path} exists and is not a GeoPackage; floodkd adds its layer to "
                         "a GeoPackage and never replaces another kind of file. Choose another name.")
    check_writer_available()


def _water_mask_vrt(path, ds):
    """A VRT band that is 1 where the class is flood (1) or permanent water (2), else 0."""
    geo = f"<GeoTransform>{', '.join(repr(float(v)) for v in ds.transform.to_gdal())}</GeoTransform>" if ds.crs else ""
    return (f'<VRTDataset rasterXSize="{ds.width}" rasterYSize="{ds.height}">{geo}'
            '<VRTRasterBand dataType="Byte" band="1"><ComplexSource>'
            f'<SourceFilename relativeToVRT="0">{path}</SourceFilename><SourceBand>1</SourceBand>'
            f'<LUT>0:0,{FLOOD}:1,{PERMANENT}:1,3:0,255:0</LUT></ComplexSource></VRTRasterBand></VRTDataset>')


def _equal_area_crs(ds):
    """(m2 per squared CRS unit, an equal-area CRS to measure in or None)."""
    from rasterio.crs import CRS

    crs = ds.crs
    if crs is None:
        return 1.0, None
    if not crs.is_geographic:
        return crs.linear_units_factor[1] ** 2, None
    lon, lat = ds.xy(ds.height / 2, ds.width / 2, offset="ul")
    spheroid = _SPHEROID.search(crs.to_wkt(version="WKT1_GDAL"))
    ellipsoid = f"+a={spheroid.group(1)} +rf={spheroid.group(2)}" if spheroid else "+ellps=WGS84"
    centre = f"+lat_0={float(lat):.12g} +lon_0={float(lon):.12g}"
    return 1.0, CRS.from_proj4(f"+proj=laea {centre} +x_0=0 +y_0=0 {ellipsoid} +units=m +no_defs")


def polygon_areas(polygons, crs, equal_area, factor) -> np.ndarray:
    """Areas of GeoJSON polygons (exterior minus holes), in m2, measured in ``equal_area`` when given."""
    rings = [np.asarray(r, np.float64) for p in polygons for r in p["coordinates"]]
    if not rings:
        return np.zeros(0)
    xy = np.concatenate(rings)
    if equal_area is not None:
        from rasterio.warp import transform

        xs, ys = transform(crs, equal_area, xy[:, 0], xy[:, 1])
        xy = np.column_stack([xs, ys])
    starts = np.cumsum([0] + [len(r) for r in rings[:-1]])
    cross = xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]
    cross = np.append(cross, 0.0)
    cross[starts[1:] - 1] = 0.0  # no term joins the last point of a ring to the first of the next
    ring_areas = np.abs(np.add.reduceat(cross, starts)) / 2
    signs = np.concatenate([[1.0] + [-1.0] * (len(p["coordinates"]) - 1) for p in polygons])  # holes subtract
    first_ring = np.cumsum([0] + [len(p["coordinates"]) for p in polygons[:-1]])
    return np.add.reduceat(ring_areas * signs, first_ring) * factor


def polygonize_water(class_path: str, out_path: str, min_area_m2: float = 0.0, progress: Progress | None = None,
                     layer: str = LAYER, keep_layers_of: str | None = None) -> dict:
    """Write water polygons (fields ``class`` 1/2, ``area_m2``) as ``layer`` of GeoPackage ``out_path``.

    Polygons (4-connected regions of one class) smaller than ``min_area_m2`` are
    dropped. ``keep_layers_of``: an existing GeoPackage whose other layers
    ``out_path`` keeps (it starts as a copy of it). Returns counts and the total kept area.
    """
    import rasterio
    from rasterio.features import shapes
    from rasterio.io import MemoryFile

    from ..io.write_check import gdal_failures

    progress = progress or Progress()
    if min_area_m2 < 0:
        raise InputError(f"MIN_AREA must be >= 0 m2, got {min_area_m2}")
    what = f"the flood polygons {keep_layers_of or out_path}"  # the destination, not its staged name
    if keep_layers_of and os.path.isfile(keep_layers_of) and os.path.getsize(keep_layers_of) > 0:
        copy_geopackage(keep_layers_of, out_path, what)
    kept = dropped = 0
    total = 0.0
    progress.report(0.0, "polygonising water")
    with rasterio.open(class_path) as ds, MemoryFile(_water_mask_vrt(os.path.abspath(class_path), ds).encode(),
                                                     ext=".vrt") as vrt, vrt.open() as mask:
        factor, equal_area = _equal_area_crs(ds)
        crs_wkt = ds.crs.to_wkt() if ds.crs else None
        found = shapes(rasterio.band(ds, 1), mask=rasterio.band(mask, 1), connectivity=4)
        with gdal_failures(what), layer_writer(out_path, layer, crs_wkt, what) as writer:
            while True:
                chunk = list(islice(found, CHUNK))
                progress.check_cancelled()
                if not chunk:
                    break
                areas = polygon_areas([g for g, _ in chunk], ds.crs, equal_area, factor)
                keep = areas >= min_area_m2
                writer.add([wkb_polygon(g["coordinates"]) for (g, _), k in zip(chunk, keep) if k],
                           [int(v) for (_, v), k in zip(chunk, keep) if k], areas[keep])
                kept, dropped = kept + int(keep.sum()), dropped + int((~keep).sum())
                total += float(areas[keep].sum())
                progress.report(0.5, f"polygonising water: {kept} polygons written")
    progress.report(1.0, "polygons written")
    return {"polygons": kept, "dropped_polygons": dropped, "polygon_area_m2": total, "min_area_m2": min_area_m2,
            "layer": layer}
