"""Inputs as users have them: units, VRT sources, an extent, ONNX models, threads."""
import os

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from floodkd.core.errors import CheckpointError, InputError
from floodkd.core.predict.factory import cpu_threads
from floodkd.core.progress import Progress
from floodkd.core.segment import SegmentOptions, segment_scene
from floodkd.core.units import detect_units


class Log(Progress):
    def __init__(self):
        self.lines = []

    def info(self, message):
        self.lines.append(message)


def read(path):
    with rasterio.open(path) as ds:
        return ds.read(1)


def rewrite(src, dst, convert):
    with rasterio.open(src) as ds:
        profile, data = ds.profile, ds.read()
    with rasterio.open(dst, "w", **profile) as out:
        out.write(convert(data).astype(np.float32))
    return dst


@pytest.mark.parametrize("units,convert", [
    ("linear", lambda db: 10 ** (db / 10)),
    ("amplitude", lambda db: np.sqrt(10 ** (db / 10))),
])
def test_power_and_amplitude_are_detected_and_give_the_db_map(spain_s1, tmp_path, units, convert):
    reference = segment_scene(str(spain_s1), str(tmp_path / "db.tif"), SegmentOptions(method="otsu"))
    path = rewrite(spain_s1, tmp_path / f"{units}.tif", convert)
    log = Log()
    result = segment_scene(str(path), str(tmp_path / "o.tif"), SegmentOptions(method="otsu"), progress=log)
    assert any(line.startswith(f"input units: {units} (detected") for line in log.lines)
    assert result.predictor["threshold_db"] == pytest.approx(reference.predictor["threshold_db"], abs=1e-6)
    same = read(tmp_path / "o.tif") == read(tmp_path / "db.tif")
    assert same.mean() > 0.9999  # only float rounding at the threshold may differ


def test_declared_units_override_detection_and_non_positive_is_nodata(spain_s1, tmp_path):
    def power_with_zeros(db):
        power = 10 ** (db / 10)
        power[:, :10, :] = 0.0  # no dB value: nodata
        power[1, 20:25, :] = -1.0
        return power

    path = rewrite(spain_s1, tmp_path / "p.tif", power_with_zeros)
    log = Log()
    segment_scene(str(path), str(tmp_path / "o.tif"), SegmentOptions(method="otsu", units="linear"), progress=log)
    classes = read(tmp_path / "o.tif")
    assert "input units: linear (declared), converted with 10*log10" in log.lines
    assert (classes[:10] == 255).all() and (classes[20:25] == 255).all()
    assert (classes[30:] != 255).mean() > 0.99


def test_detection_rule_on_numbers():
    vv_db = np.array([-18.0, -14.0, -9.0, -11.0, -6.0])
    vh_db = vv_db - 7.0  # cross-pol about 7 dB below co-pol
    assert detect_units(vv_db, vh_db)[0] == "db"
    assert detect_units(10 ** (vv_db / 10), 10 ** (vh_db / 10))[0] == "linear"
    assert detect_units(10 ** (vv_db / 20), 10 ** (vh_db / 20))[0] == "amplitude"
    with pytest.raises(InputError, match="uncalibrated digital numbers"):
        detect_units(np.array([120.0, 300.0, 250.0]), np.array([12.0, 30.0, 25.0]), "dn.tif")


def test_vrt_source_gives_the_same_map(spain_s1, tmp_path):
    from osgeo import gdal

    vrt = str(tmp_path / "scene.vrt")
    gdal.BuildVRT(vrt, [str(spain_s1)]).FlushCache()
    segment_scene(vrt, str(tmp_path / "v.tif"), SegmentOptions(method="otsu"))
    segment_scene(str(spain_s1), str(tmp_path / "t.tif"), SegmentOptions(method="otsu"))
    np.testing.assert_array_equal(read(tmp_path / "v.tif"), read(tmp_path / "t.tif"))


def test_extent_in_input_crs_and_in_another_crs_stays_on_the_input_grid(spain_s1, tmp_path):
    with rasterio.open(spain_s1) as src:
        window = Window(100, 200, 150, 120)
        left, bottom, right, top = rasterio.windows.bounds(window, src.transform)
        expected_transform, nodata = rasterio.windows.transform(window, src.transform), np.isnan(src.read(1))
    box = (left + 1e-6, bottom + 1e-6, right - 1e-6, top - 1e-6)  # inside the edges: pixels partly in count
    segment_scene(str(spain_s1), str(tmp_path / "a.tif"), SegmentOptions(method="otsu", bbox=box))
    with rasterio.open(tmp_path / "a.tif") as ds:
        assert (ds.width, ds.height, ds.transform) == (150, 120, expected_transform)
        np.testing.assert_array_equal(ds.read(1) == 255, nodata[200:320, 100:250])
    from rasterio.warp import transform_bounds

    mercator = transform_bounds("EPSG:4326", "EPSG:3857", *box)
    segment_scene(str(spain_s1), str(tmp_path / "b.tif"),
                  SegmentOptions(method="otsu", bbox=mercator, bbox_crs="EPSG:3857"))
    with rasterio.open(tmp_path / "b.tif") as ds:
        # Reprojected boxes may gain a pixel at an edge, never shift the grid.
        assert 150 <= ds.width <= 152 and 120 <= ds.height <= 122
        col, row = ~src.transform * (ds.transform.c, ds.transform.f)
        assert abs(col - round(col)) < 1e-6 and abs(row - round(row)) < 1e-6


def test_extent_outside_the_scene_is_refused_without_output(spain_s1, tmp_path):
    with pytest.raises(InputError, match="does not overlap .*Spain_7370579"):
        segment_scene(str(spain_s1), str(tmp_path / "o.tif"),
                      SegmentOptions(method="otsu", bbox=(10.0, 10.0, 11.0, 11.0)))
    assert os.listdir(tmp_path) == []


def test_onnx_export_matches_torch_on_a_real_chip(spain_s1, tiny_s1_checkpoint, tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from floodkd.cli.main import main

    onnx_path = tmp_path / "tiny.onnx"
    assert main(["export-onnx", str(tiny_s1_checkpoint), str(onnx_path)]) == 0
    options = dict(device="cpu", tile=256, overlap=32)
    segment_scene(str(spain_s1), str(tmp_path / "t.tif"), SegmentOptions(model=str(tiny_s1_checkpoint), **options),
                  str(tmp_path / "tp.tif"))
    result = segment_scene(str(spain_s1), str(tmp_path / "o.tif"), SegmentOptions(model=str(onnx_path), **options),
                           str(tmp_path / "op.tif"))
    assert result.predictor["runtime"] == "onnxruntime"
    torch_prob, onnx_prob = read(tmp_path / "tp.tif"), read(tmp_path / "op.tif")
    assert np.abs(torch_prob - onnx_prob).max() < 1e-4
    assert (read(tmp_path / "t.tif") == read(tmp_path / "o.tif")).mean() > 0.999


def test_onnx_metadata_is_checked_like_a_checkpoint(spain_s1, tiny_s1_checkpoint, tmp_path):
    onnx = pytest.importorskip("onnx")
    from floodkd.core.models.onnx_export import METADATA_KEY, export_onnx, sign_onnx

    path = str(tmp_path / "m.onnx")
    meta = export_onnx(str(tiny_s1_checkpoint), path)
    assert meta["bands"][0]["name"] == "VV" and meta["input_transform"] == "clip_scale"
    proto = onnx.load(path)
    entry = next(p for p in proto.metadata_props if p.key == METADATA_KEY)
    entry.value = entry.value.replace('"units": "dB"', '"units": "linear"')
    sign_onnx(proto)  # signed as if exported so: the band check itself must refuse it
    onnx.save(proto, str(tmp_path / "linear.onnx"))
    with pytest.raises(CheckpointError, match="expects band VV in linear"):
        segment_scene(str(spain_s1), str(tmp_path / "o.tif"), SegmentOptions(model=str(tmp_path / "linear.onnx")))
    del proto.metadata_props[:]
    sign_onnx(proto)
    onnx.save(proto, str(tmp_path / "bare.onnx"))
    with pytest.raises(CheckpointError, match="carries no floodkd metadata"):
        segment_scene(str(spain_s1), str(tmp_path / "o.tif"), SegmentOptions(model=str(tmp_path / "bare.onnx")))
    assert not (tmp_path / "o.tif").exists()


def test_cpu_threads_option():
    assert cpu_threads(3) == 3
    assert 1 <= cpu_threads(0) <= (os.cpu_count() or 1)
