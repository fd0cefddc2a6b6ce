"""floodkd:evaluate -- pooled water IoU of a checkpoint or Otsu on a labelled dataset."""

from qgis.core import (QgsProcessingException, QgsProcessingOutputNumber,
                       QgsProcessingParameterEnum, QgsProcessingParameterFile, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterString)

from .feedback import FeedbackProgress, run_core
from .help import help_text
from .messages import for_qgis
from .segment_algorithm import MODEL_LABEL, model_problem
from .train_algorithms import HELP as TRAIN_HELP
from .train_algorithms import TrainingGroup

DATASETS = ["sen1floods11", "ombria", "pairs"]
DEVICES = ["auto", "cpu", "cuda"]
METHODS = ["model", "otsu", "threshold"]  # indices are public: append only
INTRO = ("Scores a model (or the Otsu baseline) on a labelled dataset with the paper's metric: confusion counts "
         "pooled over all valid pixels of the split, then water IoU, mIoU, F1 and accuracy.")
HELP = {
    "DATASET": TRAIN_HELP["DATASET"],
    "ROOT": "the labelled dataset folder.",
    "SPLIT": "sen1floods11: train, valid, test, bolivia or all; ombria: train, val or all (patch numbers "
             "divisible by 5 are val); pairs: all.",
    "MODEL": "empty: the model bundled with the plugin, as in 'Segment flood water'. Or a floodkd model file: a "
             "checkpoint .pt (needs torch; an S1+S2 teacher reads the dataset's S2 too) or an exported .onnx "
             "(needs onnxruntime).",
    "METHOD": "model: MODEL (or the bundled default); otsu: one Otsu threshold per chip (VH in dB, or OMBRIA's "
              "single 8-bit band), the paper's baseline; threshold: water where VH is below segment's fixed "
              "-23.25 dB (needs VH in dB).",
    "DEVICE": "auto: a CUDA GPU when one is usable, else the CPU; cpu; cuda.",
    "OUTPUT_CSV": "optional CSV with one row per chip: water IoU, F1, accuracy, valid pixels, label and "
                  "predicted water fractions.",
    "OUTPUT_PANEL": "optional PNG: input, label and prediction of the first four chips.",
    "OUTPUT_JSON": "optional JSON with the pooled metrics and the model's details.",
}
METRICS = ("water_iou", "miou", "f1", "accuracy", "n_chips")

# No worker job for evaluate yet; loading torch in desktop QGIS would crash it.
PT_IN_DESKTOP = ("in desktop QGIS a .pt checkpoint cannot be evaluated (PyTorch would crash QGIS): export it "
                 "with 'Export a model to ONNX' and evaluate the .onnx, or evaluate it with qgis_process.")

class EvaluateAlgorithm(TrainingGroup):
    DATASET, ROOT, SPLIT, MODEL, METHOD, DEVICE = "DATASET", "ROOT", "SPLIT", "MODEL", "METHOD", "DEVICE"
    OUTPUT_CSV, OUTPUT_PANEL, OUTPUT_JSON = "OUTPUT_CSV", "OUTPUT_PANEL", "OUTPUT_JSON"

    def name(self):
        return "evaluate"

    def displayName(self):  # noqa: N802
        return "Evaluate a flood model on labelled chips"

    def shortHelpString(self):  # noqa: N802
        return help_text(self, INTRO, HELP)

    def checkParameterValues(self, parameters, context):  # noqa: N802
        from ..core.predict.runtimes import torch_in_process

        ok, message = super().checkParameterValues(parameters, context)
        if not ok and str(parameters.get(self.MODEL) or ""):  # QGIS's "Incorrect parameter value for MODEL"
            return False, model_problem(str(parameters[self.MODEL]), "model") or message
        method = METHODS[self.parameterAsEnum(parameters, self.METHOD, context)]
        model = self.parameterAsFile(parameters, self.MODEL, context) if method == "model" else ""
        problem = model_problem(model, method) if ok else None
        if ok and not problem and model and not model.lower().endswith(".onnx") and not torch_in_process():
            problem = PT_IN_DESKTOP
        return (False, problem) if problem else (ok, message)

    def createInstance(self):  # noqa: N802
        return EvaluateAlgorithm()

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterEnum(self.DATASET, "Dataset layout", DATASETS, defaultValue=0))
        self.addParameter(QgsProcessingParameterFile(
            self.ROOT, "Dataset folder", behavior=QgsProcessingParameterFile.Folder))
        self.addParameter(QgsProcessingParameterString(self.SPLIT, "Split", defaultValue="test"))
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, MODEL_LABEL, optional=True,
            fileFilter="floodkd model (*.pt *.onnx)"))
        self.addParameter(QgsProcessingParameterEnum(self.METHOD, "Method", METHODS, defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(self.DEVICE, "Device", DEVICES, defaultValue=0))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_CSV, "Per-chip metrics", "CSV files (*.csv)", optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_PANEL, "Panel of chips", "PNG files (*.png)", optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_JSON, "Metrics (JSON)", "JSON files (*.json)", optional=True, createByDefault=False))
        for key in METRICS:
            self.addOutput(QgsProcessingOutputNumber(key.upper(), key.replace("_", " ")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        from ..core.predict.model_choice import bundled_model, why_no_bundled_model
        from ..core.predict.runtimes import torch_in_process
        from ..training.data.catalog import open_evaluation_dataset
        from ..training.evaluation.scoring import model_needs_s2
        from ..training.evaluation.scoring import evaluate

        model = None
        method = METHODS[self.parameterAsEnum(parameters, self.METHOD, context)]
        if method == "model":
            model = self.parameterAsFile(parameters, self.MODEL, context) or bundled_model()  # as segment's
            if model is None:
                raise QgsProcessingException(for_qgis(f"METHOD model with an empty MODEL: {why_no_bundled_model()}; "
                                                      "give MODEL or choose METHOD otsu or threshold"))
            if not model.lower().endswith(".onnx") and not torch_in_process():
                # An empty MODEL means the bundled .pt where onnxruntime is missing: the same refusal.
                raise QgsProcessingException(PT_IN_DESKTOP)
        kind = DATASETS[self.parameterAsEnum(parameters, self.DATASET, context)]
        root = self.parameterAsFile(parameters, self.ROOT, context)
        split = self.parameterAsString(parameters, self.SPLIT, context)
        csv_path = self.parameterAsFileOutput(parameters, self.OUTPUT_CSV, context) or None
        panel = self.parameterAsFileOutput(parameters, self.OUTPUT_PANEL, context) or None
        json_path = self.parameterAsFileOutput(parameters, self.OUTPUT_JSON, context) or None

        def score():
            dataset = open_evaluation_dataset(kind, root, split, bool(model) and model_needs_s2(model))
            return evaluate(dataset, model or method,
                            device=DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
                            csv_path=csv_path, panel_path=panel, json_path=json_path, protect=(root,),
                            progress=FeedbackProgress(feedback))

        result = run_core(score)
        feedback.pushInfo(", ".join(f"{k} {result[k]:.4f}" for k in METRICS[:4]) + f" over {result['n_chips']} chips")
        outputs = {k.upper(): result[k] for k in METRICS}
        if json_path:
            outputs[self.OUTPUT_JSON] = json_path
        if csv_path:
            outputs[self.OUTPUT_CSV] = csv_path
        if panel:
            outputs[self.OUTPUT_PANEL] = panel
        return outputs
