"""floodkd:segment context layers/products and floodkd:segmentchange through QGIS Processing (real chips)."""
import csv
import json
import os
import shutil

import numpy as np
import pytest
import rasterio

pytest.importorskip("qgis.core")
from qgis.core import (QgsApplication, QgsProcessingException,  # noqa: E402
                       QgsProcessingFeedback, QgsVectorLayer)




def run(alg, params, feedback=None, context=None):
    import processing

    return processing.run(f"floodkd:{alg}", params, feedback=feedback, context=context)


def label_water_mask(spain_s1, tmp_path):
    """A 0/1 permanent-water raster from the chip's hand label (water = 1)."""
    label = spain_s1.parent.parent / "LabelHand" / spain_s1.name.replace("S1Hand", "LabelHand")
    with rasterio.open(label) as ds:
        profile = ds.profile
        water = (ds.read(1) == 1).astype(np.uint8)
    profile.update(dtype="uint8", nodata=None)
    path = tmp_path / "perm.tif"
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(water, 1)
    return path, water


def test_new_parameters_and_algorithms_are_listed(provider):
    seg = QgsApplication.processingRegistry().algorithmById("floodkd:segment")
    names = {p.name() for p in seg.parameterDefinitions()}
    assert {"PERMANENT_WATER", "PERMANENT_WATER_THRESHOLD", "DEM", "MAX_SLOPE", "OUTPUT_POLYGONS",
            "MIN_AREA", "OUTPUT_STATS"} <= names
    change = QgsApplication.processingRegistry().algorithmById("floodkd:segmentchange")
    assert change is not None and {"INPUT", "PRE_FLOOD", "MODEL", "METHOD", "DEVICE", "THRESHOLD", "OUTPUT"} <= {
        p.name() for p in change.parameterDefinitions()}


def test_segment_with_permanent_water_polygons_and_stats(provider, spain_s1, tmp_path):
    perm, water_label = label_water_mask(spain_s1, tmp_path)
    out, gpkg, stats = str(tmp_path / "w.tif"), str(tmp_path / "p.gpkg"), str(tmp_path / "s.json")
    result = run("segment", {"INPUT": str(spain_s1), "METHOD": 2, "PERMANENT_WATER": str(perm),
                             "PERMANENT_WATER_THRESHOLD": 1, "OUTPUT": out, "OUTPUT_POLYGONS": gpkg,
                             "MIN_AREA": 1000, "OUTPUT_STATS": stats})
    with rasterio.open(out) as ds:
        classes = ds.read(1)
    counts = {c: int((classes == c).sum()) for c in (0, 1, 2, 255)}
    assert counts[2] > 0 and counts[1] > 0
    assert (classes[water_label == 0] != 2).all() and (classes[water_label == 1] != 1).all()
    assert (result["DRY_PIXELS"], result["FLOOD_PIXELS"], result["PERMANENT_WATER_PIXELS"],
            result["NODATA_PIXELS"]) == (counts[0], counts[1], counts[2], counts[255])
    assert result["FLOODED_KM2"] + result["PERMANENT_WATER_KM2"] == pytest.approx(result["WATER_KM2"])
    report = json.loads(open(stats).read())
    assert report["flooded_km2"] == pytest.approx(result["FLOODED_KM2"])
    assert result["OUTPUT_POLYGONS"] == gpkg and result["POLYGON_COUNT"] > 0
    layer = QgsVectorLayer(gpkg, "p", "ogr")  # the style stored in the GeoPackage is applied
    assert layer.isValid() and layer.featureCount() == result["POLYGON_COUNT"]
    assert layer.renderer().type() == "categorizedSymbol"
    assert {str(c.value()) for c in layer.renderer().categories()} == {"1", "2"}
    assert min(f["area_m2"] for f in layer.getFeatures()) >= 1000
    del layer


def test_polygons_style_on_load(provider, india_s1, tmp_path, loading_context):
    gpkg = str(tmp_path / "p.gpkg")
    context = loading_context(gpkg, "Flood polygons", "OUTPUT_POLYGONS")
    run("segment", {"INPUT": str(india_s1), "METHOD": 2, "OUTPUT": str(tmp_path / "w.tif"),
                    "OUTPUT_POLYGONS": gpkg}, context=context)
    assert context.layerToLoadOnCompletionDetails(gpkg).postProcessor() is not None


def test_segmentchange_same_scene_gives_no_flood(provider, india_s1, tmp_path):
    out, stats = str(tmp_path / "c.tif"), str(tmp_path / "c.csv")
    pre = shutil.copy(india_s1, tmp_path / "pre.tif")  # the same file twice is refused before Run
    result = run("segmentchange", {"INPUT": str(india_s1), "PRE_FLOOD": str(pre), "METHOD": 2,
                                   "OUTPUT": out, "OUTPUT_STATS": stats})
    with rasterio.open(out) as ds:
        classes = ds.read(1)
    assert result["FLOOD_PIXELS"] == 0 == int((classes == 1).sum())
    assert result["PERMANENT_WATER_PIXELS"] == int((classes == 2).sum()) > 0
    rows = list(csv.reader(open(stats)))
    assert rows[0] == ["code", "class", "pixels", "area_km2"] and rows[2][:3] == ["1", "flood water", "0"]
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".floodkd")]


def test_context_layer_not_overlapping_is_refused(provider, spain_s1, make_raster, tmp_path):
    far = make_raster(tmp_path / "far.tif", np.full((1, 20, 20), 100, np.uint8))  # UTM 30N, far from Spain chip
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(QgsProcessingException, match="does not overlap the scene"):
        run("segment", {"INPUT": str(spain_s1), "METHOD": 2, "PERMANENT_WATER": str(far),
                        "OUTPUT": str(tmp_path / "o.tif"), "OUTPUT_POLYGONS": str(tmp_path / "p.gpkg"),
                        "OUTPUT_STATS": str(tmp_path / "s.csv")})
    assert sorted(os.listdir(tmp_path)) == before


def test_cancel_leaves_nothing(provider, spain_s1, tmp_path_factory, tmp_path):
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    pre = shutil.copy(spain_s1, tmp_path_factory.mktemp("pre") / "pre.tif")
    with pytest.raises(QgsProcessingException, match="cancelled"):
        run("segmentchange", {"INPUT": str(spain_s1), "PRE_FLOOD": str(pre), "METHOD": 2,
                              "OUTPUT": str(tmp_path / "o.tif"), "OUTPUT_POLYGONS": str(tmp_path / "p.gpkg"),
                              "OUTPUT_STATS": str(tmp_path / "s.json")}, feedback=feedback)
    assert os.listdir(tmp_path) == []
