"""Context-layer and product parameters shared by floodkd:segment and floodkd:segmentchange.

Kept apart from the algorithms so each stays parameters -> one core call -> outputs.
"""
from qgis.core import (QgsProcessing, QgsProcessingException, QgsProcessingOutputNumber,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterVectorDestination)

from .styling import style_when_loaded

PERMANENT_WATER, PERMANENT_WATER_THRESHOLD = "PERMANENT_WATER", "PERMANENT_WATER_THRESHOLD"
DEM, MAX_SLOPE = "DEM", "MAX_SLOPE"
OUTPUT_POLYGONS, MIN_AREA, OUTPUT_STATS = "OUTPUT_POLYGONS", "MIN_AREA", "OUTPUT_STATS"
HELP = {
    PERMANENT_WATER: "optional raster of normal water (any CRS and grid), e.g. JRC Global Surface Water "
                     "occurrence in % or a 0/1 mask: water where its value is at least the threshold below "
                     "becomes class 2, permanent water, instead of flood.",
    PERMANENT_WATER_THRESHOLD: "80 for JRC occurrence in %, 1 for a 0/1 mask (a warning says when the layer "
                               "holds only 0 and 1).",
    DEM: "optional elevation raster (m, any CRS and grid): water on slopes steeper than the maximum slope is "
         "set dry (steep terrain and radar shadow look like water).",
    MAX_SLOPE: "degrees (default 5); used only with a DEM.",
    MIN_AREA: "water polygons smaller than this (m2) are left out of the polygon output (the raster keeps "
              "them); 0 keeps all.",
    OUTPUT_POLYGONS: "optional GeoPackage of water polygons (layer flood_water; field class: 1 flood, "
                     "2 permanent water; field area_m2), styled when loaded.",
    OUTPUT_STATS: "optional .csv or .json: pixels and km2 per class; flooded, permanent-water and valid km2.",
}
STAT_OUTPUTS = [  # output id, label, how to read it from SegmentResult.stats
    ("FLOODED_KM2", "Flooded area (km2)", lambda s: s.flooded_km2),
    ("PERMANENT_WATER_KM2", "Permanent water area (km2)", lambda s: s.permanent_water_km2),
    ("DRY_PIXELS", "Dry pixels (class 0)", lambda s: s.pixels[0]),
    ("FLOOD_PIXELS", "Flood pixels (class 1)", lambda s: s.pixels[1]),
    ("PERMANENT_WATER_PIXELS", "Permanent water pixels (class 2)", lambda s: s.pixels[2]),
    ("NODATA_PIXELS", "Nodata pixels (255)", lambda s: s.pixels[255]),
]


def add_context_parameters(alg):
    alg.addParameter(QgsProcessingParameterRasterLayer(
        PERMANENT_WATER, "Permanent water (e.g. JRC GSW occurrence %, or a 0/1 mask)", optional=True))
    alg.addParameter(QgsProcessingParameterNumber(
        PERMANENT_WATER_THRESHOLD, "Permanent water where value >= (80 for JRC %, 1 for a 0/1 mask)",
        QgsProcessingParameterNumber.Double, defaultValue=80.0))
    alg.addParameter(QgsProcessingParameterRasterLayer(DEM, "DEM (elevation, m)", optional=True))
    alg.addParameter(QgsProcessingParameterNumber(
        MAX_SLOPE, "Maximum slope for water (degrees)", QgsProcessingParameterNumber.Double,
        defaultValue=5.0, minValue=0.0, maxValue=90.0))
    alg.addParameter(QgsProcessingParameterNumber(
        MIN_AREA, "Minimum polygon area (m2)", QgsProcessingParameterNumber.Double, defaultValue=0.0, minValue=0.0))
    alg.addParameter(QgsProcessingParameterVectorDestination(
        OUTPUT_POLYGONS, "Flood polygons", QgsProcessing.TypeVectorPolygon, optional=True, createByDefault=False))
    alg.addParameter(QgsProcessingParameterFileDestination(
        OUTPUT_STATS, "Area statistics", "CSV files (*.csv);;JSON files (*.json)", optional=True,
        createByDefault=False))
    for name, label, _ in STAT_OUTPUTS:
        alg.addOutput(QgsProcessingOutputNumber(name, label))
    alg.addOutput(QgsProcessingOutputNumber("POLYGON_COUNT", "Flood polygons written"))


def gdal_layer_path(alg, parameters, name, context):
    """File path of an optional raster layer parameter (GDAL provider only), or None."""
    layer = alg.parameterAsRasterLayer(parameters, name, context)
    if layer is None:
        return None
    if layer.providerType() != "gdal":
        raise QgsProcessingException(f"{name} uses the '{layer.providerType()}' provider; floodkd reads files "
                                     "through GDAL. Save the layer as a GeoTIFF first.")
    return layer.source()


def read_context_parameters(alg, parameters, context, options):
    """Fill the context fields of ``options``; return the (polygons, stats) destinations or None."""
    options.permanent_water = gdal_layer_path(alg, parameters, PERMANENT_WATER, context)
    options.permanent_water_threshold = alg.parameterAsDouble(parameters, PERMANENT_WATER_THRESHOLD, context)
    options.dem = gdal_layer_path(alg, parameters, DEM, context)
    options.max_slope = alg.parameterAsDouble(parameters, MAX_SLOPE, context)
    options.min_area = alg.parameterAsDouble(parameters, MIN_AREA, context)
    polygons = alg.parameterAsOutputLayer(parameters, OUTPUT_POLYGONS, context) or None
    stats = alg.parameterAsFileOutput(parameters, OUTPUT_STATS, context) or None
    return polygons, stats


def context_outputs(result, context, polygons, stats, outputs, feedback):
    """Add the statistics and product outputs of ``result``; style the polygons."""
    for name, _, read in STAT_OUTPUTS:
        outputs[name] = read(result.stats)
    outputs["POLYGON_COUNT"] = result.polygons["polygons"] if result.polygons else 0
    if polygons:
        style_when_loaded(context, polygons, "polygons", "Flood polygons")
        outputs[OUTPUT_POLYGONS] = polygons
        feedback.pushInfo(f"{outputs['POLYGON_COUNT']} polygons >= {result.polygons['min_area_m2']:g} m2 "
                          f"({result.polygons['dropped_polygons']} smaller dropped)")
    if stats:
        outputs[OUTPUT_STATS] = stats
    feedback.pushInfo(f"flooded {result.stats.flooded_km2:.3f} km2, permanent water "
                      f"{result.stats.permanent_water_km2:.3f} km2")
    return outputs
