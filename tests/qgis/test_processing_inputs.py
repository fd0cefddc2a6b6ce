"""floodkd:segment's UNITS, EXTENT, COG and THREADS parameters through QGIS Processing."""
import numpy as np
import pytest
import rasterio

pytest.importorskip("qgis.core")
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback  # noqa: E402




class Log(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.lines = []

    def pushInfo(self, info):  # noqa: N802
        self.lines.append(info)


def run(params, feedback=None):
    import processing

    return processing.run("floodkd:segment", params, feedback=feedback)


def test_new_parameters_are_declared(provider):
    from qgis.core import QgsProcessingParameterDefinition

    alg = QgsApplication.processingRegistry().algorithmById("floodkd:segment")
    params = {p.name(): p for p in alg.parameterDefinitions()}
    assert params["EXTENT"].type() == "extent" and params["EXTENT"].flags() & QgsProcessingParameterDefinition.FlagOptional
    assert params["UNITS"].options()[params["UNITS"].defaultValue()] == "auto-detect from the values"
    for name in ("COG", "THREADS"):
        assert params[name].flags() & QgsProcessingParameterDefinition.FlagAdvanced
    assert "*.onnx" in params["MODEL"].fileFilter()


def test_linear_power_declared_and_extent_in_another_crs(provider, spain_s1, tmp_path):
    with rasterio.open(spain_s1) as src:
        profile, db = src.profile, src.read()
        transform = src.transform
    power = tmp_path / "power.tif"
    with rasterio.open(power, "w", **profile) as dst:
        dst.write((10 ** (db / 10)).astype(np.float32))
    from rasterio.warp import transform_bounds

    left, top = transform * (100, 50)
    right, bottom = transform * (300, 250)
    xmin, ymin, xmax, ymax = transform_bounds("EPSG:4326", "EPSG:3857", left, bottom, right, top)
    out = str(tmp_path / "w.tif")
    log = Log()
    result = run({"INPUT": str(power), "OUTPUT": out, "METHOD": 2, "UNITS": 2, "COG": True, "THREADS": 1,
                  "EXTENT": f"{xmin},{xmax},{ymin},{ymax} [EPSG:3857]"}, feedback=log)
    assert "input units: linear (declared), converted with 10*log10" in log.lines
    with rasterio.open(out) as ds:
        assert 200 <= ds.width <= 202 and 200 <= ds.height <= 202
        col, row = ~transform * (ds.transform.c, ds.transform.f)
        assert abs(col - round(col)) < 1e-6 and abs(row - round(row)) < 1e-6 and 99 <= round(col) <= 100
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        classes = ds.read(1)
    assert 0 < (classes == 1).sum() < (classes != 255).sum()
    assert 0 < result["VALID_KM2"] < 5  # about 200 x 200 px of ~10 m


def test_extent_outside_the_scene_is_a_clear_error(provider, spain_s1, tmp_path):
    out = tmp_path / "o.tif"
    with pytest.raises(QgsProcessingException, match="does not overlap"):
        run({"INPUT": str(spain_s1), "OUTPUT": str(out), "METHOD": 2,
             "EXTENT": "10,11,10,11 [EPSG:4326]"})
    assert not out.exists()
