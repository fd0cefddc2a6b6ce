"""Flood polygons from a written class raster, with areas in m2 and a minimum mapping unit.

GDAL's Polygonize reads the raster line by line, so memory follows the number
of polygons, not the scene size. Areas are exact for any CRS: projected grids
use the plane area in metres; geographic grids are measured in a Lambert
azimuthal equal-area projection centred on the scene (equal-area everywhere).
"""
from __future__ import annotations

import os

from ..classes import FLOOD, PERMANENT
from ..errors import InputError
from ..progress import Progress
from ..io.run_files import temp_path

LAYER = "flood_water"


def check_polygons_path(path):
    if path and os.path.splitext(path)[1].lower() != ".gpkg":
        raise InputError(f"polygon destination {path} must be a GeoPackage (.gpkg)")


def _water_mask_vrt(path, width, height):
    """A VRT band that is 1 where the class is flood (1) or permanent water (2), else 0."""
    return (f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}"><VRTRasterBand dataType="Byte" band="1">'
            f'<ComplexSource><SourceFilename relativeToVRT="0">{path}</SourceFilename><SourceBand>1</SourceBand>'
            f'<LUT>0:0,{FLOOD}:1,{PERMANENT}:1,3:0,255:0</LUT></ComplexSource></VRTRasterBand></VRTDataset>')


def _area_factor_and_transform(srs, raster):
    """(m2 per squared CRS unit, coordinate transformation or None) for measuring areas."""
    from osgeo import osr

    if srs is None:
        return None, None
    if not srs.IsGeographic():
        return srs.GetLinearUnits() ** 2, None
    gt = raster.GetGeoTransform()
    lon = gt[0] + gt[1] * raster.RasterXSize / 2
    lat = gt[3] + gt[5] * raster.RasterYSize / 2
    laea = osr.SpatialReference()
    laea.CopyGeogCSFrom(srs)
    laea.SetLAEA(lat, lon, 0, 0)
    for s in (srs, laea):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return 1.0, osr.CoordinateTransformation(srs, laea)


def polygonize_water(class_path: str, out_path: str, min_area_m2: float = 0.0,
                     progress: Progress | None = None) -> dict:
    """Write water polygons (fields ``class`` 1/2, ``area_m2``) to GeoPackage ``out_path``.

    Polygons (4-connected regions of one class) smaller than ``min_area_m2`` are
    dropped. The file appears under ``out_path`` only when complete. Returns
    counts and the total kept area.
    """
    from osgeo import gdal, ogr

    progress = progress or Progress()
    check_polygons_path(out_path)
    if min_area_m2 < 0:
        raise InputError(f"MIN_AREA must be >= 0 m2, got {min_area_m2}")
    raster = gdal.Open(class_path)
    if raster is None:
        raise InputError(f"cannot open class raster {class_path}: {gdal.GetLastErrorMsg()}")
    srs = raster.GetSpatialRef()
    factor, to_equal_area = _area_factor_and_transform(srs, raster)
    mask_ds = gdal.Open(_water_mask_vrt(os.path.abspath(class_path), raster.RasterXSize, raster.RasterYSize))
    out_path = os.path.abspath(out_path)
    folder = os.path.dirname(out_path)
    os.makedirs(folder, exist_ok=True)
    tmp = temp_path(folder, ".gpkg")  # the GPKG driver creates it
    vector = None
    try:
        vector = ogr.GetDriverByName("GPKG").CreateDataSource(tmp)
        layer = vector.CreateLayer(LAYER, srs=srs, geom_type=ogr.wkbPolygon)
        layer.CreateField(ogr.FieldDefn("class", ogr.OFTInteger))
        layer.CreateField(ogr.FieldDefn("area_m2", ogr.OFTReal))

        def callback(fraction, message, data):
            progress.report(0.9 * fraction, "polygonising water")
            return 0 if progress.is_cancelled() else 1

        err = gdal.Polygonize(raster.GetRasterBand(1), mask_ds.GetRasterBand(1), layer, 0, [], callback=callback)
        progress.check_cancelled()
        if err != 0:
            raise InputError(f"writing the flood polygons failed ({gdal.GetLastErrorMsg()}); check the free "
                             "space and permissions of the destination folder.")
        kept, dropped, total = _measure_and_filter(layer, factor, to_equal_area, min_area_m2, progress)
        vector.FlushCache()
        vector = None
        os.replace(tmp, out_path)
    except BaseException:
        vector = None
        for p in (tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm"):
            if os.path.exists(p):
                os.remove(p)
        raise
    return {"polygons": kept, "dropped_polygons": dropped, "polygon_area_m2": total, "min_area_m2": min_area_m2}


def _measure_and_filter(layer, factor, to_equal_area, min_area_m2, progress):
    areas, drop = {}, []
    count = max(1, layer.GetFeatureCount())
    layer.ResetReading()
    for i, feature in enumerate(layer):
        if i % 1000 == 0:
            progress.check_cancelled()
            progress.report(0.9 + 0.05 * i / count, "measuring polygons")
        geom = feature.GetGeometryRef()
        if to_equal_area is not None:
            geom = geom.Clone()
            geom.Transform(to_equal_area)
        area = geom.GetArea() * (factor or 1.0)
        if area < min_area_m2:
            drop.append(feature.GetFID())
        else:
            areas[feature.GetFID()] = area
    layer.StartTransaction()
    for fid in drop:
        layer.DeleteFeature(fid)
    for i, (fid, area) in enumerate(areas.items()):
        if i % 1000 == 0:
            progress.check_cancelled()
        feature = layer.GetFeature(fid)
        feature.SetField("area_m2", area)
        layer.SetFeature(feature)
    layer.CommitTransaction()
    return len(areas), len(drop), float(sum(areas.values()))
