"""floodkd:segmentchange -- flood as new water between a pre-flood and a post-flood scene."""
import os
from functools import partial

from qgis.core import QgsProcessingException, QgsProcessingParameterRasterLayer

from .context_params import HELP as CONTEXT_HELP
from .help import help_text, readme_url
from .input_params import HELP as INPUT_HELP
from .segment_algorithm import HELP as SEGMENT_HELP
from .segment_algorithm import SegmentAlgorithm, scene_problem

INTRO = ("Segments a pre-flood and a post-flood Sentinel-1 scene (VV and VH backscatter) with the same model "
         "or method and keeps what changed: water now but not before is flood, water in both is permanent "
         "water. The pre-flood scene may be on any grid (it is resampled onto the post-flood one); where it "
         "has no data, water counts as flood (the log warns).")
HELP = {
    **SEGMENT_HELP,
    "INPUT": "the post-flood scene: a raster with two bands, VV and VH backscatter (band order from the band "
             "descriptions when they name VV and VH, else band 1 = VV, band 2 = VH). The output is on its grid.",
    "PRE_FLOOD": "the same area before the flood, same kind of raster (any grid); a different file from the "
                 "post-flood scene.",
    "OUTPUT": "uint8 GeoTIFF on the post-flood grid: 0 dry, 1 flood (water now, not before), 2 permanent water "
              "(water before and now, or in PERMANENT_WATER), 255 nodata (declared as nodata).",
}


class SegmentChangeAlgorithm(SegmentAlgorithm):
    """Every parameter of floodkd:segment (INPUT = the post-flood scene) plus PRE_FLOOD."""

    PRE_FLOOD = "PRE_FLOOD"

    def name(self):
        return "segmentchange"

    def displayName(self):  # noqa: N802
        return "Segment flood as change (pre- and post-flood Sentinel-1)"

    def shortHelpString(self):  # noqa: N802
        return help_text(self, INTRO, {**HELP, **INPUT_HELP, **CONTEXT_HELP})

    def helpUrl(self):  # noqa: N802
        return readme_url("change-mode-floodkdsegmentchange")

    def createInstance(self):  # noqa: N802
        return SegmentChangeAlgorithm()

    def add_scene_parameters(self):
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, "Post-flood Sentinel-1 scene (VV, VH)"))
        self.addParameter(QgsProcessingParameterRasterLayer(self.PRE_FLOOD, "Pre-flood Sentinel-1 scene (VV, VH)"))

    def input_problem(self, parameters, context):
        problem = super().input_problem(parameters, context) or scene_problem(
            self, parameters, self.PRE_FLOOD, context)
        if problem:
            return problem
        post, pre = (self.parameterAsRasterLayer(parameters, k, context) for k in (self.INPUT, self.PRE_FLOOD))
        if post is not None and pre is not None and os.path.realpath(post.source()) == os.path.realpath(pre.source()):
            return "PRE_FLOOD and INPUT are the same file; give the scene from before the flood as PRE_FLOOD."
        return None

    def engine(self, parameters, context):
        from ..core.change import segment_change

        layer = self.parameterAsRasterLayer(parameters, self.PRE_FLOOD, context)
        if layer is None:
            raise QgsProcessingException("PRE_FLOOD is not a raster layer; give a Sentinel-1 VV/VH GeoTIFF.")
        if layer.providerType() != "gdal":
            raise QgsProcessingException(f"PRE_FLOOD uses the '{layer.providerType()}' provider; floodkd reads "
                                         "files through GDAL. Save the layer as a GeoTIFF first.")
        return partial(segment_change, layer.source())
