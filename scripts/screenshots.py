"""Run inside desktop QGIS (``qgis --code``) by scripts/screenshots.sh: take the README pictures.

Steps, spaced by timers so QGIS paints in between: load the chip, open the
floodkd:segment dialog and grab it, run segment with the default model (what
the dialog's Run does, loading the styled result), grab the main window, show
the Processing Toolbox filtered on floodkd and grab it, then quit. Anything
that goes wrong is written to $FLOODKD_SCREENSHOT_WORK/done as an error.
"""
import os
import traceback

from qgis.core import QgsContrastEnhancement, QgsProject, QgsRasterLayer, QgsSingleBandGrayRenderer
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QDockWidget
from qgis.utils import iface

CHIP = os.environ["FLOODKD_SCREENSHOT_CHIP"]
OUT = os.environ["FLOODKD_SCREENSHOT_OUT"]
WORK = os.environ["FLOODKD_SCREENSHOT_WORK"]
STATE = {"lines": []}


def finish(error=None):
    with open(os.path.join(WORK, "done"), "w") as fh:
        fh.write("\n".join(STATE["lines"] + ([f"ERROR: {error}"] if error else [])) + "\n")
    # Set before exiting: QGIS's exit may open a modal question (unsaved project, memory
    # layers) that nobody answers under Xvfb; the pictures are saved by now.
    QTimer.singleShot(5000, lambda: os._exit(0 if error is None else 1))
    QgsProject.instance().clear()
    QgsProject.instance().setDirty(False)
    iface.actionExit().trigger()


def step(func, delay_ms, then=None):
    """Run ``func`` after ``delay_ms``; on success continue with ``then`` (a zero-argument callable)."""
    def run():
        try:
            func()
        except Exception:  # report anything, then quit QGIS instead of hanging under Xvfb
            finish(traceback.format_exc())
            return
        if then is not None:
            then()
    QTimer.singleShot(delay_ms, run)


def save(widget, name):
    path = os.path.join(OUT, name)
    if not widget.grab().save(path, "PNG"):
        raise RuntimeError(f"could not write {path}")
    STATE["lines"].append(f"wrote {path} ({widget.width()}x{widget.height()})")


def load_chip():
    iface.mainWindow().resize(1600, 1000)
    browser = iface.mainWindow().findChild(QDockWidget, "Browser")
    if browser is not None:
        browser.hide()
    layer = QgsRasterLayer(CHIP, "Sentinel-1 VH (dB), Spain_7370579", "gdal")
    if not layer.isValid():
        raise RuntimeError(f"QGIS cannot open {CHIP}")
    renderer = QgsSingleBandGrayRenderer(layer.dataProvider(), 2)  # VH shows open water darkest
    enhancement = QgsContrastEnhancement(layer.dataProvider().dataType(2))
    enhancement.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
    enhancement.setMinimumValue(-28.0)
    enhancement.setMaximumValue(-8.0)
    renderer.setContrastEnhancement(enhancement)
    layer.setRenderer(renderer)
    QgsProject.instance().addMapLayer(layer)
    iface.mapCanvas().setExtent(layer.extent())
    STATE["layer"] = layer


def open_dialog():
    import processing

    dialog = processing.createAlgorithmDialog("floodkd:segment", {"INPUT": STATE["layer"].id()})
    dialog.resize(1180, 800)
    dialog.show()
    STATE["dialog"] = dialog


def grab_dialog():
    save(STATE["dialog"], "segment_dialog.png")
    STATE["dialog"].close()


def run_segment():
    import processing

    output = os.path.join(WORK, "flood_water.tif")
    results = processing.runAndLoadResults("floodkd:segment", {"INPUT": STATE["layer"], "OUTPUT": output})
    STATE["lines"].append(f"segment: method {results['USED_METHOD']}, water {results['WATER_KM2']:.3f} km2 "
                          f"of {results['VALID_KM2']:.3f} km2")
    for node in QgsProject.instance().layerTreeRoot().findLayers():
        node.setExpanded(node.layer().name() == "Flood water")  # the class legend, not the grey ramp
    iface.messageBar().clearWidgets()  # notices (e.g. that PyTorch is not installed) are not the subject
    iface.mapCanvas().setExtent(STATE["layer"].extent())
    iface.mapCanvas().refresh()


def grab_canvas():
    save(iface.mainWindow(), "result_on_canvas.png")


def show_toolbox():
    dock = iface.mainWindow().findChild(QDockWidget, "ProcessingToolbox")
    if dock is None:
        raise RuntimeError("no Processing Toolbox dock")
    dock.setFloating(True)
    dock.show()
    dock.resize(470, 520)
    dock.searchBox.setText("floodkd")
    dock.algorithmTree.expandAll()
    STATE["toolbox"] = dock


def grab_toolbox():
    save(STATE["toolbox"], "toolbox.png")


step(load_chip, 3000, lambda: step(open_dialog, 1000, lambda: step(grab_dialog, 2500, lambda: step(
    run_segment, 500, lambda: step(grab_canvas, 4000, lambda: step(show_toolbox, 500, lambda: step(
        grab_toolbox, 2500, finish)))))))
