"""floodkd:segment through QGIS Processing (real QGIS 3.22, real chips)."""
import os

import numpy as np
import pytest
import rasterio

pytest.importorskip("qgis.core")
from qgis.core import (QgsApplication, QgsProcessingException, QgsProcessingFeedback,  # noqa: E402
                       QgsRasterLayer)




def run(params, feedback=None, context=None):
    import processing

    return processing.run("floodkd:segment", params, feedback=feedback, context=context)


def test_provider_lists_segment(provider):
    assert provider.id() == "floodkd"
    alg = QgsApplication.processingRegistry().algorithmById("floodkd:segment")
    names = [p.name() for p in alg.parameterDefinitions()]
    for name in ("INPUT", "MODEL", "METHOD", "DEVICE", "THRESHOLD", "OUTPUT", "OUTPUT_PROBABILITY"):
        assert name in names


def test_segment_real_chip_writes_styled_classes(provider, spain_s1, tmp_path):
    out, prob = str(tmp_path / "water.tif"), str(tmp_path / "prob.tif")
    result = run({"INPUT": str(spain_s1), "OUTPUT": out, "OUTPUT_PROBABILITY": prob})
    assert result["OUTPUT"] == out and result["USED_METHOD"] == "model"  # the bundled student is the default
    assert 19 < result["VALID_KM2"] < 23 and 0 < result["WATER_KM2"] < result["VALID_KM2"]
    with rasterio.open(out) as ds, rasterio.open(spain_s1) as src:
        classes = ds.read(1)
        assert (ds.crs, ds.transform, ds.shape, ds.nodata) == (src.crs, src.transform, src.shape, 255)
        np.testing.assert_array_equal(classes == 255, np.isnan(src.read(1)))
    layer = QgsRasterLayer(out, "water", "gdal")  # picks up the .qml sidecar
    renderer = layer.renderer()
    assert renderer.type() == "paletted"
    labels = {c.value: (c.label, c.color.alpha()) for c in renderer.classes()}
    assert labels[1] == ("flood water", 255) and labels[0] == ("dry", 0)
    prob_layer = QgsRasterLayer(prob, "p", "gdal")
    assert prob_layer.renderer().type() == "singlebandpseudocolor"
    del layer, prob_layer


def test_method_otsu_needs_no_model(provider, spain_s1, tmp_path):
    result = run({"INPUT": str(spain_s1), "METHOD": 2, "OUTPUT": str(tmp_path / "o.tif")})
    assert result["USED_METHOD"] == "otsu"
    assert 5.5 < result["WATER_KM2"] < 6.5  # Otsu on VH: 5.98 km2 of this chip


def test_method_threshold_is_vh_below_the_default_db(provider, spain_s1, tmp_path):
    from floodkd.core.predict.threshold_predictor import VH_THRESHOLD_DB

    alg = QgsApplication.processingRegistry().algorithmById("floodkd:segment")
    options = alg.parameterDefinition("METHOD").options()
    out = str(tmp_path / "t.tif")
    result = run({"INPUT": str(spain_s1), "METHOD": options.index("threshold"), "OUTPUT": out})
    assert result["USED_METHOD"] == "threshold"
    with rasterio.open(out) as ds, rasterio.open(spain_s1) as src:
        vh, classes = src.read(2), ds.read(1)
    valid = np.isfinite(vh)
    np.testing.assert_array_equal(classes[valid] == 1, vh[valid] < VH_THRESHOLD_DB)


def test_style_applies_when_loaded_on_completion(provider, india_s1, tmp_path, loading_context):
    out = str(tmp_path / "w.tif")
    context = loading_context(out, "Flood water", "OUTPUT")
    run({"INPUT": str(india_s1), "OUTPUT": out}, context=context)
    assert context.layerToLoadOnCompletionDetails(out).postProcessor() is not None


@pytest.mark.parametrize("bands", [1, 3])
def test_wrong_band_count(provider, make_raster, tmp_path, bands):
    path = make_raster(tmp_path / "bad.tif", np.full((bands, 32, 32), -12, np.float32))
    out = tmp_path / "o.tif"
    with pytest.raises(QgsProcessingException, match=f"has {bands} band"):
        run({"INPUT": str(path), "OUTPUT": str(out)})
    assert not out.exists()


def test_all_nan_scene(provider, make_raster, tmp_path):
    path = make_raster(tmp_path / "nan.tif", np.full((2, 32, 32), np.nan, np.float32))
    with pytest.raises(QgsProcessingException, match="no valid pixel"):
        run({"INPUT": str(path), "OUTPUT": str(tmp_path / "o.tif")})
    assert sorted(os.listdir(tmp_path)) == ["nan.tif"]


def test_cuda_without_gpu_is_a_clear_error(provider, spain_s1, tiny_s1_checkpoint, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present here")
    with pytest.raises(QgsProcessingException, match="sees no CUDA GPU"):
        run({"INPUT": str(spain_s1), "MODEL": str(tiny_s1_checkpoint), "DEVICE": 2,
             "OUTPUT": str(tmp_path / "o.tif")})


def test_model_checkpoint_runs(provider, spain_s1, tiny_s1_checkpoint, tmp_path):
    out = str(tmp_path / "m.tif")
    result = run({"INPUT": str(spain_s1), "MODEL": str(tiny_s1_checkpoint), "DEVICE": 1, "OUTPUT": out})
    assert result["USED_METHOD"] == "model"
    with rasterio.open(out) as ds:
        assert ds.read(1).shape == (512, 512)


def test_cancel_leaves_no_output(provider, spain_s1, tmp_path):
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    with pytest.raises(QgsProcessingException, match="cancelled"):
        run({"INPUT": str(spain_s1), "OUTPUT": str(tmp_path / "o.tif")}, feedback=feedback)
    assert os.listdir(tmp_path) == []
