"""floodkd:segmentbatch -- many scenes on a local Dask cluster, run outside QGIS's process.

The batch backend runs as ``python -m floodkd.batch`` (batch/__main__.py) in a
child process, which starts the Dask workers; its JSON lines become this
algorithm's progress and log, and Cancel stops it (the scenes already mapped stay).
"""
import json
import os
import queue
import subprocess
import tempfile
import threading

from qgis.core import (QgsProcessing, QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingOutputFile,
                       QgsProcessingOutputNumber, QgsProcessingParameterBoolean, QgsProcessingParameterEnum,
                       QgsProcessingParameterFolderDestination, QgsProcessingParameterMultipleLayers,
                       QgsProcessingParameterNumber)

from ..core.deps import python_executable
from ..worker.client import _package_parent
from .help import help_text, readme_url
from .segment_algorithm import METHODS

INTRO = ("Maps water in many Sentinel-1 scenes, each exactly as 'Segment flood water' does, on a local Dask "
         "cluster of worker processes outside QGIS (QGIS stays responsive). Each scene X writes X_water.tif "
         "(and the products asked for) into the output folder, with summary.csv listing every scene: ok, "
         "failed (with the reason; the others go on) or skipped (its products were already there).")
HELP = {
    "INPUTS": "raster layers or files, each a Sentinel-1 scene with VV and VH bands.",
    "METHOD": "auto: the bundled model (or the fixed VH threshold where no model runtime is installed); model; "
              "otsu; threshold. As in 'Segment flood water'.",
    "WORKERS": "worker processes; each maps one scene at a time with the CPU cores divided among the workers.",
    "POLYGONS": "also write X_water.gpkg (water polygons) per scene.",
    "STATS": "also write X_stats.csv (areas per class) per scene.",
    "OVERWRITE": "map scenes again even when all their products exist.",
    "OUTPUT_FOLDER": "folder for every product and summary.csv (created if missing).",
}


class SegmentBatchAlgorithm(QgsProcessingAlgorithm):
    INPUTS, METHOD, WORKERS, POLYGONS, STATS = "INPUTS", "METHOD", "WORKERS", "POLYGONS", "STATS"
    OVERWRITE, OUTPUT_FOLDER = "OVERWRITE", "OUTPUT_FOLDER"

    def name(self):
        return "segmentbatch"

    def displayName(self):  # noqa: N802
        return "Segment many scenes (batch, Dask)"

    def group(self):
        return "Flood mapping"

    def groupId(self):  # noqa: N802
        return "floodmapping"

    def shortHelpString(self):  # noqa: N802
        return help_text(self, INTRO, HELP)

    def helpUrl(self):  # noqa: N802
        return readme_url("many-scenes-floodkd-segment-batch-on-dask")

    def createInstance(self):  # noqa: N802
        return SegmentBatchAlgorithm()

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterMultipleLayers(self.INPUTS, "Sentinel-1 scenes (VV, VH)",
                                                               QgsProcessing.TypeRaster))
        self.addParameter(QgsProcessingParameterEnum(self.METHOD, "Method", METHODS, defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(self.WORKERS, "Worker processes", defaultValue=2,
                                                       minValue=1))
        self.addParameter(QgsProcessingParameterBoolean(self.POLYGONS, "Water polygons per scene", False))
        self.addParameter(QgsProcessingParameterBoolean(self.STATS, "Area statistics per scene", False))
        self.addParameter(QgsProcessingParameterBoolean(self.OVERWRITE, "Map finished scenes again", False))
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, "Output folder"))
        self.addOutput(QgsProcessingOutputFile("SUMMARY", "Summary (summary.csv)"))
        for name, label in (("MAPPED", "Scenes mapped"), ("SKIPPED", "Scenes skipped"), ("FAILED", "Scenes failed")):
            self.addOutput(QgsProcessingOutputNumber(name, label))

    def scene_paths(self, parameters, context):
        paths = []
        for layer in self.parameterAsLayerList(parameters, self.INPUTS, context):
            if layer.providerType() != "gdal":
                raise QgsProcessingException(f"{layer.name()} uses the '{layer.providerType()}' provider; floodkd "
                                             "reads files through GDAL. Save the layer as a GeoTIFF first.")
            paths.append(layer.source())
        if not paths:
            raise QgsProcessingException("INPUTS is empty; add the Sentinel-1 scenes to map.")
        return paths

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        folder = self.parameterAsString(parameters, self.OUTPUT_FOLDER, context)
        spec = {"inputs": self.scene_paths(parameters, context), "out_dir": folder,
                "options": {"method": METHODS[self.parameterAsEnum(parameters, self.METHOD, context)]},
                "workers": self.parameterAsInt(parameters, self.WORKERS, context),
                "polygons": self.parameterAsBoolean(parameters, self.POLYGONS, context),
                "stats": "csv" if self.parameterAsBoolean(parameters, self.STATS, context) else None,
                "overwrite": self.parameterAsBoolean(parameters, self.OVERWRITE, context)}
        result = run_batch_process(spec, feedback)
        return {self.OUTPUT_FOLDER: folder, "SUMMARY": result["summary"], "MAPPED": result["ok"],
                "SKIPPED": result["skipped"], "FAILED": result["failed"]}


def run_batch_process(spec, feedback):
    """Run ``python -m floodkd.batch`` with ``spec``; relay its lines to ``feedback``; its result dict."""
    path = [_package_parent(), os.environ.get("PYTHONPATH")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in path if p))
    errors = tempfile.TemporaryFile("w+")  # Dask's own log; read only when the batch fails
    proc = subprocess.Popen([python_executable(), "-m", f"{__package__.split('.')[0]}.batch", json.dumps(spec)],
                            stdout=subprocess.PIPE, stderr=errors, text=True, env=env)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in [*proc.stdout, None]], daemon=True).start()
    outcome = {}
    while True:
        if feedback.isCanceled() and proc.poll() is None:
            proc.terminate()  # SIGTERM: the batch stops, keeps what it mapped and writes summary.csv
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            break
        message = json.loads(line) if line.startswith("{") else {"info": line.rstrip()}
        if "progress" in message:
            feedback.setProgress(100 * message["progress"])
            feedback.setProgressText(message["message"])
        elif "info" in message:
            feedback.pushInfo(message["info"])
        elif "warning" in message:
            feedback.reportError(message["warning"], fatalError=False)
        outcome.update(message)
    proc.wait()
    errors.seek(0)
    log = errors.read()[-2000:]
    errors.close()
    if "result" in outcome:
        return outcome["result"]
    raise QgsProcessingException(outcome.get("error") or f"the batch process failed: {log}")
