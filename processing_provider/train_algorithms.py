"""floodkd:trainteacher, floodkd:trainsupervised and floodkd:distillstudent.

Thin wrappers over training/: parameters -> TrainConfig and datasets -> one
trainer call -> the best checkpoint. Loss and validation IoU per epoch go to
the Processing log; cancel stops at the next batch and keeps the last good
checkpoint.
"""
import math
import os

from qgis.core import (QgsProcessingAlgorithm, QgsProcessingOutputFile, QgsProcessingOutputNumber,
                       QgsProcessingParameterBoolean, QgsProcessingParameterDefinition, QgsProcessingParameterEnum,
                       QgsProcessingParameterFile, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterString)

from ..core.progress import TimeLeft
from ..training.data.catalog import SAR_AUGMENT_BY_DEFAULT
from ..training.data.catalog import TRAINING_DATASETS as DATASETS
from ..training.data.catalog import resolve_splits
from .feedback import FeedbackProgress
from .worker_runner import run_job, torch_problem
from .help import help_text, readme_url

DEVICES = ["auto", "cpu", "cuda"]
ARCHS = ["deeplabv3plus", "unet", "fpn", "tinyunet"]
AUGMENTS = ["auto", "sar", "none"]
MODELS_DIR = os.path.join(os.path.expanduser("~"), "floodkd", "models")
HELP = {
    "DATASET": "layout of the labelled folder: sen1floods11 (its native folders: S1Hand, S2Hand, LabelHand and the "
               "split lists), ombria (OmbriaS1 and OmbriaS2 with train/AFTER, BEFORE, MASK), pairs (a folder of "
               "co-registered S1, S2 and label GeoTIFFs, cut into 512 px chips), etci (ETCI 2021: one folder per "
               "scene with vv, vh, flood_label, water_body_label; bytes become dB per scene).",
    "ROOT": "the labelled dataset folder.",
    "SPLIT": "training split: sen1floods11 train, valid, test, bolivia or all; ombria train, val or all "
             "(patch numbers divisible by 5 are val); pairs all; etci all or scene folder names (comma-separated). "
             "Empty = train (sen1floods11, ombria) or all (pairs, etci); a Sen1Floods11 folder holding none of "
             "the official train chips trains on every chip present.",
    "VAL_SPLIT": "split scored after every epoch to keep the best checkpoint; empty = valid (sen1floods11), val "
                 "(ombria), none (pairs, etci, and a Sen1Floods11 folder without valid chips); 'none' skips "
                 "validation and keeps the last epoch.",
    "EPOCHS": "passes over the training split.",
    "DEVICE": "auto: a CUDA GPU when one is usable, else the CPU; cpu; cuda.",
    "BATCH_SIZE": "chips per training step (lower it when memory runs out).",
    "LR": "initial SGD learning rate (momentum 0.9), decayed polynomially (power 0.9) to 0.",
    "CROP": "random square crop of each chip (px, a multiple of 32); 0 trains on full chips.",
    "ARCH": "network architecture: deeplabv3plus, unet, fpn (segmentation-models-pytorch) or tinyunet "
            "(floodkd's 0.8 M-parameter U-Net, the bundled default's; ENCODER is then unused).",
    "WIDTH": "tinyunet width: 24 is the bundled default; 32-48 for a teacher.",
    "AUGMENT": "sar: SAR physics augmentation of VV/VH in dB (wind-roughened water, flooded vegetation, "
               "calibration offsets, speckle, incidence); auto: sar for etci, none for the other layouts.",
    "ENCODER": "encoder name in segmentation-models-pytorch, e.g. resnet18, resnet34; the paper used tu-xception65.",
    "SEED": "random seed: the same seed and data give the same run.",
    "MAX_STEPS": "cap on batches per epoch for quick trials; 0 = the whole split.",
    "RESUME": "continue a cancelled run from its last complete epoch (OUTPUT's .partial.last.pt), or a "
              "finished one from OUTPUT's .last.pt (with more EPOCHS), instead of starting again.",
    "OUTPUT": "the best checkpoint (.pt), by default in ~/floodkd/models (a second run with the same name "
              "replaces it once it completes; until then epochs go to .partial files beside it). Beside it: "
              ".last.pt, the logs and a PNG of the curves. Give it as MODEL to "
              "'Segment flood water' or export it with 'Export a model to ONNX'.",
    "TEACHER": "the teacher checkpoint from 'Train the S1+S2 teacher'.",
    "UNLABELLED_DATASET": "layout of the unlabelled S1+S2 folder (needed when that folder is given).",
    "UNLABELLED_ROOT": "S1+S2 images without labels that the teacher labels for the student; empty: OMBRIA's "
                       "pre-flood images (ombria) or the labelled set itself.",
    "TEMPERATURE": "softens the teacher's probabilities (T > 1 passes more of its uncertainty on).",
    "HARD_WEIGHT": "weight of the hand-label loss added to the distillation loss; 0 = distillation only.",
    "FEATURE_DISTILL": "also match the teacher's encoder features (HFD-Net style, T=5, weight T^2).",
}


def no_validation_text(iou):
    """The best validation water IoU as text, or 'no validation' (VAL_SPLIT none, or nothing to score)."""
    return f"val water IoU {iou:.4f}" if iou is not None and math.isfinite(iou) else "no validation"


class TrainingGroup(QgsProcessingAlgorithm):
    """The toolbox group 'Training' (trainers, evaluate, exportonnx) and its README section."""

    def group(self):
        return "Training"

    def groupId(self):  # noqa: N802
        return "training"

    def helpUrl(self):  # noqa: N802
        return readme_url("training-distillation-and-evaluation")


class TrainAlgorithmBase(TrainingGroup):
    """Parameters shared by the trainers; subclasses add theirs and pick the trainer."""

    ROLE = ""

    def createInstance(self):  # noqa: N802
        return type(self)()

    def intro(self):
        return ""

    def shortHelpString(self):  # noqa: N802
        return help_text(self, self.intro(), HELP)

    def checkParameterValues(self, parameters, context):  # noqa: N802
        ok, message = super().checkParameterValues(parameters, context)
        problem = torch_problem("Training") if ok else None
        return (False, problem) if problem else (ok, message)

    def initAlgorithm(self, config=None):  # noqa: N802
        num = QgsProcessingParameterNumber
        self.addParameter(QgsProcessingParameterEnum("DATASET", "Labelled dataset layout", DATASETS, defaultValue=0))
        self.addParameter(QgsProcessingParameterFile("ROOT", "Labelled dataset folder",
                                                     behavior=QgsProcessingParameterFile.Folder))
        self.addParameter(QgsProcessingParameterString(
            "SPLIT", "Training split (empty = the layout's default)", defaultValue="", optional=True))
        self.addParameter(QgsProcessingParameterString(
            "VAL_SPLIT", "Validation split ('none' to skip; empty = valid / val)", optional=True))
        self.add_own_parameters()
        self.addParameter(num("EPOCHS", "Epochs", defaultValue=20, minValue=1))
        self.addParameter(QgsProcessingParameterEnum("DEVICE", "Device", DEVICES, defaultValue=0))
        advanced = [
            num("BATCH_SIZE", "Batch size", defaultValue=8, minValue=1),
            num("LR", "Initial learning rate (SGD, poly decay 0.9)", num.Double, defaultValue=0.01, minValue=0),
            num("CROP", "Random crop (px, multiple of 32; 0 = full chips)", defaultValue=256, minValue=0),
            QgsProcessingParameterEnum("ARCH", "Architecture", ARCHS, defaultValue=0),
            QgsProcessingParameterString("ENCODER", "Encoder (smp name)", defaultValue="resnet34"),
            num("WIDTH", "tinyunet width", defaultValue=24, minValue=4),
            QgsProcessingParameterEnum("AUGMENT", "Augmentation", AUGMENTS, defaultValue=0),
            num("SEED", "Random seed", defaultValue=0),
            num("MAX_STEPS", "Max batches per epoch (0 = all)", defaultValue=0, minValue=0),
            QgsProcessingParameterBoolean("RESUME", "Resume from the last checkpoint", defaultValue=False),
        ]
        for param in advanced:
            param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(param)
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT", "Trained checkpoint", "PyTorch checkpoint (*.pt)",
            defaultValue=os.path.join(MODELS_DIR, f"{self.ROLE}.pt")))
        self.addOutput(QgsProcessingOutputNumber("BEST_WATER_IOU", "Best validation water IoU"))
        self.addOutput(QgsProcessingOutputFile("CURVES", "Training curves (PNG)"))

    def add_own_parameters(self):
        """Subclasses add their parameters here."""

    def config(self, parameters, context, **extra):
        from ..training.fit.trainer import TrainConfig

        p = parameters
        arch = ARCHS[self.parameterAsEnum(p, "ARCH", context)]
        tiny = arch == "tinyunet"
        augment = AUGMENTS[self.parameterAsEnum(p, "AUGMENT", context)]
        kind = DATASETS[self.parameterAsEnum(p, "DATASET", context)]
        return TrainConfig(
            out=self.parameterAsFileOutput(p, "OUTPUT", context),
            arch=arch,
            encoder="none" if tiny else self.parameterAsString(p, "ENCODER", context),
            model_kwargs={"width": self.parameterAsInt(p, "WIDTH", context)} if tiny else {},
            sar_augment=augment == "sar" or (augment == "auto" and kind in SAR_AUGMENT_BY_DEFAULT),
            epochs=self.parameterAsInt(p, "EPOCHS", context),
            batch_size=self.parameterAsInt(p, "BATCH_SIZE", context),
            lr=self.parameterAsDouble(p, "LR", context),
            crop=self.parameterAsInt(p, "CROP", context),
            seed=self.parameterAsInt(p, "SEED", context),
            device=DEVICES[self.parameterAsEnum(p, "DEVICE", context)],
            max_steps_per_epoch=self.parameterAsInt(p, "MAX_STEPS", context),
            resume=self.parameterAsBoolean(p, "RESUME", context),
            **extra)

    def job_args(self, parameters, context):
        """The plain arguments of worker/jobs.train (it opens the datasets and trains)."""
        from dataclasses import asdict

        kind = DATASETS[self.parameterAsEnum(parameters, "DATASET", context)]
        root = self.parameterAsFile(parameters, "ROOT", context)
        split, val_split, notes = resolve_splits(
            kind, root, self.parameterAsString(parameters, "SPLIT", context),
            self.parameterAsString(parameters, "VAL_SPLIT", context), with_s2=self.ROLE == "teacher")
        return {"role": self.ROLE, "dataset": kind, "root": root, "split": split, "val_split": val_split,
                "notes": notes, "config": asdict(self.config(parameters, context))}

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        # In desktop QGIS this runs in the worker process (processing_provider/worker_runner.py).
        args = self.job_args(parameters, context)
        for note in args.pop("notes"):
            feedback.pushInfo(note)
        result = run_job("train", args, TimeLeft(FeedbackProgress(feedback)))
        iou = result["best_water_iou"]
        feedback.pushInfo(f"best checkpoint {result['paths']['best']} (epoch {result['best_epoch']}, "
                          f"{no_validation_text(iou)}); use it as MODEL in 'Segment flood water' or export "
                          "it with 'Export a model to ONNX'")
        outputs = {"OUTPUT": result["paths"]["best"], "CURVES": result["paths"]["plot"]}
        if iou is not None and math.isfinite(iou):
            outputs["BEST_WATER_IOU"] = iou  # absent without validation (not NaN)
        return outputs


class TrainTeacherAlgorithm(TrainAlgorithmBase):
    ROLE = "teacher"

    def name(self):
        return "trainteacher"

    def displayName(self):  # noqa: N802
        return "Train the S1+S2 teacher"

    def intro(self):
        return ("Trains the teacher on stacked Sentinel-1 (VV, VH) + Sentinel-2 with hand labels: "
                "cross-entropy with extra weight on label edges, random crop, flips, SGD momentum 0.9 with "
                "polynomial decay (Garg et al.). Writes OUTPUT (best validation IoU), OUTPUT.last.pt "
                "(for RESUME), logs and a PNG of the curves beside it.")


class TrainSupervisedAlgorithm(TrainAlgorithmBase):
    ROLE = "supervised"

    def name(self):
        return "trainsupervised"

    def displayName(self):  # noqa: N802
        return "Train a Sentinel-1 baseline on labels"

    def intro(self):
        return "Trains an S1-only network directly on hand labels (the paper's supervised baseline)."


class DistillStudentAlgorithm(TrainAlgorithmBase):
    ROLE = "student"

    def name(self):
        return "distillstudent"

    def displayName(self):  # noqa: N802
        return "Distil a Sentinel-1 student from the teacher"

    def intro(self):
        return ("Cross-modal distillation: the frozen TEACHER sees S1+S2 and gives soft labels; the student "
                "sees augmented S1 only and minimises the KL divergence to them. Each batch draws half from "
                "the labelled dataset and half from the unlabelled one (OMBRIA: the pre-flood images; or a "
                "folder of S1/S2 GeoTIFF pairs). Optional hand-label term and HFD-Net feature distillation.")

    def add_own_parameters(self):
        num = QgsProcessingParameterNumber
        self.addParameter(QgsProcessingParameterFile("TEACHER", "Teacher checkpoint", extension="pt"))
        self.addParameter(QgsProcessingParameterEnum(
            "UNLABELLED_DATASET", "Unlabelled dataset layout", DATASETS, optional=True))
        self.addParameter(QgsProcessingParameterFile(
            "UNLABELLED_ROOT", "Unlabelled S1+S2 folder (empty: OMBRIA before-images / the labelled set)",
            behavior=QgsProcessingParameterFile.Folder, optional=True))
        self.addParameter(num("TEMPERATURE", "Distillation temperature", num.Double, defaultValue=1.0, minValue=0.01))
        self.addParameter(num("HARD_WEIGHT", "Weight of the hand-label loss", num.Double, defaultValue=0.0, minValue=0))
        self.addParameter(QgsProcessingParameterBoolean(
            "FEATURE_DISTILL", "Add HFD-Net feature distillation (T=5, weight T^2)", defaultValue=False))

    def job_args(self, parameters, context):
        args = super().job_args(parameters, context)
        if self.parameterAsFile(parameters, "UNLABELLED_ROOT", context):
            args["unlabelled_root"] = self.parameterAsFile(parameters, "UNLABELLED_ROOT", context)
            if parameters.get("UNLABELLED_DATASET") is not None:
                args["unlabelled_dataset"] = DATASETS[self.parameterAsEnum(parameters, "UNLABELLED_DATASET", context)]
        args["config"].update(
            teacher=self.parameterAsFile(parameters, "TEACHER", context),
            temperature=self.parameterAsDouble(parameters, "TEMPERATURE", context),
            hard_weight=self.parameterAsDouble(parameters, "HARD_WEIGHT", context),
            feature_distill=self.parameterAsBoolean(parameters, "FEATURE_DISTILL", context))
        return args
