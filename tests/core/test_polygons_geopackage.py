"""Flood polygons into a user's GeoPackage: only floodkd's layer is written or replaced, through
GDAL's bindings and through pyogrio alike, and QGIS's ``x.gpkg|layername=NAME`` names the layer."""
import sqlite3
import sys

import pytest
from osgeo import ogr, osr

from floodkd.core.errors import InputError
from floodkd.core.segment import SegmentOptions, segment_scene


def project_geopackage(path):
    """A GIS user's project file: a 'roads' line layer with two named features."""
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    layer = ds.CreateLayer("roads", srs=srs, geom_type=ogr.wkbLineString)
    layer.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    for name, wkt in (("N-332", "LINESTRING (-0.78 38.12, -0.75 38.14)"), ("CV-91", "LINESTRING (-0.77 38.1, -0.7 38.1)")):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("name", name)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    ds = None


def layers(path):
    """{layer: [(fields..., geometry WKT)]} of every layer of the GeoPackage."""
    ds = ogr.Open(str(path))
    out = {}
    for i in range(ds.GetLayerCount()):
        layer = ds.GetLayerByIndex(i)
        out[layer.GetName()] = [(*f.items().values(), f.GetGeometryRef() and f.GetGeometryRef().ExportToWkt())
                                for f in layer]
    return out


@pytest.fixture(params=["osgeo", "pyogrio"])
def writer(request, monkeypatch):
    """Which library writes the layer: GDAL's bindings (QGIS) or pyogrio (a pip install without them)."""
    if request.param == "pyogrio":
        pytest.importorskip("pyogrio")
        monkeypatch.setitem(sys.modules, "osgeo", None)  # `from osgeo import ogr` raises ImportError
    return request.param


def test_polygons_into_a_project_geopackage_keep_its_other_layers(writer, spain_s1, tmp_path):
    gpkg = tmp_path / "project.gpkg"
    project_geopackage(gpkg)
    roads = layers(gpkg)["roads"]
    otsu = SegmentOptions(method="otsu")
    first = segment_scene(str(spain_s1), str(tmp_path / "w.tif"), otsu, polygons_path=str(gpkg))
    second = segment_scene(str(spain_s1), str(tmp_path / "w.tif"), SegmentOptions(method="otsu", min_area=5000),
                           polygons_path=str(gpkg))
    found = layers(gpkg)
    assert sorted(found) == ["flood_water", "roads"] and found["roads"] == roads
    assert len(found["flood_water"]) == second.polygons["polygons"]  # replaced, not appended
    assert 0 < second.polygons["polygons"] < first.polygons["polygons"]
    assert second.polygons["dropped_polygons"] > 0 and min(r[1] for r in found["flood_water"]) >= 5000


def test_qgis_layer_syntax_names_the_layer(writer, spain_s1, tmp_path):
    gpkg = tmp_path / "project.gpkg"
    project_geopackage(gpkg)
    result = segment_scene(str(spain_s1), str(tmp_path / "w.tif"), SegmentOptions(method="otsu"),
                           polygons_path=f"{gpkg}|layername=flood 2019")
    found = layers(gpkg)
    assert sorted(found) == ["flood 2019", "roads"] and result.polygons["layer"] == "flood 2019"
    assert len(found["flood 2019"]) == result.polygons["polygons"] > 0
    assert {r[0] for r in found["flood 2019"]} == {1}


def test_processing_geopackage_syntax_names_the_layer(spain_s1, tmp_path):
    gpkg = tmp_path / "new.gpkg"
    segment_scene(str(spain_s1), str(tmp_path / "w.tif"), SegmentOptions(method="otsu"),
                  polygons_path=f"ogr:dbname='{gpkg}' table=\"flood\" (geom)")
    assert list(layers(gpkg)) == ["flood"]


def test_a_file_that_is_not_a_geopackage_is_refused_before_any_work(spain_s1, tmp_path, file_contents):
    (tmp_path / "notes.gpkg").write_text("my notes, not a GeoPackage")
    before = file_contents(tmp_path)
    with pytest.raises(InputError, match="exists and is not a GeoPackage"):
        segment_scene(str(spain_s1), str(tmp_path / "w.tif"), SegmentOptions(method="otsu"),
                      polygons_path=str(tmp_path / "notes.gpkg"))
    assert file_contents(tmp_path) == before


def test_a_geopackage_open_in_wal_mode_keeps_its_uncheckpointed_data(spain_s1, tmp_path):
    """QGIS keeps GeoPackages in WAL mode: recent changes live in the -wal until a checkpoint."""
    gpkg = tmp_path / "project.gpkg"
    project_geopackage(gpkg)
    live = sqlite3.connect(gpkg)
    live.execute("PRAGMA journal_mode=WAL")
    live.execute("PRAGMA wal_autocheckpoint=0")
    live.execute("CREATE TABLE notes (text TEXT)")
    live.execute("INSERT INTO notes VALUES ('surveyed 2019-09-14')")
    live.commit()
    assert (tmp_path / "project.gpkg-wal").stat().st_size > 0
    segment_scene(str(spain_s1), str(tmp_path / "w.tif"), SegmentOptions(method="otsu"), polygons_path=str(gpkg))
    assert not (tmp_path / "project.gpkg-wal").exists()  # the old file's log is never replayed onto the new one
    fresh = sqlite3.connect(gpkg)
    assert fresh.execute("SELECT text FROM notes").fetchall() == [("surveyed 2019-09-14",)]
    assert fresh.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    fresh.close()
    live.close()
    assert sorted(layers(gpkg)) == ["flood_water", "notes", "roads"]


def test_without_any_geopackage_writer_polygons_are_refused_before_any_work(spain_s1, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "osgeo", None)
    monkeypatch.setitem(sys.modules, "pyogrio", None)
    with pytest.raises(InputError, match=r'pip install "floodkd\[polygons\]"'):
        segment_scene(str(spain_s1), str(tmp_path / "w.tif"), SegmentOptions(method="otsu"),
                      polygons_path=str(tmp_path / "p.gpkg"))
    assert list(tmp_path.iterdir()) == []
