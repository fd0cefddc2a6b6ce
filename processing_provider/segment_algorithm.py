"""floodkd:segment -- map flood water in a Sentinel-1 VV/VH (dB) raster layer."""
import os

from qgis.core import (QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingOutputNumber,
                       QgsProcessingOutputString, QgsProcessingParameterBoolean, QgsProcessingParameterEnum,
                       QgsProcessingParameterFile, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterDefinition)

from ..core.geo.area import km2_text
from .context_params import HELP as CONTEXT_HELP
from .context_params import add_context_parameters, context_outputs, read_context_parameters
from .feedback import FeedbackProgress
from .help import help_text, readme_url
from .input_params import HELP as INPUT_HELP
from .input_params import add_input_parameters, read_input_parameters
from .styling import style_staged, style_when_loaded
from .worker_runner import run_segment, torch_problem

METHODS = ["auto", "model", "otsu", "threshold"]  # indices are public: append only
DEVICES = ["auto", "cpu", "cuda"]
MODEL_LABEL = "Model (.onnx or .pt; empty = bundled)"  # short: the dialog adds " [optional]" and must not cut it
INTRO = ("Maps water in a Sentinel-1 GRD scene (VV and VH backscatter; any CRS, any size), tile by tile with "
         "overlap, with the model bundled with the plugin, a model you trained or exported, or a threshold "
         "baseline (Otsu, or a fixed VH threshold). Water found where PERMANENT_WATER says there is normally "
         "water becomes permanent water; a DEM removes water on steep slopes. Outputs are styled when QGIS "
         "opens them.")
HELP = {
    "INPUT": "a raster with two bands, VV and VH backscatter (Sen1Floods11 S1Hand chips are in dB). Band order "
             "comes from the band descriptions when they name VV and VH, else band 1 = VV, band 2 = VH. NaN "
             "and the declared nodata value are nodata.",
    "MODEL": "empty: the model bundled with the plugin (a distilled Sentinel-1 student; model card in "
             "resources/models). Or a floodkd model file: an exported .onnx (runs with onnxruntime) or a "
             "checkpoint .pt (needs torch and segmentation-models-pytorch), e.g. the output of 'Distil a "
             "Sentinel-1 student' or of 'Export a model to ONNX'.",
    "METHOD": "auto: the model (falls back to the fixed VH threshold, with a warning saying what to install, "
              "when no model can run here); model: the model, or an error saying what is missing; otsu: the "
              "paper's baseline, one Otsu threshold on "
              "the scene's VH histogram (needs neither onnxruntime nor torch); threshold: water where VH is "
              "below a fixed -23.25 dB, chosen on the bundled model's training data (the bar every model "
              "must clear).",
    "DEVICE": "auto: a CUDA GPU when one is usable, else the CPU; cpu; cuda (an error when no GPU is usable).",
    "THRESHOLD": "water where the water probability is at least this (0 to 1, default 0.5; lower finds more "
                 "water). With Otsu, 0.5 is exactly Otsu's split.",
    "TTA": "also predict the left-right and up-down flipped tiles and average: a little smoother, 3 times slower.",
    "TILE": "the network sees square tiles of this many pixels (default 512); bigger tiles need more memory.",
    "OVERLAP": "tiles overlap by this many pixels and are blended, so no seams show; smaller than the tile size.",
    "BATCH_SIZE": "tiles per network call; 0 = auto (2 on CPU, 8 on a GPU). Bigger batches help only on a GPU.",
    "OUTPUT": "uint8 GeoTIFF on exactly the input grid: 0 dry, 1 water (flood), 2 permanent water (only with "
              "PERMANENT_WATER), 255 nodata (declared as nodata).",
    "OUTPUT_PROBABILITY": "optional float32 GeoTIFF of the water probability (0 to 1; nodata -1).",
}


def scene_problem(alg, parameters, name, context):
    """Why raster parameter ``name`` is not a usable VV/VH scene (read from its header only), or None."""
    from ..core.errors import InputError
    from ..core.io.raster_io import inspect_sar

    layer = alg.parameterAsRasterLayer(parameters, name, context)
    if layer is None:
        return None  # a missing required layer is QGIS's own message
    if layer.providerType() != "gdal":
        return (f"{name} uses the '{layer.providerType()}' provider; floodkd reads files through GDAL. "
                "Save the layer as a GeoTIFF first.")
    try:
        inspect_sar(layer.source())
    except InputError as exc:
        return f"{name}: {exc}"
    return None


def model_problem(model, method):
    """Why MODEL cannot be used by ``method`` here (extension, existence, PyTorch for a .pt), or None."""
    from ..core.predict.model_choice import model_needs_torch

    if not model:
        return None
    if not model.lower().endswith((".pt", ".onnx")):
        return (f"MODEL {model} is not a floodkd model: give an exported model (.onnx) or a checkpoint (.pt), "
                "or leave MODEL empty for the bundled default.")
    if not os.path.isfile(model):
        return f"MODEL {model} does not exist; leave MODEL empty for the bundled default."
    if model_needs_torch(method, model):
        return torch_problem(f"MODEL {os.path.basename(model)} (a PyTorch checkpoint)")
    return None


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
        return help_text(self, INTRO, {**HELP, **INPUT_HELP, **CONTEXT_HELP})

    def helpUrl(self):  # noqa: N802
        return readme_url("parameters-of-floodkdsegment")

    def checkParameterValues(self, parameters, context):  # noqa: N802
        ok, message = super().checkParameterValues(parameters, context)
        if ok:
            message = self.input_problem(parameters, context) or ""
        elif str(parameters.get(self.MODEL) or ""):  # QGIS's "Incorrect parameter value for MODEL" says less
            message = model_problem(str(parameters[self.MODEL]), "model") or message
        return ok and not message, message

    def input_problem(self, parameters, context):
        """Why the inputs cannot work, checked before Run (band count, model file, tiling), or None."""
        problem = scene_problem(self, parameters, self.INPUT, context)
        model = self.parameterAsFile(parameters, self.MODEL, context)
        method = METHODS[self.parameterAsEnum(parameters, self.METHOD, context)]
        problem = problem or model_problem(model, method)
        tile, overlap = (self.parameterAsInt(parameters, k, context) for k in (self.TILE, self.OVERLAP))
        if not problem and overlap >= tile:
            problem = f"Tile overlap ({overlap} px) must be smaller than the tile size ({tile} px)."
        return problem

    def createInstance(self):  # noqa: N802
        return SegmentAlgorithm()

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_scene_parameters()
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, MODEL_LABEL, optional=True,
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

    def add_scene_parameters(self):
        """INPUT (segmentchange adds PRE_FLOOD right after it)."""
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, "Sentinel-1 scene (VV, VH)"))

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
        # In desktop QGIS a .pt model runs in the worker process (processing_provider/worker_runner.py).
        result = run_segment(self.engine(parameters, context), layer.source(), output, options, probability,
                             FeedbackProgress(feedback), polygons, stats, style=style_staged)
        feedback.pushInfo(f"water {km2_text(result.water_km2)} of {km2_text(result.valid_km2)} valid "
                          f"({result.method}, {result.seconds:.1f} s)")
        style_when_loaded(context, output, "classes", "Flood water")
        outputs = {self.OUTPUT: output, "WATER_KM2": result.water_km2, "VALID_KM2": result.valid_km2,
                   "USED_METHOD": result.method}
        if probability:
            style_when_loaded(context, probability, "probability", "Water probability")
            outputs[self.OUTPUT_PROBABILITY] = probability
        return context_outputs(result, context, polygons, stats, outputs, feedback)
