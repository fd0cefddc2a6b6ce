"""floodkd:evaluate -- pooled water IoU of a checkpoint or Otsu on a labelled dataset."""
import json

from qgis.core import (QgsProcessingAlgorithm, QgsProcessingOutputNumber, QgsProcessingParameterEnum,
                       QgsProcessingParameterFile, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterString)

from .feedback import FeedbackProgress, run_core

DATASETS = ["sen1floods11", "ombria", "pairs"]
DEVICES = ["auto", "cpu", "cuda"]
METRICS = ("water_iou", "miou", "f1", "accuracy", "n_chips")


class EvaluateAlgorithm(QgsProcessingAlgorithm):
    DATASET, ROOT, SPLIT, MODEL, DEVICE = "DATASET", "ROOT", "SPLIT", "MODEL", "DEVICE"
    OUTPUT_CSV, OUTPUT_PANEL, OUTPUT_JSON = "OUTPUT_CSV", "OUTPUT_PANEL", "OUTPUT_JSON"

    def name(self):
        return "evaluate"

    def displayName(self):  # noqa: N802
        return "Evaluate a flood model on labelled chips"

    def group(self):
        return "Training"

    def groupId(self):  # noqa: N802
        return "training"

    def shortHelpString(self):  # noqa: N802
        return ("Scores a floodkd checkpoint (or Otsu on VH when MODEL is empty) on a labelled dataset "
                "with the paper's metric: confusion counts pooled over all valid pixels of the split, "
                "then water IoU, mIoU, F1 and accuracy. Sen1Floods11 splits: train, valid, test, bolivia, "
                "all; OMBRIA: train, val, all.")

    def createInstance(self):  # noqa: N802
        return EvaluateAlgorithm()

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterEnum(self.DATASET, "Dataset layout", DATASETS, defaultValue=0))
        self.addParameter(QgsProcessingParameterFile(
            self.ROOT, "Dataset folder", behavior=QgsProcessingParameterFile.Folder))
        self.addParameter(QgsProcessingParameterString(self.SPLIT, "Split", defaultValue="test"))
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, "Model checkpoint (empty = Otsu baseline)", extension="pt", optional=True))
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
        from ..training.cli_evaluate import build_dataset, model_needs_s2
        from ..training.evaluate import evaluate

        model = self.parameterAsFile(parameters, self.MODEL, context) or None
        kind = DATASETS[self.parameterAsEnum(parameters, self.DATASET, context)]
        root = self.parameterAsFile(parameters, self.ROOT, context)
        split = self.parameterAsString(parameters, self.SPLIT, context)
        csv_path = self.parameterAsFileOutput(parameters, self.OUTPUT_CSV, context) or None
        panel = self.parameterAsFileOutput(parameters, self.OUTPUT_PANEL, context) or None
        json_path = self.parameterAsFileOutput(parameters, self.OUTPUT_JSON, context) or None

        def score():
            dataset = build_dataset(kind, root, split, bool(model) and model_needs_s2(model))
            return evaluate(dataset, model or "otsu",
                            device=DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
                            csv_path=csv_path, panel_path=panel, progress=FeedbackProgress(feedback))

        result = run_core(score)
        feedback.pushInfo(", ".join(f"{k} {result[k]:.4f}" for k in METRICS[:4]) + f" over {result['n_chips']} chips")
        outputs = {k.upper(): result[k] for k in METRICS}
        if json_path:
            with open(json_path, "w") as fh:
                json.dump({k: v for k, v in result.items() if isinstance(v, (int, float, str))}, fh, indent=1)
            outputs[self.OUTPUT_JSON] = json_path
        if csv_path:
            outputs[self.OUTPUT_CSV] = csv_path
        if panel:
            outputs[self.OUTPUT_PANEL] = panel
        return outputs
