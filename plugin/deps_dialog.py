"""The dialog that installs floodkd's optional Python packages into the profile's floodkd-deps folder.

Thin: what is missing, the command and the target folder come from
core/deps.py; this shows them, runs the command with QProcess (QGIS stays
responsive), keeps pip's output and its outcome in the log, and appends the
folder to sys.path when it is done. Every label wraps, so the dialog fits a
1280 px screen whatever the profile path.
"""
import importlib

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QProcess, Qt
from qgis.PyQt.QtWidgets import (QButtonGroup, QCheckBox, QDialog, QDialogButtonBox, QLabel, QPlainTextEdit,
                                 QRadioButton, QVBoxLayout)

from ..core import deps

WIDTH, HEIGHT = 640, 520


def profile_deps_dir():
    return deps.deps_dir(QgsApplication.qgisSettingsDirPath())


def missing_message():
    """What is missing and why it matters, or '' when nothing is."""
    missing = deps.missing_groups()
    return " ".join(f"Not installed: {', '.join(deps.GROUPS[g]['pins'])} (needed for {deps.GROUPS[g]['for']})."
                    for g in missing)


def wrapped(text):
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class DependenciesDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("floodkd: install Python dependencies")
        self.target = profile_deps_dir()
        layout = QVBoxLayout(self)
        layout.addWidget(wrapped(
            f"Packages are installed with pip into {self.target} (only floodkd uses this folder; delete it to "
            "undo). It comes after QGIS's own packages, so numpy, rasterio and GDAL stay those of QGIS."))
        self.status = wrapped("")
        layout.addWidget(self.status)
        self.groups = {}
        missing = deps.missing_groups()
        for name, group in deps.GROUPS.items():
            box = QCheckBox(f"{name}: for {group['for']}")
            box.setToolTip(", ".join(group["pins"]))
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
        self.command_label = wrapped("")
        self.command_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.command_label)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setPlaceholderText("pip's output and the outcome appear here.")
        layout.addWidget(self.log)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.install = self.buttons.addButton("Install", QDialogButtonBox.AcceptRole)
        self.install.clicked.connect(self.run)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.process = None
        self.outcome = None  # "installed" / "failed" once pip has run
        self.resize(WIDTH, HEIGHT)
        self.refresh()

    def command(self):
        chosen = [name for name, box in self.groups.items() if box.isChecked()]
        variant = self.variant.checkedButton().property("variant")
        return deps.pip_command(chosen, self.target, variant) if chosen else None

    def refresh(self):
        """The 'Not installed' line, the command and the Install button, from what is installed now."""
        importlib.invalidate_caches()
        missing = deps.missing_groups()
        for name, box in self.groups.items():
            if name not in missing and self.outcome is not None:
                box.setChecked(False)  # just installed: nothing left to do for it
        self.status.setText(missing_message() or "Everything is installed.")
        self.install.setText("Try again" if self.outcome == "failed" else "Install")
        self.show_command()

    def show_command(self, *_):
        cmd = self.command()
        self.install.setEnabled(cmd is not None and self.process is None)
        self.command_label.setText("Command: " + " ".join(cmd) if cmd else "Choose what to install.")

    def run(self):
        cmd = self.command()
        if not cmd or self.process is not None:
            return
        self.outcome = None
        self.log.appendPlainText(f"$ {' '.join(cmd)}\nrunning… (this can take minutes)")
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.MergedChannels)
        self.process.readyReadStandardOutput.connect(self.read_output)
        self.process.finished.connect(self.finished)
        self.process.errorOccurred.connect(self.failed_to_start)
        self.install.setEnabled(False)
        self.process.start(cmd[0], cmd[1:])

    def read_output(self):
        if self.process is not None:
            text = bytes(self.process.readAllStandardOutput()).decode(errors="replace")
            self.log.appendPlainText(text.rstrip("\n"))

    def failed_to_start(self, error):
        if error == QProcess.FailedToStart and self.process is not None:
            program = self.process.program()
            self.process = None
            self.done_with(False, f"could not start {program}: {error_text(error)}. Set FLOODKD_PYTHON to "
                                  "QGIS's Python 3 interpreter and try again.")

    def finished(self, code, _status):
        if self.process is None:
            return
        self.read_output()
        self.process = None
        if code == 0:
            deps.add_to_path(self.target)
            self.done_with(True, "Installed. The bundled model now runs with onnxruntime; restart QGIS if "
                                 "PyTorch was installed or updated.")
        else:
            self.done_with(False, f"pip failed (exit code {code}); its messages are above. If it says 'No module "
                                  "named pip', install pip for QGIS's Python (Debian/Ubuntu: sudo apt install "
                                  "python3-pip) and try again.")

    def done_with(self, ok, text):
        self.outcome = "installed" if ok else "failed"
        self.log.appendPlainText(("Done: " if ok else "Failed: ") + text)
        self.refresh()


def error_text(error):
    return {QProcess.FailedToStart: "the program is missing or not executable"}.get(error, f"QProcess error {error}")
