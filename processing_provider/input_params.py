"""floodkd:segment parameters for inputs as users have them and for speed.

UNITS (dB, linear power, amplitude or auto-detected), EXTENT (process only an
area; the toolbox offers layer or canvas extent), and, advanced, COG (Cloud
Optimized GeoTIFF output) and THREADS (CPU threads for the network).
"""
from qgis.core import (QgsProcessingParameterBoolean, QgsProcessingParameterDefinition, QgsProcessingParameterEnum,
                       QgsProcessingParameterExtent, QgsProcessingParameterNumber)

UNITS = ["auto", "db", "linear", "amplitude"]
UNITS_LABELS = ["auto-detect from the values", "dB", "linear power", "amplitude (sqrt of power)"]
HELP = {
    "UNITS": "what the pixel values are: dB, linear power or amplitude (square root of power). Auto-detect "
             "reads a decimated sample: a negative median VV is dB, a positive one is power or amplitude; "
             "the log says which units were used.",
    "EXTENT": "process only this area (the layer's or the canvas extent, in any CRS); the output covers the "
              "input pixels that intersect it, on the input grid. Empty: the whole scene.",
    "COG": "write the rasters as Cloud Optimized GeoTIFFs with overviews (quicker to display and to share).",
    "THREADS": "CPU threads for the network; 0 = every CPU QGIS may use.",
}


def add_input_parameters(alg):
    """Add UNITS and EXTENT, and the advanced COG and THREADS, to ``alg``."""
    alg.addParameter(QgsProcessingParameterEnum(
        "UNITS", "Backscatter units of the input", UNITS_LABELS, defaultValue=0))
    alg.addParameter(QgsProcessingParameterExtent(
        "EXTENT", "Process only this extent (empty = whole scene)", optional=True))
    advanced = [
        QgsProcessingParameterBoolean("COG", "Write Cloud Optimized GeoTIFFs (with overviews)", defaultValue=False),
        QgsProcessingParameterNumber("THREADS", "CPU threads for the network (0 = all usable CPUs)",
                                     defaultValue=0, minValue=0),
    ]
    for param in advanced:
        param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        alg.addParameter(param)


def read_input_parameters(alg, parameters, context, options):
    """Set ``options.units``, ``bbox``, ``bbox_crs``, ``cog`` and ``threads`` from the parameters.

    The extent is passed in its own CRS; core reprojects it into the input's
    and keeps the output on the input's pixels.
    """
    options.units = UNITS[alg.parameterAsEnum(parameters, "UNITS", context)]
    options.cog = alg.parameterAsBoolean(parameters, "COG", context)
    options.threads = alg.parameterAsInt(parameters, "THREADS", context)
    if parameters.get("EXTENT") in (None, ""):
        return options
    rect = alg.parameterAsExtent(parameters, "EXTENT", context)
    if rect is None or rect.isNull() or rect.isEmpty():
        return options
    options.bbox = (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())
    crs = alg.parameterAsExtentCrs(parameters, "EXTENT", context)
    if crs is not None and crs.isValid():
        options.bbox_crs = crs.authid() or crs.toWkt()
    elif "[" in str(parameters["EXTENT"]):  # a CRS QGIS cannot read: core refuses it with the reason
        options.bbox_crs = str(parameters["EXTENT"]).rsplit("[", 1)[1].strip(" ]")
    return options
