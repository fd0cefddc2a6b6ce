"""A new user's first run in real desktop QGIS 3.22 (Xvfb, a 1600 x 1000 screen, a fresh profile).

QGIS runs as a desktop user's would after installing onnxruntime: Debian's Python
without the venv (no PyTorch), onnxruntime on PYTHONPATH, and a profile whose
floodkd-deps folder holds a numpy stand-in that must never be imported (the
folder comes after QGIS's own packages). pip is a fake that fails. QGIS starts
twice: the optional-PyTorch note is an info the first time only.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
import importlib.util

import pytest

REPO = Path(__file__).resolve().parents[2]
QGIS = "/usr/bin/qgis"
pytestmark = pytest.mark.skipif(not (shutil.which("xvfb-run") and os.path.exists(QGIS)),
                                reason="needs desktop QGIS and xvfb-run (scripts/setup.sh installs them)")
INFO, WARNING = 0, 1  # Qgis.Info, Qgis.Warning


@pytest.fixture(scope="module")
def desktop(tmp_path_factory):
    """``start(phase)``: QGIS once with tests/gui/first_run_session.py; returns (process, report)."""
    tmp = tmp_path_factory.mktemp("first_run")
    profile = tmp / "profiles"
    ini = profile / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text("[PythonPlugins]\nfloodkd=true\n[qgis]\ncheckVersion=false\nshowTips322=false\n")
    py = f"py{sys.version_info.major}{sys.version_info.minor}"
    stand_in = profile / "profiles" / "default" / "python" / "floodkd-deps" / py / "numpy"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text("raise ImportError('the numpy of floodkd-deps was imported')\n")
    plugins, site = tmp / "plugins", tmp / "site"
    plugins.mkdir()
    site.mkdir()
    (plugins / "floodkd").symlink_to(REPO)
    (site / "onnxruntime").symlink_to(importlib.util.find_spec("onnxruntime").submodule_search_locations[0])
    pip = tmp / "fake-python"
    pip.write_text("#!/bin/sh\necho 'ERROR: No matching distribution found for onnxruntime (fake pip)' >&2\nexit 1\n")
    pip.chmod(0o755)
    venv_bin = str(REPO / ".venv" / "bin")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME", "QT_QPA_PLATFORM",
                                                            "FLOODKD_TORCH_IN_PROCESS")}
    env.update(PATH=os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin),
               PYTHONPATH=str(site), QGIS_PLUGINPATH=str(plugins), FLOODKD_PYTHON=str(pip),
               GDAL_PAM_ENABLED="NO", XDG_RUNTIME_DIR=str(tmp / "xdg"))

    def start(phase):
        marker = tmp / f"{phase}.json"
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", QGIS, "--nologo", "--noversioncheck",
               "--profiles-path", str(profile), "--code", str(Path(__file__).with_name("first_run_session.py"))]
        proc = subprocess.run(cmd, env={**env, "FLOODKD_GUI_MARKER": str(marker), "FLOODKD_GUI_PHASE": phase},
                              capture_output=True, text=True, timeout=300)
        report = json.loads(marker.read_text()) if marker.exists() else None
        assert report is not None and "error" not in report, (report, proc.stderr[-3000:])
        return proc, report

    first = start("full")
    return first, start("again")


def test_first_start_with_onnxruntime_only(desktop):
    (proc, report), _ = desktop
    assert proc.returncode == 0 and report["platform"] == "desktop" and report["plugin_loaded"]
    assert report["window_width"] == 1600, report
    # optional PyTorch: one info, its line not clipped in a 1600 px window
    assert [item["level"] for item in report["bar"]] == [INFO], report["bar"]
    assert "PyTorch" in report["bar"][0]["text"] and report["bar"][0]["clipped"] == [], report["bar"]
    # the deps folder comes after QGIS's packages: QGIS's numpy, never the folder's
    assert report["deps_index"] is not None and report["deps_index"] > report["numpy_index"], report
    assert report["numpy_file"].startswith("/usr/lib/python3/dist-packages/numpy")


def test_dependency_dialog_fits_and_keeps_a_failed_pip_run(desktop):
    (_, report), _ = desktop
    dialog = report["dialog"]
    assert dialog["screen"] == 1600 and dialog["width"] <= 1280 and dialog["install_visible"], dialog
    assert dialog["outcome"] == "failed" and "No matching distribution found for onnxruntime" in dialog["log"]
    assert "Failed: pip failed (exit code 1)" in dialog["log"]
    assert dialog["install_enabled"] and dialog["install_text"] == "Try again"
    assert dialog["status"].startswith("Not installed: torch==")  # onnxruntime is there, PyTorch is not


def test_segment_dialog_shows_the_model_label_whole(desktop):
    (_, report), _ = desktop
    label = report["model_label"]
    assert label["label_width"] >= label["needed"], label  # the label is as wide as its text
    assert label["left"] + label["needed"] <= label["viewport"], label  # and its text is inside the panel
    assert label["text"].startswith("Model (.onnx or .pt")


def test_second_start_shows_no_optional_pytorch_note(desktop):
    _, (proc, report) = desktop
    assert proc.returncode == 0 and report["plugin_loaded"] and report["bar"] == [], report["bar"]
