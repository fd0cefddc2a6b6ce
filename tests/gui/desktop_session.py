"""Runs inside desktop QGIS (``qgis --code``) for tests/gui/: segments through Processing, loads the result,
records what happened in $FLOODKD_GUI_MARKER (JSON) and quits QGIS."""
import json
import os
import sys
import traceback

from qgis.core import QgsApplication, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QTimer

MARKER = os.environ["FLOODKD_GUI_MARKER"]
RUNS = json.loads(os.environ["FLOODKD_GUI_RUNS"])  # [{"name", "params"}]


def run():
    report = {"platform": QgsApplication.instance().platform(), "runs": {}}
    try:
        import processing
        from qgis.utils import iface, plugins

        from floodkd.core.predict.runtimes import torch_in_process

        report["plugin_loaded"] = "floodkd" in plugins
        report["torch_in_process"] = torch_in_process()
        report["deps_action"] = any(a.objectName() == "floodkdInstallDeps" for a in plugins["floodkd"].actions)
        for spec in RUNS:
            result = processing.run("floodkd:segment", spec["params"])
            layer = iface.addRasterLayer(result["OUTPUT"], spec["name"])
            report["runs"][spec["name"]] = {
                "used_method": result["USED_METHOD"], "water_km2": result["WATER_KM2"],
                "layer_valid": bool(layer and layer.isValid()),
                "renderer": layer.renderer().type() if layer else None,
                "classes": [c.label for c in layer.renderer().classes()] if layer else [],
                "torch_loaded": "torch" in sys.modules}
        report["torch_loaded"] = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "triton"))[:5]
    except Exception:
        report["error"] = traceback.format_exc()
    QgsProject.instance().removeAllMapLayers()
    QgsProject.instance().setDirty(False)
    with open(MARKER, "w") as fh:
        json.dump(report, fh)
    QTimer.singleShot(0, lambda: QgsApplication.exit(0))


QTimer.singleShot(0, run)
