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
    ("floodkdDistillStudent", "Distil a Sentinel-1 student…", "floodkd:distillstudent"),
    ("floodkdEvaluate", "Evaluate a model on labelled chips…", "floodkd:evaluate"),
]


DEPS_ACTION = ("floodkdInstallDeps", "Install Python dependencies…")


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
        """Say in the message bar and the log what is missing, with a button to install it."""
        from qgis.core import Qgis, QgsMessageLog
        from qgis.PyQt.QtWidgets import QPushButton

        from .deps_dialog import missing_message

        text = missing_message()
        if not text:
            return
        advice = ("Segmenting uses the fixed VH threshold until onnxruntime is installed. " if "onnxruntime" in text
                  else "")
        QgsMessageLog.logMessage(f"{text} {advice}Install from Plugins > Raster > floodkd > "
                                 f"{DEPS_ACTION[1]}", "floodkd", Qgis.Warning)
        bar = self.iface.messageBar()
        item = bar.createMessage("floodkd", text + " " + advice)
        button = QPushButton("Install…")
        button.clicked.connect(self.open_dependencies)
        item.layout().addWidget(button)
        bar.pushWidget(item, Qgis.Warning, 0)

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
