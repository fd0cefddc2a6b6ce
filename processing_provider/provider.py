"""The floodkd Processing provider (id ``floodkd``)."""
import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .batch_algorithm import SegmentBatchAlgorithm
from .change_algorithm import SegmentChangeAlgorithm
from .evaluate_algorithm import EvaluateAlgorithm
from .export_algorithm import ExportOnnxAlgorithm
from .segment_algorithm import SegmentAlgorithm
from .train_algorithms import DistillStudentAlgorithm, TrainSupervisedAlgorithm, TrainTeacherAlgorithm

ICON = os.path.join(os.path.dirname(os.path.dirname(__file__)), "resources", "icon.svg")


def algorithm_classes():
    """Every algorithm the provider offers (ids are public API: never rename)."""
    return [SegmentAlgorithm, SegmentChangeAlgorithm, SegmentBatchAlgorithm, TrainTeacherAlgorithm,
            TrainSupervisedAlgorithm, DistillStudentAlgorithm, EvaluateAlgorithm, ExportOnnxAlgorithm]


class FloodKDProvider(QgsProcessingProvider):
    def id(self):
        return "floodkd"

    def name(self):
        return "floodkd"

    def longName(self):  # noqa: N802
        return "floodkd: flood mapping from Sentinel-1 by cross-modal distillation"

    def icon(self):
        return QIcon(ICON)

    def supportedOutputVectorLayerExtensions(self):  # noqa: N802
        return ["gpkg"]  # flood polygons are written by GDAL as one GeoPackage file

    def loadAlgorithms(self):  # noqa: N802
        for cls in algorithm_classes():
            self.addAlgorithm(cls())
