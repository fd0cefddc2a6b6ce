"""The real qgis_process binary, end to end, in a fresh isolated QGIS profile."""
import json

import numpy as np
import pytest
import rasterio


def test_floodkd_is_listed(qgis_process):
    listing = qgis_process("list")
    assert "floodkd:segment" in listing.stdout


def test_segment_end_to_end(qgis_process, spain_s1, tmp_path):
    out = tmp_path / "spain_water.tif"
    proc = qgis_process("run", "floodkd:segment", "--json", "--", f"INPUT={spain_s1}", f"OUTPUT={out}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(proc.stdout)["results"]
    assert results["OUTPUT"] == str(out) and results["USED_METHOD"] == "model"  # the bundled student is the default
    assert 0 < results["WATER_KM2"] < results["VALID_KM2"]
    with rasterio.open(out) as ds:
        assert ds.nodata == 255 and {0, 1} <= set(np.unique(ds.read(1))) <= {0, 1, 255}
    assert out.with_suffix(".qml").exists()  # styled whenever QGIS opens it


def test_bad_input_exits_non_zero_without_output(qgis_process, tmp_path):
    bad = tmp_path / "not_a_raster.tif"
    bad.write_text("hello")
    out = tmp_path / "o.tif"
    proc = qgis_process("run", "floodkd:segment", "--", f"INPUT={bad}", f"OUTPUT={out}")
    assert proc.returncode != 0
    assert not out.exists()


def test_one_band_raster_is_explained(qgis_process, make_raster, tmp_path):
    bad = make_raster(tmp_path / "vv_only.tif", np.full((1, 32, 32), -12, np.float32))
    out = tmp_path / "o.tif"
    proc = qgis_process("run", "floodkd:segment", "--", f"INPUT={bad}", f"OUTPUT={out}")
    assert proc.returncode != 0
    assert "needs 2 (VV, VH)" in proc.stdout + proc.stderr
    assert not out.exists()
