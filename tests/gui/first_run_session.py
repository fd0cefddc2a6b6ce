"""Runs inside desktop QGIS (``qgis --code``) for tests/gui/test_first_run.py: measures what a new user
sees after the plugin loads (message bar, sys.path, the dependency dialog after a failing pip, the
segment dialog's MODEL label), writes it to $FLOODKD_GUI_MARKER (JSON) and quits QGIS."""
import json
import os
import sys
import time
import traceback

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QAbstractScrollArea, QLabel, QTextEdit

MARKER = os.environ["FLOODKD_GUI_MARKER"]
FULL = os.environ.get("FLOODKD_GUI_PHASE") == "full"  # the first start measures everything


def wait(seconds, until=lambda: False):
    end = time.monotonic() + seconds
    while time.monotonic() < end and not until():
        QgsApplication.processEvents()
        time.sleep(0.02)


def clipped_text(widget):
    """Whether a text widget shows less than its text (its document is taller or wider than its viewport)."""
    if isinstance(widget, QTextEdit):
        doc = widget.document()
        doc.setTextWidth(widget.viewport().width())
        return doc.size().height() > widget.viewport().height() + 1
    if isinstance(widget, QLabel) and not widget.wordWrap():
        return widget.sizeHint().width() > widget.width() + 1
    return False


def message_bar(iface):
    items = []
    for item in iface.messageBar().items():
        texts = [w for w in item.findChildren(QTextEdit) + item.findChildren(QLabel) if w.isVisible()]
        items.append({"level": int(item.level()), "text": item.text(), "width": item.width(),
                      "clipped": [type(w).__name__ for w in texts if clipped_text(w)]})
    return items


def deps_dialog(iface):
    from floodkd.plugin.deps_dialog import DependenciesDialog

    dlg = DependenciesDialog(iface.mainWindow())
    dlg.show()
    wait(0.5)
    shown = {"width": dlg.frameGeometry().width(), "screen": QgsApplication.desktop().screenGeometry().width(),
             "install_visible": dlg.install.isVisible() and dlg.rect().contains(
                 dlg.install.mapTo(dlg, dlg.install.rect().bottomRight()))}
    dlg.install.click()  # FLOODKD_PYTHON is a fake pip that fails
    wait(60, until=lambda: getattr(dlg, "outcome", None) is not None or getattr(dlg, "process", 1) is None)
    status = getattr(dlg, "status", None)
    shown.update(outcome=getattr(dlg, "outcome", None), log=dlg.log.toPlainText(),
                 status=status.text() if status else None, install_enabled=dlg.install.isEnabled(),
                 install_text=dlg.install.text())
    dlg.close()
    return shown


def model_label():
    """The MODEL label of floodkd:segment's dialog at its default size: shown whole?"""
    import processing

    dlg = processing.createAlgorithmDialog("floodkd:segment", {})
    dlg.show()
    wait(1.0)
    label = next(w for w in dlg.findChildren(QLabel) if w.text().startswith("Model") and w.isVisible())
    area = next(a for a in dlg.findChildren(QAbstractScrollArea) if a.isAncestorOf(label))
    left = label.mapTo(area.viewport(), label.rect().topLeft()).x()
    shown = {"text": label.text(), "dialog_width": dlg.width(), "label_width": label.width(), "left": left,
             "needed": label.sizeHint().width(), "viewport": area.viewport().width()}
    dlg.close()
    return shown


def run():
    report = {"platform": QgsApplication.instance().platform()}
    try:
        import numpy
        from qgis.utils import iface, plugins

        from floodkd.core.deps import deps_dir

        iface.mainWindow().resize(1600, 1000)  # no window manager under Xvfb: showMaximized does nothing
        wait(1.0)
        report["plugin_loaded"] = "floodkd" in plugins
        report["window_width"] = iface.mainWindow().width()
        report["bar"] = message_bar(iface)
        folder = deps_dir(QgsApplication.qgisSettingsDirPath())
        report["deps_index"] = sys.path.index(folder) if folder in sys.path else None
        report["numpy_index"] = sys.path.index(os.path.dirname(os.path.dirname(numpy.__file__)))
        report["numpy_file"] = numpy.__file__
        if FULL:
            report["dialog"] = deps_dialog(iface)
            report["model_label"] = model_label()
    except Exception:
        report["error"] = traceback.format_exc()
    with open(MARKER, "w") as fh:
        json.dump(report, fh)
    QTimer.singleShot(0, lambda: QgsApplication.exit(0))


QTimer.singleShot(0, run)
