"""The QGIS plugin object: registers the Processing provider, adds GUI actions.

Works without a GUI (qgis_process calls classFactory(None) then initProcessing()).
"""
import os

from qgis.core import QgsApplication

ICON = os.path.join(os.path.dirname(os.path.dirname(__file__)), "resources", "icon.svg")
MENU = "&floodkd"


class FloodKDPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.actions = []

    def initProcessing(self):  # noqa: N802 (QGIS API)
        from ..processing_provider.provider import FloodKDProvider

        if self.provider is None:
            self.provider = FloodKDProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS API)
        self.initProcessing()
        if self.iface is None:
            return
        from qgis.PyQt.QtGui import QIcon
        from qgis.PyQt.QtWidgets import QAction

        action = QAction(QIcon(ICON), "Segment flood water (Sentinel-1)…", self.iface.mainWindow())
        action.setObjectName("floodkdSegment")
        action.triggered.connect(self.open_segment_dialog)
        self.iface.addToolBarIcon(action)
        self.iface.addPluginToRasterMenu(MENU, action)
        self.actions.append(action)

    def open_segment_dialog(self):
        """Open the floodkd:segment dialog with the active raster layer as INPUT."""
        import processing
        from qgis.core import QgsRasterLayer

        params = {}
        layer = self.iface.activeLayer() if self.iface else None
        if isinstance(layer, QgsRasterLayer):
            params["INPUT"] = layer
        processing.execAlgorithmDialog("floodkd:segment", params)

    def unload(self):
        for action in self.actions:
            if self.iface is not None:
                self.iface.removePluginRasterMenu(MENU, action)
                self.iface.removeToolBarIcon(action)
            action.deleteLater()
        self.actions = []
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
