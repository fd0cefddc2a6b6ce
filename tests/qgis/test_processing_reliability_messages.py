"""Issue 9 through QGIS Processing: implausible units, corrupted models, bad extents and labels refused clearly."""
import os
import shutil

import numpy as np
import pytest
import rasterio

pytest.importorskip("qgis.core")
from qgis.core import QgsApplication, QgsProcessingException  # noqa: E402


def run(alg, params):
    import processing

    return processing.run(f"floodkd:{alg}", params)


def rewrite(src, dst, convert, dtype="float32", **profile):
    with rasterio.open(src) as ds:
        kept, data = ds.profile, ds.read()
    kept.update(dtype=dtype, nodata=None, **profile)
    with rasterio.open(dst, "w", **kept) as out:
        out.write(convert(data).astype(dtype))
    return str(dst)


def option_index(alg, name, value):
    params = {p.name(): p for p in QgsApplication.processingRegistry().algorithmById(f"floodkd:{alg}").parameterDefinitions()}
    return params[name].options().index(value)


def test_int16_db_times_100_is_refused(provider, spain_s1, tmp_path):
    path = rewrite(spain_s1, tmp_path / "db100.tif", lambda db: np.nan_to_num(db * 100), "int16")
    with pytest.raises(QgsProcessingException, match=r"median VV -1048.*dB x 100"):
        run("segment", {"INPUT": path, "OUTPUT": str(tmp_path / "o.tif"), "METHOD": option_index("segment", "METHOD", "otsu")})
    assert not (tmp_path / "o.tif").exists()


def test_db_declared_on_power_is_refused(provider, spain_s1, tmp_path):
    path = rewrite(spain_s1, tmp_path / "p.tif", lambda db: 10 ** (db / 10))
    with pytest.raises(QgsProcessingException, match="use UNITS linear"):
        run("segment", {"INPUT": path, "OUTPUT": str(tmp_path / "o.tif"), "UNITS": 1,
                        "METHOD": option_index("segment", "METHOD", "otsu")})


@pytest.mark.parametrize("extent,message", [
    ("-0.77,-0.75,38.09,38.11 [EPSG:999999]", "not a valid CRS"),
    ("nan,-0.75,38.09,38.11 [EPSG:4326]", "finite"),
    ("-0.77,inf,38.09,38.11 [EPSG:4326]", "finite"),
])
def test_bad_extent_is_refused_not_ignored(provider, spain_s1, tmp_path, extent, message):
    with pytest.raises(QgsProcessingException, match=message):
        run("segment", {"INPUT": str(spain_s1), "OUTPUT": str(tmp_path / "o.tif"), "EXTENT": extent,
                        "METHOD": option_index("segment", "METHOD", "otsu")})
    assert not (tmp_path / "o.tif").exists()


def test_extent_crs_on_an_input_without_crs_is_refused(provider, spain_s1, tmp_path):
    path = rewrite(spain_s1, tmp_path / "nocrs.tif", lambda db: db, crs=None)
    with pytest.raises(QgsProcessingException, match="has no CRS"):
        run("segment", {"INPUT": path, "OUTPUT": str(tmp_path / "o.tif"), "EXTENT": "-0.77,-0.75,38.09,38.11 [EPSG:4326]",
                        "METHOD": option_index("segment", "METHOD", "otsu")})


def test_corrupted_checkpoint_is_refused(provider, spain_s1, tiny_s1_checkpoint, tmp_path):
    import torch

    ckpt = torch.load(tiny_s1_checkpoint, weights_only=True)
    name = next(iter(ckpt["state_dict"]))
    ckpt["state_dict"][name].view(-1)[0] = float("inf")
    torch.save(ckpt, tmp_path / "bad.pt")
    with pytest.raises(QgsProcessingException, match="NaN or infinite"):
        run("segment", {"INPUT": str(spain_s1), "OUTPUT": str(tmp_path / "o.tif"), "MODEL": str(tmp_path / "bad.pt")})
    assert not (tmp_path / "o.tif").exists()


def test_evaluate_refuses_unknown_architecture_and_a_label_from_elsewhere(provider, tiny_s1_checkpoint, tmp_path):
    import torch

    from floodkd.core.models.checkpoint import save_checkpoint

    s1, labels = tmp_path / "pairs" / "S1", tmp_path / "pairs" / "label"
    s1.mkdir(parents=True)
    labels.mkdir()
    data = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "sen1floods11")
    spain, india = (os.path.join(data, "S1Hand", "Spain_7370579_S1Hand.tif"),
                    os.path.join(data, "LabelHand", "India_900498_LabelHand.tif"))
    if not (os.path.exists(spain) and os.path.exists(india)):
        pytest.skip("real data not available: ../shared/data/sen1floods11")
    shutil.copy(spain, s1 / "chip.tif")
    shutil.copy(india, labels / "chip.tif")  # same size, another place
    dataset = option_index("evaluate", "DATASET", "pairs")
    params = {"DATASET": dataset, "ROOT": str(tmp_path / "pairs"), "SPLIT": "all"}
    with pytest.raises(QgsProcessingException, match="not the same place"):
        run("evaluate", params)
    ckpt = torch.load(tiny_s1_checkpoint, weights_only=True)
    ckpt["encoder"] = "resnet999"
    save_checkpoint(ckpt, str(tmp_path / "odd.pt"))
    with pytest.raises(QgsProcessingException, match="cannot be built"):
        run("evaluate", dict(params, MODEL=str(tmp_path / "odd.pt")))


def test_segmentchange_names_the_pre_flood_scene_not_a_temp_file(provider, spain_s1, india_s1, tmp_path):
    with pytest.raises(QgsProcessingException, match=r"PRE_FLOOD layer \S*India_900498\S* does not overlap") as err:
        run("segmentchange", {"INPUT": str(spain_s1), "PRE_FLOOD": str(india_s1), "OUTPUT": str(tmp_path / "o.tif"),
                              "METHOD": option_index("segmentchange", "METHOD", "otsu")})
    assert ".floodkd-" not in str(err.value)
