"""floodkd:exportonnx -- a trained checkpoint (.pt) as an ONNX model that segment runs without PyTorch."""
import os

from qgis.core import (QgsProcessingOutputString, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination)

from .feedback import FeedbackProgress
from .help import help_text
from .train_algorithms import MODELS_DIR, TrainingGroup
from .worker_runner import run_job, torch_problem

INTRO = ("Writes a floodkd checkpoint as an ONNX model: the network with its softmax, any tile size, and the "
         "checkpoint's bands, units, classes and input transform inside the file. Give the .onnx file as MODEL "
         "to 'Segment flood water': it then runs with onnxruntime alone (no PyTorch), and on a CPU faster. "
         "Exporting needs torch, segmentation-models-pytorch and onnx.")
HELP = {
    "INPUT": "a checkpoint written by 'Train the S1+S2 teacher', 'Train a Sentinel-1 baseline on labels' or "
             "'Distil a Sentinel-1 student' (or the floodkd command line).",
    "OUTPUT": "the .onnx file to write, by default in ~/floodkd/models (an existing file of that name is "
              "replaced only once the export has succeeded).",
}


class ExportOnnxAlgorithm(TrainingGroup):
    INPUT, OUTPUT = "INPUT", "OUTPUT"

    def name(self):
        return "exportonnx"

    def displayName(self):  # noqa: N802
        return "Export a model to ONNX"

    def shortHelpString(self):  # noqa: N802
        return help_text(self, INTRO, HELP)

    def createInstance(self):  # noqa: N802
        return ExportOnnxAlgorithm()

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile(self.INPUT, "Trained checkpoint (.pt)", extension="pt"))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT, "ONNX model", "ONNX model (*.onnx)", defaultValue=os.path.join(MODELS_DIR, "student.onnx")))
        self.addOutput(QgsProcessingOutputString("SUMMARY", "Architecture, bands and classes"))

    def checkParameterValues(self, parameters, context):  # noqa: N802
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            return ok, message
        checkpoint = self.parameterAsFile(parameters, self.INPUT, context)
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        if not os.path.isfile(checkpoint):
            return False, f"checkpoint not found: {checkpoint}"
        if not output.lower().endswith(".onnx"):
            return False, f"OUTPUT {output} should end in .onnx (segment picks the runtime by the extension)."
        problem = torch_problem("Exporting to ONNX")
        return (False, problem) if problem else (True, "")

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        checkpoint = self.parameterAsFile(parameters, self.INPUT, context)
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        feedback.setProgressText("loading the checkpoint and exporting (needs torch and onnx)")
        # In desktop QGIS this runs in the worker process (processing_provider/worker_runner.py).
        meta = run_job("export_onnx", {"checkpoint": checkpoint, "output": output}, FeedbackProgress(feedback))
        bands = ", ".join(f"{b['name']} [{b['units']}]" for b in meta["bands"])
        summary = f"{meta['arch']}/{meta['encoder']}, bands {bands}, classes {', '.join(meta['classes'])}"
        feedback.pushInfo(f"wrote {output}: {summary}. Give it as MODEL to 'Segment flood water'.")
        return {self.OUTPUT: output, "SUMMARY": summary}
