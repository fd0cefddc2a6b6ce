"""floodkd:segment -- map flood water in a Sentinel-1 VV/VH (dB) raster layer."""
from qgis.core import (QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingOutputNumber,
                       QgsProcessingOutputString, QgsProcessingParameterBoolean, QgsProcessingParameterEnum,
                       QgsProcessingParameterFile, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterDefinition)

from .context_params import add_context_parameters, context_outputs, read_context_parameters
from .feedback import FeedbackProgress, run_core
from .input_params import add_input_parameters, read_input_parameters
from .styling import style_staged, style_when_loaded

METHODS = ["auto", "model", "otsu"]
DEVICES = ["auto", "cpu", "cuda"]


class SegmentAlgorithm(QgsProcessingAlgorithm):
    INPUT, MODEL, METHOD, DEVICE, THRESHOLD = "INPUT", "MODEL", "METHOD", "DEVICE", "THRESHOLD"
    TTA, TILE, OVERLAP, BATCH_SIZE = "TTA", "TILE", "OVERLAP", "BATCH_SIZE"
    OUTPUT, OUTPUT_PROBABILITY = "OUTPUT", "OUTPUT_PROBABILITY"

    def name(self):
        return "segment"

    def displayName(self):  # noqa: N802
        return "Segment flood water (Sentinel-1)"

    def group(self):
        return "Flood mapping"

    def groupId(self):  # noqa: N802
        return "floodmapping"

    def shortHelpString(self):  # noqa: N802
        return ("Maps water in a Sentinel-1 GRD scene with VV and VH backscatter in dB (any CRS, any size), "
                "tile by tile with overlap.\n\nMODEL: a floodkd checkpoint (.pt); empty uses the bundled "
                "distilled student, or Otsu on VH while none is bundled. METHOD 'otsu' is the paper's "
                "threshold baseline and needs no PyTorch. THRESHOLD is the water-probability cut.\n\n"
                "OUTPUT: uint8 GeoTIFF on the input grid: 0 dry, 1 water, 255 nodata.")

    def createInstance(self):  # noqa: N802
        return SegmentAlgorithm()

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, "Sentinel-1 scene (VV, VH in dB)"))
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, "Model: checkpoint .pt or exported .onnx (empty = bundled default)", optional=True,
            fileFilter="floodkd model (*.pt *.onnx)"))
        self.addParameter(QgsProcessingParameterEnum(self.METHOD, "Method", METHODS, defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(self.DEVICE, "Device", DEVICES, defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(
            self.THRESHOLD, "Water probability threshold", QgsProcessingParameterNumber.Double,
            defaultValue=0.5, minValue=0.0, maxValue=1.0))
        advanced = [
            QgsProcessingParameterBoolean(self.TTA, "Flip test-time augmentation", defaultValue=False),
            QgsProcessingParameterNumber(self.TILE, "Tile size (px)", defaultValue=512, minValue=64),
            QgsProcessingParameterNumber(self.OVERLAP, "Tile overlap (px)", defaultValue=64, minValue=0),
            QgsProcessingParameterNumber(
                self.BATCH_SIZE, "Tiles per batch (0 = auto: 2 on CPU, 8 on GPU)", defaultValue=0, minValue=0),
        ]
        for param in advanced:
            param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(param)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "Flood water"))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT_PROBABILITY, "Water probability", optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber("WATER_KM2", "Water area (km2)"))
        self.addOutput(QgsProcessingOutputNumber("VALID_KM2", "Valid area (km2)"))
        self.addOutput(QgsProcessingOutputString("USED_METHOD", "Method used"))
        add_input_parameters(self)  # UNITS, EXTENT; advanced COG, THREADS
        add_context_parameters(self)  # PERMANENT_WATER, DEM, OUTPUT_POLYGONS, OUTPUT_STATS, ...

    def engine(self, parameters, context):
        """The core call (segmentchange binds its pre-flood scene here)."""
        from ..core.segment import segment_scene

        return segment_scene

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        from ..core.segment import SegmentOptions

        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is None:
            raise QgsProcessingException("INPUT is not a raster layer; give a Sentinel-1 VV/VH GeoTIFF.")
        if layer.providerType() != "gdal":
            raise QgsProcessingException(
                f"INPUT uses the '{layer.providerType()}' provider; floodkd reads files through GDAL. "
                "Save the layer as a GeoTIFF first.")
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        probability = self.parameterAsOutputLayer(parameters, self.OUTPUT_PROBABILITY, context) or None
        options = SegmentOptions(
            method=METHODS[self.parameterAsEnum(parameters, self.METHOD, context)],
            model=self.parameterAsFile(parameters, self.MODEL, context) or None,
            device=DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
            threshold=self.parameterAsDouble(parameters, self.THRESHOLD, context),
            tta=self.parameterAsBoolean(parameters, self.TTA, context),
            tile=self.parameterAsInt(parameters, self.TILE, context),
            overlap=self.parameterAsInt(parameters, self.OVERLAP, context),
            batch_size=self.parameterAsInt(parameters, self.BATCH_SIZE, context),
        )
        read_input_parameters(self, parameters, context, options)
        polygons, stats = read_context_parameters(self, parameters, context, options)
        result = run_core(self.engine(parameters, context), layer.source(), output, options, probability,
                          FeedbackProgress(feedback), polygons, stats, style=style_staged)
        feedback.pushInfo(f"water {result.water_km2:.3f} km2 of {result.valid_km2:.3f} km2 valid "
                          f"({result.method}, {result.seconds:.1f} s)")
        style_when_loaded(context, output, "classes", "Flood water")
        outputs = {self.OUTPUT: output, "WATER_KM2": result.water_km2, "VALID_KM2": result.valid_km2,
                   "USED_METHOD": result.method}
        if probability:
            style_when_loaded(context, probability, "probability", "Water probability")
            outputs[self.OUTPUT_PROBABILITY] = probability
        return context_outputs(result, context, polygons, stats, outputs, feedback)
