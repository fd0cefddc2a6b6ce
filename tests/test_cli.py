"""``floodkd segment``: exit codes, outputs and messages, in-process and as a subprocess."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import rasterio

from floodkd.cli.main import main

REPO = Path(__file__).resolve().parents[1]


def test_segment_writes_classes_and_quicklook(spain_s1, tmp_path, capsys):
    out, png = tmp_path / "w.tif", tmp_path / "w.png"
    assert main(["segment", str(spain_s1), str(out), "--method", "otsu", "--quicklook", str(png), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["method"] == "otsu" and summary["water_pixels"] > 0
    with rasterio.open(png) as ds:
        assert ds.count == 3 and ds.width == 512
    with rasterio.open(out) as ds:
        assert int((ds.read(1) == 1).sum()) == summary["water_pixels"]


def test_bad_input_exit_code_2_and_no_output(make_raster, tmp_path, capsys):
    bad = make_raster(tmp_path / "b.tif", np.zeros((3, 16, 16), np.float32))
    assert main(["segment", str(bad), str(tmp_path / "o.tif")]) == 2
    assert "needs 2 (VV, VH)" in capsys.readouterr().err
    assert not (tmp_path / "o.tif").exists()


def test_console_script_runs(india_s1, tmp_path):
    exe = Path(sys.executable).with_name("floodkd")
    assert exe.exists(), "console script missing: run scripts/setup.sh"
    out = tmp_path / "o.tif"
    ok = subprocess.run([str(exe), "segment", str(india_s1), str(out)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "wrote" in ok.stdout and out.exists()
    missing = subprocess.run([str(exe), "segment", str(tmp_path / "nope.tif"), str(tmp_path / "x.tif")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "not found" in missing.stderr
    assert not os.path.exists(tmp_path / "x.tif")
