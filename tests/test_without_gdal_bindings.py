"""core/ and the CLI need rasterio alone: GDAL's Python bindings (osgeo) are optional.

One test hides osgeo in a fresh Python (any import of it fails) and segments a
real chip through the CLI with polygons and statistics; the other installs
``.[onnx]`` into a clean virtual environment (no system packages: PyPI's
rasterio wheel, no osgeo, no torch) and maps the chip with the bundled ONNX model.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import rasterio

from floodkd.cli.main import main
from floodkd.worker.client import _package_parent

from .conftest import shared_file

REPO = Path(__file__).resolve().parents[1]
HIDE_OSGEO = r"""
import importlib.abc, json, pkgutil, sys
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "osgeo":
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
sys.meta_path.insert(0, Hide())
import floodkd.core
modules = [m.name for m in pkgutil.walk_packages(floodkd.core.__path__, "floodkd.core.")]
for name in modules:
    __import__(name)
from floodkd.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "core_modules": len(modules),
                  "osgeo": sorted(m for m in sys.modules if m.split(".")[0] == "osgeo")}))
"""


def polygon_rows(gpkg):
    with warnings.catch_warnings():  # pyogrio imports Debian's pyproj, which warns about its data folder
        warnings.simplefilter("ignore")
        import pyogrio

    info = pyogrio.read_info(str(gpkg), layer="flood_water")
    _, _, _, fields = pyogrio.raw.read(str(gpkg), layer="flood_water")
    return info["features"], sorted(set(fields[0].tolist())), float(fields[1].sum())


def test_segment_with_polygons_and_stats_without_osgeo(spain_s1, tmp_path):
    args = ["segment", str(spain_s1), "OUT.tif", "--method", "otsu", "--polygons", "OUT.gpkg", "--stats", "OUT.csv"]
    hidden, normal = tmp_path / "hidden", tmp_path / "normal"
    env = dict(os.environ, PYTHONPATH=_package_parent())
    proc = subprocess.run([sys.executable, "-c", HIDE_OSGEO, *[a.replace("OUT", str(hidden)) for a in args]],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] == 0 and report["osgeo"] == [] and report["core_modules"] > 30
    assert main([a.replace("OUT", str(normal)) for a in args]) == 0  # GDAL's bindings importable here
    count, classes, area = polygon_rows(hidden.with_suffix(".gpkg"))
    assert (count, classes) == polygon_rows(normal.with_suffix(".gpkg"))[:2] and count > 100 and classes == [1]
    assert area == pytest.approx(polygon_rows(normal.with_suffix(".gpkg"))[2], rel=1e-9)
    with open(hidden.with_suffix(".csv")) as a, open(normal.with_suffix(".csv")) as b:
        assert list(csv.reader(a)) == list(csv.reader(b))
    with rasterio.open(hidden.with_suffix(".tif")) as a, rasterio.open(normal.with_suffix(".tif")) as b:
        assert (a.read(1) == b.read(1)).all()


@pytest.mark.parametrize("existing", [True, False])  # copying its other layers fails / pyogrio's write fails
def test_a_full_disk_while_pyogrio_writes_keeps_the_previous_outputs(spain_s1, tmp_path, file_size_limit,
                                                                     file_contents, existing):
    args = ["segment", str(spain_s1), str(tmp_path / "o.tif"), "--method", "otsu", "--polygons",
            str(tmp_path / "w.gpkg")]
    assert main(args if existing else args[:-2]) == 0
    before = file_contents(tmp_path)
    proc = subprocess.run([sys.executable, "-c", HIDE_OSGEO, *args, "--threshold", "0.3"], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, PYTHONPATH=_package_parent()),
                          preexec_fn=file_size_limit(100_000))
    assert json.loads(proc.stdout.strip().splitlines()[-1])["code"] == 2, proc.stderr[-2000:]
    assert f"writing the flood polygons {tmp_path / 'w.gpkg'} failed" in proc.stderr
    assert "Traceback" not in proc.stderr and file_contents(tmp_path) == before


def source_tree(target):
    """The package as pip sees it (tracked and new files, no tests, venvs or build folders)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    for name in files:
        if not name.startswith("tests/") and (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target


@pytest.mark.slow
def test_pip_install_onnx_extra_in_a_clean_venv_segments_with_the_bundled_model(tmp_path):
    chip = shared_file("sen1floods11", "S1Hand", "Spain_7370579_S1Hand.tif")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    src = source_tree(tmp_path / "src")
    pip = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"{src}[onnx]"],
                         capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stderr[-3000:]
    installed = subprocess.run([python, "-m", "pip", "list", "--format", "json"], capture_output=True, text=True,
                               check=True).stdout
    names = {p["name"].lower() for p in json.loads(installed)}
    assert {"numpy", "rasterio", "onnxruntime", "floodkd"} <= names and not names & {"torch", "gdal", "dask"}
    out = tmp_path / "w.tif"
    proc = subprocess.run([str(venv / "bin" / "floodkd"), "segment", str(chip), str(out), "--threads", "2", "--json"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["method"] == "model" and result["predictor"]["runtime"] == "onnxruntime"
    assert result["predictor"]["model"].startswith(str(venv))  # the .onnx the package installed
    assert 0.05 < result["water_km2"] / result["valid_km2"] < 0.9
