"""The QGIS plugin object: registers the Processing provider, adds GUI actions.

Works without a GUI (qgis_process calls classFactory(None) then initProcessing()).
"""
import os

from qgis.core import QgsApplication

ICON = os.path.join(os.path.dirname(os.path.dirname(__file__)), "resources", "icon.svg")
MENU = "&floodkd"
# (object name, label, algorithm id); the first also goes on the toolbar.
ACTIONS = [
    ("floodkdSegment", "Segment flood water (Sentinel-1)…", "floodkd:segment"),
    ("floodkdSegmentChange", "Segment flood by change (pre/post)…", "floodkd:segmentchange"),
    ("floodkdTrainTeacher", "Train the S1+S2 teacher…", "floodkd:trainteacher"),
    ("floodkdTrainSupervised", "Train a Sentinel-1 baseline on labels…", "floodkd:trainsupervised"),
    ("floodkdDistillStudent", "Distil a Sentinel-1 student…", "floodkd:distillstudent"),
    ("floodkdEvaluate", "Evaluate a model on labelled chips…", "floodkd:evaluate"),
    ("floodkdExportOnnx", "Export a model to ONNX…", "floodkd:exportonnx"),
]


DEPS_ACTION = ("floodkdInstallDeps", "Install Python dependencies…")
MENU_PATH = f"Raster > floodkd > {DEPS_ACTION[1]}"  # addPluginToRasterMenu puts MENU in the Raster menu
TORCH_NOTE_SETTING = "floodkd/torchNoteShown"  # the optional-PyTorch note is shown once per profile


class FloodKDPlugin:
    def __init__(self, iface):
        from ..core.deps import add_to_path, deps_dir

        self.iface = iface
        self.provider = None
        self.actions = []
        # Packages installed from the dependencies dialog (plugin/deps_dialog.py) live in the profile.
        add_to_path(deps_dir(QgsApplication.qgisSettingsDirPath()))

    def initProcessing(self):  # noqa: N802 (QGIS API)
        from ..processing_provider.provider import FloodKDProvider
        from ..processing_provider.worker_runner import configure_runtime

        configure_runtime()  # desktop QGIS: torch work goes to a worker process
        if self.provider is None:
            self.provider = FloodKDProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS API)
        self.initProcessing()
        if self.iface is None:
            return
        from qgis.PyQt.QtGui import QIcon
        from qgis.PyQt.QtWidgets import QAction

        for i, (object_name, label, algorithm) in enumerate(ACTIONS):
            action = QAction(QIcon(ICON), label, self.iface.mainWindow())
            action.setObjectName(object_name)
            action.triggered.connect(lambda _checked=False, alg=algorithm: self.open_dialog(alg))
            if i == 0:
                self.iface.addToolBarIcon(action)
            self.iface.addPluginToRasterMenu(MENU, action)
            self.actions.append(action)
        action = QAction(DEPS_ACTION[1], self.iface.mainWindow())
        action.setObjectName(DEPS_ACTION[0])
        action.triggered.connect(self.open_dependencies)
        self.iface.addPluginToRasterMenu(MENU, action)
        self.actions.append(action)
        self.report_missing_dependencies()

    def report_missing_dependencies(self):
        """Say in the message bar and the log what is missing, with a button to install it.

        Missing onnxruntime is a warning at every start (segmenting falls back to
        the fixed threshold); missing PyTorch alone is optional (only .pt models,
        training and export need it): an info, in the message bar once.
        """
        from qgis.core import Qgis, QgsMessageLog, QgsSettings

        from ..core.deps import GROUPS, missing_groups

        missing = missing_groups()
        if not missing:
            return
        names = {g: ", ".join(GROUPS[g]["pins"]) for g in missing}
        if "onnx" in missing:
            text = "onnxruntime is not installed: segmenting uses the fixed VH threshold, not the bundled model."
            level = Qgis.Warning
        else:
            text = "Optional: PyTorch is not installed (needed only for .pt models, training and export)."
            level = Qgis.Info
        details = " ".join(f"Not installed: {names[g]} (needed for {GROUPS[g]['for']})." for g in missing)
        QgsMessageLog.logMessage(f"{details} Install from {MENU_PATH}", "floodkd", level)
        settings = QgsSettings()
        if level == Qgis.Info:
            if settings.value(TORCH_NOTE_SETTING, False, type=bool):
                return
            settings.setValue(TORCH_NOTE_SETTING, True)
        self.push_install_message(text, level)

    def push_install_message(self, text, level):
        from qgis.core import Qgis
        from qgis.PyQt.QtWidgets import QPushButton

        bar = self.iface.messageBar()
        item = bar.createMessage("floodkd", text)
        button = QPushButton("Install…")
        button.clicked.connect(self.open_dependencies)
        item.layout().addWidget(button)
        bar.pushWidget(item, level, 20 if level == Qgis.Info else 0)  # seconds; 0 = until closed

    def open_dependencies(self):
        from .deps_dialog import DependenciesDialog

        DependenciesDialog(self.iface.mainWindow()).exec_()

    def open_dialog(self, algorithm="floodkd:segment"):
        """Open an algorithm's dialog; segmenting starts from the active raster layer."""
        import processing
        from qgis.core import QgsRasterLayer

        params = {}
        layer = self.iface.activeLayer() if self.iface else None
        if algorithm.startswith("floodkd:segment") and isinstance(layer, QgsRasterLayer):
            params["INPUT"] = layer
        processing.execAlgorithmDialog(algorithm, params)

    def unload(self):
        for i, action in enumerate(self.actions):
            if self.iface is not None:
                self.iface.removePluginRasterMenu(MENU, action)
                if i == 0:
                    self.iface.removeToolBarIcon(action)
            action.deleteLater()
        self.actions = []
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
