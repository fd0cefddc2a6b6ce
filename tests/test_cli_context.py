"""``floodkd segment`` context flags and ``floodkd segment-change`` on real chips."""
import json
import os

import numpy as np
import rasterio

from floodkd.cli.main import main


def test_segment_change_cli_same_scene(india_s1, tmp_path, capsys):
    out, gpkg, stats = tmp_path / "c.tif", tmp_path / "c.gpkg", tmp_path / "c.json"
    copy = tmp_path / "copy" / "india.tif"  # the same scene as another file (one file for both dates is refused)
    copy.parent.mkdir()
    copy.write_bytes(india_s1.read_bytes())
    code = main(["segment-change", "--pre-flood", str(copy), str(india_s1), str(out), "--method", "otsu",
                 "--polygons", str(gpkg), "--min-area", "500", "--stats", str(stats)])
    assert code == 0
    report = json.loads(stats.read_text())
    with rasterio.open(out) as ds:
        classes = ds.read(1)
    assert report["flooded_km2"] == 0 and report["permanent_water_km2"] > 5
    assert {r["code"]: r["pixels"] for r in report["classes"]}[2] == int((classes == 2).sum())
    assert "flood 0.000 km2" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ["c.gpkg", "c.json", "c.tif", "copy"]


def test_segment_cli_dem_and_permanent_water_flags(spain_s1, make_raster, tmp_path, capsys):
    with rasterio.open(spain_s1) as ds:
        transform, crs = ds.transform, ds.crs
    flat = make_raster(tmp_path / "dem.tif", np.zeros((1, 512, 512), np.float32), crs=crs, transform=transform)
    perm = make_raster(tmp_path / "perm.tif", np.full((1, 512, 512), 90, np.uint8), crs=crs, transform=transform)
    out = tmp_path / "w.tif"
    assert main(["segment", str(spain_s1), str(out), "--method", "otsu", "--dem", str(flat), "--max-slope", "5",
                 "--permanent-water", str(perm), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    with rasterio.open(out) as ds:
        classes = ds.read(1)
    assert (classes != 1).all() and summary["stats"]["pixels"]["2"] == summary["water_pixels"] > 0


def test_segment_change_cli_missing_pre_flood_exits_2(spain_s1, tmp_path, capsys):
    code = main(["segment-change", "--pre-flood", str(tmp_path / "nope.tif"), str(spain_s1), str(tmp_path / "o.tif")])
    assert code == 2 and "nope.tif" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []
