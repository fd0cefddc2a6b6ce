"""The plugin zip as users get it: built by scripts/build_plugin_zip.py, extracted by
QGIS's own installer code into a fresh profile, enabled and run by the real qgis_process.

Only the zip's copy can be loaded: QGIS_PLUGINPATH does not name the repository
(unlike .venv/bin/qgis_process), and the test checks that the code and the default
model that ran came from the profile. QGIS runs on Debian's Python without the
venv, as a desktop user's would: no PyTorch, only onnxruntime added (the one
package the bundled model needs; linked from the venv into a folder on PYTHONPATH).
"""
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
QGIS_PROCESS_BIN = "/usr/bin/qgis_process.bin"
LIMIT_BYTES = 25 * 1000 * 1000


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "build_plugin_zip.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    zips = list(out.glob("floodkd-*.zip"))
    assert len(zips) == 1, zips
    return zips[0]


@pytest.fixture(scope="module")
def installed(plugin_zip, tmp_path_factory):
    """(run qgis_process, plugin folder): the zip unpacked as Plugins > Install from ZIP does."""
    if not os.path.exists(QGIS_PROCESS_BIN):
        pytest.fail(f"{QGIS_PROCESS_BIN} missing: run scripts/setup.sh first")
    sys.path.insert(0, "/usr/share/qgis/python")  # QGIS's plugin installer
    try:
        from pyplugin_installer.unzip import unzip
    finally:
        sys.path.remove("/usr/share/qgis/python")
    profile = tmp_path_factory.mktemp("profile")
    plugins = profile / "profiles" / "default" / "python" / "plugins"
    unzip(str(plugin_zip), str(plugins))
    only_onnxruntime = tmp_path_factory.mktemp("site")
    (only_onnxruntime / "onnxruntime").symlink_to(importlib.util.find_spec("onnxruntime").submodule_search_locations[0])
    env = {k: v for k, v in os.environ.items() if k not in ("QGIS_PLUGINPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PATH=":".join(p for p in env.get("PATH", "").split(":") if p and Path(p) != VENV_BIN),
               PYTHONPATH=str(only_onnxruntime), QGIS_CUSTOM_CONFIG_PATH=str(profile),
               QT_QPA_PLATFORM="offscreen", GDAL_PAM_ENABLED="NO",
               XDG_RUNTIME_DIR=env.get("XDG_RUNTIME_DIR", f"/tmp/runtime-{os.getuid()}"))
    os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)

    def call(*args):
        return subprocess.run([QGIS_PROCESS_BIN, *args], env=env, capture_output=True, text=True, timeout=600)

    no_torch = subprocess.run(["/usr/bin/python3", "-c", "import onnxruntime; import torch"], env=env,
                              capture_output=True, text=True)
    assert "No module named 'torch'" in no_torch.stderr, no_torch.stderr  # a desktop Python without PyTorch
    enabled = call("plugins", "enable", "floodkd")
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    return call, plugins / "floodkd"


def test_zip_holds_the_plugin_only(plugin_zip):
    assert plugin_zip.stat().st_size <= LIMIT_BYTES
    with zipfile.ZipFile(plugin_zip) as zf:
        names = zf.namelist()
        meta = zf.read("floodkd/metadata.txt").decode()
    assert all(n.startswith("floodkd/") for n in names)
    for needed in ("metadata.txt", "__init__.py", "LICENSE", "plugin/floodkd_plugin.py",
                   "processing_provider/provider.py", "core/segment.py", "training/evaluation/scoring.py",
                   "resources/icon.svg"):
        assert f"floodkd/{needed}" in names, needed
    assert any(n.startswith("floodkd/resources/models/") and n.endswith((".pt", ".onnx")) for n in names)
    for unwanted in ("tests/", "scripts/", ".ci/", "benchmarks/", ".venv/", ".qgis/", "out/", "runs/", "dist/"):
        assert not any(n.startswith(f"floodkd/{unwanted}") for n in names), unwanted
    assert "floodkd/requirements.txt" not in names  # pins the CUDA build of torch
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert "example.org" not in meta and "icon=resources/icon.svg" in meta


def test_zipped_markdown_links_only_to_files_in_the_zip(plugin_zip):
    """The zipped README showed docs/img/*.png that the zip did not hold (broken pictures)."""
    import posixpath
    import re

    with zipfile.ZipFile(plugin_zip) as zf:
        names = set(zf.namelist())
        docs = {n: zf.read(n).decode() for n in names if n.endswith(".md")}
    targets = {posixpath.normpath(posixpath.join(posixpath.dirname(md), t))
               for md, text in docs.items() for t in re.findall(r"\]\(([^)\s#]+)", text) if "://" not in t}
    assert "floodkd/docs/img/segment_dialog.png" in targets  # the README's pictures are checked
    assert sorted(targets - names) == []


def test_build_fails_loudly_over_the_limit(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "build_plugin_zip.py"), "--out", str(tmp_path),
                           "--max-mb", "0.5"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "over the 0.5 MB limit" in proc.stderr
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_zip_installed_in_a_fresh_profile_segments_a_real_chip(installed, spain_s1, tmp_path):
    call, plugin_dir = installed
    help_json = json.loads(call("help", "floodkd:segment", "--json").stdout)
    assert help_json["algorithm_details"]["help_url"].startswith(plugin_dir.as_uri())

    out = tmp_path / "water.tif"
    proc = call("run", "floodkd:segment", "--json", "--", f"INPUT={spain_s1}", f"OUTPUT={out}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(proc.stdout)["results"]
    assert results["USED_METHOD"] == "model"  # empty MODEL = the bundled default
    with rasterio.open(out) as ds:
        classes = ds.read(1)
        model = ds.tags().get("FLOODKD_MODEL", "")
        assert ds.nodata == 255
    # The default model that ran is the zip's copy (so was the code that found it), run by onnxruntime.
    assert Path(model).resolve().is_relative_to(plugin_dir.resolve()) and model.endswith(".onnx"), model
    assert set(np.unique(classes)) <= {0, 1, 255}
    with rasterio.open(spain_s1) as src:
        np.testing.assert_array_equal(classes == 255, np.isnan(src.read(1)))
    label_path = spain_s1.parents[1] / "LabelHand" / spain_s1.name.replace("S1Hand", "LabelHand")
    with rasterio.open(label_path) as ds:
        label = ds.read(1)
    scored = (label >= 0) & (classes != 255)
    water, truth = (classes == 1) & scored, (label == 1) & scored
    iou = (water & truth).sum() / (water | truth).sum()
    # Sanity, not the model's accuracy: 27 % of the chip is water, so "all water" scores 0.27
    # and "no water" 0; Otsu scores 0.56 (README, Accuracy).
    assert 0.05 < water.sum() / scored.sum() < 0.6
    assert iou > 0.4, iou
    assert out.with_suffix(".qml").exists()
