"""floodkd:segmentbatch through the real qgis_process (a local Dask cluster in a child process), and
QGIS's GeoPackage layer syntax for OUTPUT_POLYGONS of floodkd:segment."""
import csv
import json

import pytest
from osgeo import ogr

from ..conftest import shared_file


def test_segmentbatch_maps_layers_into_a_folder(qgis_process, tmp_path):
    chips = [shared_file("sen1floods11", "S1Hand", f"{c}_S1Hand.tif") for c in ("Spain_7370579", "Ghana_7496")]
    broken = tmp_path / "Broken_S1Hand.tif"
    broken.write_bytes(chips[0].read_bytes()[:5000])
    out = tmp_path / "batch"
    proc = qgis_process("run", "floodkd:segmentbatch", "--json", "--", *[f"INPUTS={c}" for c in chips],
                        "METHOD=2", "WORKERS=2", "STATS=true", f"OUTPUT_FOLDER={out}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(proc.stdout)["results"]
    assert (results["MAPPED"], results["SKIPPED"], results["FAILED"]) == (2, 0, 0)
    assert results["SUMMARY"] == str(out / "summary.csv")
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["ok", "ok"] and all(r["worker"].startswith("tcp://") for r in rows)
    assert sorted(p.name for p in out.iterdir()) == ["Ghana_7496_S1Hand_stats.csv", "Ghana_7496_S1Hand_water.tif",
                                                     "Spain_7370579_S1Hand_stats.csv",
                                                     "Spain_7370579_S1Hand_water.tif", "summary.csv"]
    again = qgis_process("run", "floodkd:segmentbatch", "--json", "--", *[f"INPUTS={c}" for c in chips],
                         "METHOD=2", "STATS=true", f"OUTPUT_FOLDER={out}")
    assert json.loads(again.stdout)["results"]["SKIPPED"] == 2


@pytest.mark.parametrize("layer", ["flood", None])
def test_output_polygons_in_qgis_layer_syntax_keep_the_other_layers(qgis_process, spain_s1, tmp_path, layer):
    gpkg = tmp_path / "project.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(gpkg))
    roads = ds.CreateLayer("roads", geom_type=ogr.wkbLineString)
    feature = ogr.Feature(roads.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt("LINESTRING (0 0, 1 1)"))
    roads.CreateFeature(feature)
    ds = roads = feature = None
    target = f"{gpkg}|layername={layer}" if layer else str(gpkg)
    proc = qgis_process("run", "floodkd:segment", "--json", "--", f"INPUT={spain_s1}", "METHOD=2",
                        f"OUTPUT={tmp_path / 'w.tif'}", f"OUTPUT_POLYGONS={target}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    count = json.loads(proc.stdout)["results"]["POLYGON_COUNT"]
    ds = ogr.Open(str(gpkg))
    names = sorted(ds.GetLayerByIndex(i).GetName() for i in range(ds.GetLayerCount()))
    styled = [f.GetField("f_table_name") for f in ds.GetLayerByName("layer_styles")]
    roads, water = (ds.GetLayerByName(n).GetFeatureCount() for n in ("roads", layer or "flood_water"))
    ds = None
    assert names == sorted(["roads", layer or "flood_water", "layer_styles"])  # QGIS's style of the new layer
    assert styled == [layer or "flood_water"] and roads == 1 and water == count > 0
