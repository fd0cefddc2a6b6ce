"""floodkd:segmentchange -- flood as new water between a pre-flood and a post-flood scene."""
from functools import partial

from qgis.core import QgsProcessingException, QgsProcessingParameterRasterLayer

from .segment_algorithm import SegmentAlgorithm


class SegmentChangeAlgorithm(SegmentAlgorithm):
    """Every parameter of floodkd:segment (INPUT = the post-flood scene) plus PRE_FLOOD."""

    PRE_FLOOD = "PRE_FLOOD"

    def name(self):
        return "segmentchange"

    def displayName(self):  # noqa: N802
        return "Segment flood as change (pre- and post-flood Sentinel-1)"

    def shortHelpString(self):  # noqa: N802
        return ("Segments a pre-flood scene (PRE_FLOOD) and a post-flood scene (INPUT), both VV/VH in dB, with "
                "the same model or method. OUTPUT on the post-flood grid: 0 dry, 1 flood (water now, not "
                "before), 2 permanent water (water before and now, or in PERMANENT_WATER), 255 nodata. Where "
                "the pre-flood scene has no data, water counts as flood.\n\n" + super().shortHelpString())

    def createInstance(self):  # noqa: N802
        return SegmentChangeAlgorithm()

    def initAlgorithm(self, config=None):  # noqa: N802
        super().initAlgorithm(config)
        self.parameterDefinition(self.INPUT).setDescription("Post-flood Sentinel-1 scene (VV, VH in dB)")
        self.addParameter(QgsProcessingParameterRasterLayer(self.PRE_FLOOD, "Pre-flood Sentinel-1 scene (VV, VH in dB)"))

    def engine(self, parameters, context):
        from ..core.change import segment_change

        layer = self.parameterAsRasterLayer(parameters, self.PRE_FLOOD, context)
        if layer is None:
            raise QgsProcessingException("PRE_FLOOD is not a raster layer; give a Sentinel-1 VV/VH GeoTIFF.")
        if layer.providerType() != "gdal":
            raise QgsProcessingException(f"PRE_FLOOD uses the '{layer.providerType()}' provider; floodkd reads "
                                         "files through GDAL. Save the layer as a GeoTIFF first.")
        return partial(segment_change, layer.source())
