"""Flood polygons and area statistics against hand counts on the written raster."""
import csv
import json
import os

import numpy as np
import pytest
import rasterio
from osgeo import ogr
from scipy import ndimage

from floodkd.core.geo.area import row_areas_km2
from floodkd.core.errors import Cancelled, InputError
from floodkd.core.progress import Progress
from floodkd.core.segment import SegmentOptions, segment_scene


def polygons(path):
    ds = ogr.Open(str(path))
    layer = ds.GetLayer(0)
    rows = [(f.GetField("class"), f.GetField("area_m2")) for f in layer]
    return rows, layer.GetSpatialRef().GetAuthorityCode(None)


def raster(path):
    with rasterio.open(path) as ds:
        return ds.read(1), ds.crs, ds.transform


def test_polygon_area_equals_raster_water_area_geographic(spain_s1, tmp_path):
    out, gpkg = tmp_path / "w.tif", tmp_path / "p.gpkg"
    result = segment_scene(str(spain_s1), str(out), SegmentOptions(method="otsu"), polygons_path=str(gpkg))
    classes, crs, transform = raster(out)
    rows, epsg = polygons(gpkg)
    assert epsg == "4326" and {c for c, _ in rows} == {1}
    components = ndimage.label(classes == 1)[1]  # 4-connected, as GDAL polygonises
    assert len(rows) == result.polygons["polygons"] == components
    water_m2 = (((classes == 1).sum(axis=1)) * row_areas_km2(crs, transform, classes.shape[0])).sum() * 1e6
    assert sum(a for _, a in rows) == pytest.approx(water_m2, rel=0.005)  # sphere vs ellipsoid


def test_min_area_drops_small_polygons(india_s1, tmp_path):
    out, gpkg = tmp_path / "w.tif", tmp_path / "p.gpkg"
    result = segment_scene(str(india_s1), str(out), SegmentOptions(method="otsu", min_area=2000),
                           polygons_path=str(gpkg))
    classes, crs, transform = raster(out)
    labels, n = ndimage.label(classes == 1)
    pixel_m2 = row_areas_km2(crs, transform, classes.shape[0]).mean() * 1e6  # ~95 m2 near 23 N
    sizes = np.bincount(labels.ravel())[1:] * pixel_m2
    rows, _ = polygons(gpkg)
    assert min(a for _, a in rows) >= 2000
    assert len(rows) == int((sizes >= 2000).sum()) and result.polygons["dropped_polygons"] == n - len(rows) > 0


def test_polygons_keep_permanent_water_class_in_utm(make_raster, tmp_path):
    rng = np.random.default_rng(1)
    vv, vh = rng.normal(-9, 1, (2, 200, 200)).astype(np.float32), rng.normal(-16, 1, (200, 200)).astype(np.float32)
    vh[20:60, 20:60] = -28  # 40 x 40 px of water, 10 m pixels: 160000 m2
    vh[100:103, 100:103] = -28  # 900 m2
    scene = make_raster(tmp_path / "s.tif", np.stack([vv[0], vh]))
    perm = make_raster(tmp_path / "perm.tif", np.pad(np.ones((40, 40), np.uint8), ((20, 140), (20, 140)))[None])
    gpkg, stats = tmp_path / "p.gpkg", tmp_path / "s.json"
    segment_scene(str(scene), str(tmp_path / "w.tif"),
                  SegmentOptions(method="otsu", permanent_water=str(perm), permanent_water_threshold=1, min_area=1000),
                  polygons_path=str(gpkg), stats_path=str(stats))
    rows, epsg = polygons(gpkg)
    assert epsg == "32630" and rows == [(2, pytest.approx(160000.0))]
    report = json.loads(stats.read_text())
    assert report["permanent_water_km2"] == pytest.approx(0.16) and report["flooded_km2"] == pytest.approx(0.0009)
    assert report["polygons"]["dropped_polygons"] == 1


@pytest.mark.parametrize("ext", [".csv", ".json"])
def test_stats_match_a_hand_count(india_s1, tmp_path, ext):
    out, stats = tmp_path / "w.tif", tmp_path / f"s{ext}"
    result = segment_scene(str(india_s1), str(out), SegmentOptions(method="otsu"), stats_path=str(stats))
    classes, crs, transform = raster(out)
    areas = row_areas_km2(crs, transform, classes.shape[0])
    count = {c: int((classes == c).sum()) for c in (0, 1, 2, 255)}
    km2 = {c: float(((classes == c).sum(axis=1) * areas).sum()) for c in (0, 1, 2)}
    if ext == ".json":
        report = json.loads(stats.read_text())
        by_code = {row["code"]: row for row in report["classes"]}
        assert {c: by_code[c]["pixels"] for c in count} == count
        assert report["flooded_km2"] == pytest.approx(km2[1]) and report["valid_km2"] == pytest.approx(sum(km2.values()))
        assert report["method"] == "otsu"
    else:
        rows = list(csv.reader(stats.open()))
        assert {int(r[0]): int(r[2]) for r in rows[1:5]} == count
        assert float(rows[5][3]) == pytest.approx(km2[1], abs=1e-6) and rows[5][1] == "flooded_km2"
    assert result.stats.pixels == count and result.water_km2 == pytest.approx(km2[1] + km2[2])


@pytest.mark.parametrize("kwargs,match", [({"polygons_path": "p.shp"}, "must be a GeoPackage"),
                                          ({"stats_path": "s.txt"}, "must end in .csv or .json")])
def test_unsupported_product_formats_fail_before_work(spain_s1, tmp_path, kwargs, match):
    kwargs = {k: str(tmp_path / v) for k, v in kwargs.items()}
    with pytest.raises(InputError, match=match):
        segment_scene(str(spain_s1), str(tmp_path / "o.tif"), SegmentOptions(method="otsu"), **kwargs)
    assert os.listdir(tmp_path) == []


class CountPolls(Progress):
    def __init__(self, cancel_at=None):
        self.polls, self.cancel_at = 0, cancel_at

    def is_cancelled(self):
        self.polls += 1
        return self.cancel_at is not None and self.polls >= self.cancel_at


def test_cancel_while_writing_products_leaves_nothing(spain_s1, tmp_path):
    def run(progress, folder):
        folder.mkdir()
        segment_scene(str(spain_s1), str(folder / "o.tif"), SegmentOptions(method="otsu"), str(folder / "p.tif"),
                      progress, str(folder / "p.gpkg"), str(folder / "s.json"))

    counter = CountPolls()
    run(counter, tmp_path / "full")
    for last in (1, 2, 5):  # the final polls happen while polygonising / writing the statistics
        with pytest.raises(Cancelled):
            run(CountPolls(counter.polls - last + 1), tmp_path / f"cut{last}")
        assert os.listdir(tmp_path / f"cut{last}") == []


def test_quicklook_of_a_bbox_run_covers_the_crop_only(tmp_path):
    """With --bbox the classes cover part of the scene; the PNG must show that part, not stretch it."""
    vh = np.full((512, 512), -15, np.float32)
    vh[:, :256] = -28  # water on the left half
    vv = np.where(vh < -20, np.float32(-20), np.float32(-8))
    profile = dict(driver="GTiff", width=512, height=512, count=2, dtype="float32", crs="EPSG:32630",
                   transform=rasterio.transform.from_origin(500000, 4000000, 10, 10))
    with rasterio.open(tmp_path / "s.tif", "w", **profile) as out:
        out.write(np.stack([vv, vh]))
    left_half = (500000, 3994880, 502560, 4000000)
    segment_scene(str(tmp_path / "s.tif"), str(tmp_path / "c.tif"),
                  SegmentOptions(method="threshold", bbox=left_half), quicklook_path=str(tmp_path / "q.png"))
    with rasterio.open(tmp_path / "c.tif") as c:
        water = int((c.read(1) == 1).sum())
    with rasterio.open(tmp_path / "q.png") as q:
        png = q.read()
    blue = int(((png[0] == 31) & (png[1] == 120) & (png[2] == 220)).sum())
    assert png.shape == (3, 512, 256) and water == blue == 512 * 256
