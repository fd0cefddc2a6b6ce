"""The plugin's first run for a new user: the dependency dialog (size, pip's outcome), the message bar,
the log and the menu. pip is replaced by a fake interpreter (FLOODKD_PYTHON) that fails or "installs"
a stand-in package into the dialog's folder; see tests/gui/ for the same in real desktop QGIS."""
import sys
import time

import pytest

pytest.importorskip("qgis.core")
from qgis.core import Qgis, QgsApplication, QgsSettings  # noqa: E402

from floodkd.core import deps  # noqa: E402

FAKE_GROUP = {"modules": ("floodkd_fake_runtime",), "pins": ("floodkd-fake-runtime==1.0",), "for": "a test"}


def fake_python(tmp_path, script):
    path = tmp_path / "python3"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return str(path)


INSTALLS = """while [ $# -gt 0 ]; do [ "$1" = --target ] && T=$2; shift; done
mkdir -p "$T/floodkd_fake_runtime" && : > "$T/floodkd_fake_runtime/__init__.py"
echo "Successfully installed floodkd-fake-runtime-1.0"
"""
FAILS = "echo 'ERROR: No matching distribution found for floodkd-fake-runtime==1.0' >&2\nexit 1\n"


@pytest.fixture
def dialog(qgis_app, tmp_path, monkeypatch):
    """``make(python)``: the dialog with the onnx group replaced by a stand-in, folder in tmp_path."""
    from floodkd.plugin import deps_dialog

    target = tmp_path / ("a-rather-long-profile-folder-name-" * 6) / "python" / deps.DEPS_FOLDER / "py3X"
    monkeypatch.setattr(deps_dialog, "profile_deps_dir", lambda: str(target))
    monkeypatch.setattr(deps, "GROUPS", {"onnx": FAKE_GROUP, "torch": deps.GROUPS["torch"]})
    monkeypatch.setattr(sys, "path", list(sys.path))
    made = []

    def make(python):
        monkeypatch.setenv("FLOODKD_PYTHON", python)
        made.append(deps_dialog.DependenciesDialog())
        made[-1].show()
        return made[-1]

    yield make
    for d in made:
        d.close()


def wait_for_pip(dlg, seconds=30):
    end = time.monotonic() + seconds
    while dlg.outcome is None and time.monotonic() < end:
        QgsApplication.processEvents()
        time.sleep(0.01)
    assert dlg.outcome is not None, "pip never ended"


def test_dialog_fits_a_1280_px_screen_with_a_long_profile_path(dialog, tmp_path):
    dlg = dialog(fake_python(tmp_path, FAILS))
    assert str(deps.DEPS_FOLDER) in dlg.target and len(dlg.target) > 200
    assert dlg.width() <= 1280 and dlg.minimumSizeHint().width() <= 1280 and dlg.sizeHint().width() <= 1280
    assert dlg.status.text().startswith("Not installed: floodkd-fake-runtime==1.0") and dlg.status.wordWrap()


def test_dialog_keeps_pip_s_failure_and_offers_to_try_again(dialog, tmp_path):
    dlg = dialog(fake_python(tmp_path, FAILS))
    dlg.install.click()
    wait_for_pip(dlg)
    log = dlg.log.toPlainText()
    assert "No matching distribution found for floodkd-fake-runtime==1.0" in log  # pip's own words
    assert "Failed: pip failed (exit code 1)" in log and log.startswith("$ ")
    assert dlg.status.text().startswith("Not installed: floodkd-fake-runtime")
    assert dlg.install.isEnabled() and dlg.install.text() == "Try again"


def test_dialog_reports_a_pip_that_cannot_start(dialog, tmp_path):
    dlg = dialog(str(tmp_path / "no-such-python"))
    dlg.install.click()
    wait_for_pip(dlg)
    assert f"Failed: could not start {tmp_path / 'no-such-python'}" in dlg.log.toPlainText()
    assert dlg.process is None and dlg.outcome == "failed" and dlg.install.text() == "Try again"


def test_dialog_after_a_successful_install_says_so_and_has_nothing_left_to_install(dialog, tmp_path):
    dlg = dialog(fake_python(tmp_path, INSTALLS))
    dlg.groups["torch"].setChecked(False)
    dlg.install.click()
    wait_for_pip(dlg)
    log = dlg.log.toPlainText()
    assert "Successfully installed floodkd-fake-runtime-1.0" in log and "Done: Installed." in log
    assert "floodkd-fake-runtime" not in dlg.status.text()
    assert not dlg.groups["onnx"].isChecked() and not dlg.install.isEnabled()
    assert sys.path[-1] == dlg.target  # appended after QGIS's own packages
    import floodkd_fake_runtime  # noqa: F401


@pytest.fixture
def plugin_with(qgis_iface, monkeypatch):
    """``load(missing)``: initGui of a fresh plugin with the groups in ``missing`` not installed."""
    import floodkd

    QgsSettings().remove("floodkd/torchNoteShown")
    loaded, logged = [], []
    def record(text, tag, level):
        logged.append((text, tag, level))

    QgsApplication.messageLog().messageReceived.connect(record)

    def load(missing):
        monkeypatch.setattr(deps, "missing_groups", lambda: list(missing))
        while loaded:  # one plugin at a time, as QGIS restarts
            loaded.pop().unload()
        qgis_iface.messageBar().clearWidgets()
        plugin = floodkd.classFactory(qgis_iface)
        plugin.initGui()
        loaded.append(plugin)
        return [(item.text(), item.level()) for item in qgis_iface.messageBar().items()]

    yield load, logged
    QgsApplication.messageLog().messageReceived.disconnect(record)
    for plugin in loaded:
        plugin.unload()
    QgsSettings().remove("floodkd/torchNoteShown")


def test_optional_pytorch_is_an_info_shown_once_and_missing_onnxruntime_a_warning_each_time(plugin_with):
    load, logged = plugin_with
    first = load(["torch"])
    assert len(first) == 1 and first[0][1] == Qgis.Info and "PyTorch" in first[0][0]
    assert load(["torch"]) == []  # the next start: log only
    for _ in range(2):
        items = load(["onnx", "torch"])
        assert len(items) == 1 and items[0][1] == Qgis.Warning and "onnxruntime" in items[0][0]
    assert len(first[0][0]) < 100  # one line of the bar at 1600 px (tests/gui measures it)
    floodkd_lines = [text for text, tag, _ in logged if tag == "floodkd"]
    assert floodkd_lines and all("Install from Raster > floodkd > Install Python dependencies" in t
                                 for t in floodkd_lines)
    assert not any("Plugins > Raster" in t for t in floodkd_lines)


def test_the_raster_menu_offers_every_trainer_and_the_export(plugin_with):
    from floodkd.plugin.floodkd_plugin import ACTIONS

    load, _ = plugin_with
    load([])
    provider = QgsApplication.processingRegistry().providerById("floodkd")
    menu = {alg for _, _, alg in ACTIONS}
    assert {"floodkd:trainsupervised", "floodkd:exportonnx"} <= menu
    assert {a.id() for a in provider.algorithms() if a.group() == "Training"} <= menu
