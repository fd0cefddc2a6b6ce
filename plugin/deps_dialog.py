"""The dialog that installs floodkd's optional Python packages into the profile's floodkd-deps folder.

Thin: what is missing, the command and the target folder come from
core/deps.py; this shows them, runs the command with QProcess (QGIS stays
responsive) and puts the folder on sys.path when it is done.
"""
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QProcess
from qgis.PyQt.QtWidgets import (QButtonGroup, QCheckBox, QDialog, QDialogButtonBox, QLabel, QPlainTextEdit,
                                 QRadioButton, QVBoxLayout)

from ..core import deps


def profile_deps_dir():
    return deps.deps_dir(QgsApplication.qgisSettingsDirPath())


def missing_message():
    """What is missing and why it matters, or '' when nothing is."""
    missing = deps.missing_groups()
    return " ".join(f"Not installed: {', '.join(deps.GROUPS[g]['pins'])} (needed for {deps.GROUPS[g]['for']})."
                    for g in missing)


class DependenciesDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("floodkd: install Python dependencies")
        self.target = profile_deps_dir()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(
            f"Packages are installed with pip into {self.target} (only floodkd uses this folder; delete it to "
            "undo). numpy, rasterio and GDAL stay those of QGIS.\n" + (missing_message() or "Everything is installed.")))
        missing = deps.missing_groups()
        self.groups = {}
        for name, group in deps.GROUPS.items():
            box = QCheckBox(f"{name}: {', '.join(group['pins'])} — for {group['for']}")
            box.setChecked(name in missing and (name == "onnx" or "onnx" not in missing))  # torch: several GB
            box.toggled.connect(self.show_command)
            layout.addWidget(box)
            self.groups[name] = box
        self.variant = QButtonGroup(self)
        for i, (variant, text) in enumerate((("cpu", "PyTorch for the CPU (smaller download)"),
                                             ("cuda", "PyTorch with CUDA for an NVIDIA GPU (several GB)"))):
            radio = QRadioButton(text)
            radio.setProperty("variant", variant)
            radio.setChecked(i == 0)
            radio.toggled.connect(self.show_command)
            self.variant.addButton(radio)
            layout.addWidget(radio)
        self.log = QPlainTextEdit(readOnly=True)
        layout.addWidget(self.log)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.install = self.buttons.addButton("Install", QDialogButtonBox.AcceptRole)
        self.install.clicked.connect(self.run)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.process = None
        self.resize(720, 480)
        self.show_command()

    def command(self):
        chosen = [name for name, box in self.groups.items() if box.isChecked()]
        variant = self.variant.checkedButton().property("variant")
        return deps.pip_command(chosen, self.target, variant) if chosen else None

    def show_command(self, *_):
        cmd = self.command()
        self.install.setEnabled(cmd is not None and self.process is None)
        self.log.setPlainText(" ".join(cmd) if cmd else "Choose what to install.")

    def run(self):
        cmd = self.command()
        if not cmd:
            return
        self.install.setEnabled(False)
        self.log.appendPlainText("\nrunning… (this can take minutes)\n")
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.MergedChannels)
        self.process.readyReadStandardOutput.connect(
            lambda: self.log.appendPlainText(bytes(self.process.readAllStandardOutput()).decode(errors="replace")))
        self.process.finished.connect(self.finished)
        self.process.start(cmd[0], cmd[1:])

    def finished(self, code, _status):
        self.process = None
        if code == 0:
            deps.add_to_path(self.target)
            self.log.appendPlainText("Installed. The bundled model now runs with onnxruntime; restart QGIS if "
                                     "PyTorch was installed or updated.")
        else:
            self.log.appendPlainText(
                f"pip failed (exit code {code}). If it says 'No module named pip', install pip for QGIS's Python "
                "(Debian/Ubuntu: sudo apt install python3-pip) and try again.")
        self.show_command()
