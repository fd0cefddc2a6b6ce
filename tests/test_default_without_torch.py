"""The bundled default segments without PyTorch (ONNX Runtime), and ``auto`` falls back without any runtime.

Each case runs in a fresh Python in which importing torch (and, for the
fallback, onnxruntime) fails, as on a desktop QGIS without them.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import rasterio

from floodkd.core.predict.model_choice import DEFAULT_ONNX
from floodkd.core.predict.common import DEFAULT_MODEL
from floodkd.worker.client import _package_parent

from .conftest import shared_file

TORCH = ("torch", "torchvision", "timm", "segmentation_models_pytorch", "triton")
RUN = r"""
import importlib.abc, json, sys
BLOCKED = set(sys.argv[1].split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
sys.meta_path.insert(0, Block())
from floodkd.core.progress import Progress
from floodkd.core.segment import SegmentOptions, segment_scene
warnings = []
class Log(Progress):
    def warning(self, message):
        warnings.append(message)
result = segment_scene(sys.argv[2], sys.argv[3], SegmentOptions(method=sys.argv[4], threads=2), progress=Log())
print(json.dumps({"method": result.method, "predictor": result.predictor, "warnings": warnings,
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED | {"onnxruntime"})}))
"""


def segment_without(blocked, s1, out, method="auto", python=sys.executable, extra_path=()):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([*extra_path, _package_parent()]))
    proc = subprocess.run([python, "-c", RUN, ",".join(blocked), str(s1), str(out), method], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def water_fraction(path):
    with rasterio.open(path) as ds:
        classes = ds.read(1)
    return (classes == 1).sum() / (classes != 255).sum(), classes


@pytest.fixture(scope="module")
def torch_reference(tmp_path_factory):
    """The bundled .pt run with torch in this process (what the .onnx must reproduce)."""
    from floodkd.core.segment import SegmentOptions, segment_scene

    s1 = shared_file("sen1floods11", "S1Hand", "Spain_7370579_S1Hand.tif")
    out = tmp_path_factory.mktemp("pt") / "pt.tif"
    segment_scene(str(s1), str(out), SegmentOptions(model=DEFAULT_MODEL, threads=2))
    return s1, water_fraction(out)


def test_bundled_onnx_ships_beside_the_checkpoint():
    assert os.path.isfile(DEFAULT_ONNX), "run scripts/bundle_default_model.py"
    assert os.path.getsize(DEFAULT_ONNX) < 0.6 * 2 * os.path.getsize(DEFAULT_MODEL)  # float16 weights


def test_default_model_runs_with_onnxruntime_and_no_torch(torch_reference, tmp_path):
    s1, (pt_fraction, pt_classes) = torch_reference
    out = tmp_path / "w.tif"
    summary = segment_without(TORCH, s1, out)
    assert summary["method"] == "model" and summary["predictor"]["runtime"] == "onnxruntime", summary
    assert os.path.realpath(summary["predictor"]["model"]) == os.path.realpath(DEFAULT_ONNX)
    assert not [m for m in summary["loaded"] if m.split(".")[0] != "onnxruntime"], summary["loaded"]
    fraction, classes = water_fraction(out)
    assert 0.01 < fraction < 0.9  # a flooded Sentinel-1 chip: some water, not all
    assert abs(fraction - pt_fraction) < 0.005
    assert np.mean(classes == pt_classes) > 0.995  # float16 weights: a few pixels at the 0.5 cut differ


def test_auto_falls_back_to_the_threshold_without_any_runtime(tmp_path):
    s1 = shared_file("sen1floods11", "S1Hand", "Spain_7370579_S1Hand.tif")
    out = tmp_path / "w.tif"
    summary = segment_without((*TORCH, "onnxruntime"), s1, out)
    assert summary["method"] == "threshold", summary
    assert "onnxruntime" in summary["predictor"]["fallback"]
    assert any("METHOD auto" in w and "Install Python dependencies" in w for w in summary["warnings"])
    assert summary["loaded"] == []
    fraction, _ = water_fraction(out)
    assert 0.01 < fraction < 0.9


def test_method_model_without_any_runtime_says_what_to_install(tmp_path):
    s1 = shared_file("sen1floods11", "S1Hand", "Spain_7370579_S1Hand.tif")
    env = dict(os.environ, PYTHONPATH=_package_parent())
    proc = subprocess.run([sys.executable, "-c", RUN, ",".join((*TORCH, "onnxruntime")), str(s1),
                           str(tmp_path / "w.tif"), "model"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "onnxruntime" in proc.stderr and "Install Python dependencies" in proc.stderr
    assert not os.listdir(tmp_path)
