"""The streaming engine on real Sen1Floods11 chips: grid, nodata, tiling, errors."""
import os

import numpy as np
import pytest
import rasterio

from floodkd.core.errors import Cancelled, CheckpointError, InputError
from floodkd.core.progress import Progress
from floodkd.core.segment import SegmentOptions, segment_scene


def read(path):
    with rasterio.open(path) as ds:
        return ds.read(1), ds.profile


def test_otsu_output_keeps_grid_and_nodata(spain_s1, tmp_path):
    out, prob = tmp_path / "water.tif", tmp_path / "prob.tif"
    result = segment_scene(str(spain_s1), str(out), SegmentOptions(method="otsu"), str(prob))
    classes, profile = read(out)
    with rasterio.open(spain_s1) as src:
        vv = src.read(1)
        assert (profile["crs"], profile["transform"], profile["width"], profile["height"]) == (
            src.crs, src.transform, src.width, src.height)
    assert profile["dtype"] == "uint8" and profile["nodata"] == 255
    assert set(np.unique(classes)) <= {0, 1, 255}
    np.testing.assert_array_equal(classes == 255, np.isnan(vv))  # nodata in = nodata out
    assert result.valid_pixels == int((classes != 255).sum())
    assert result.water_pixels == int((classes == 1).sum())
    p, pprof = read(prob)
    assert pprof["nodata"] == -1
    np.testing.assert_array_equal(classes == 1, (p >= 0.5) & (classes != 255))
    # 512 x 512 px of ~10 m near 38 N: about 20 km2, water a fraction of it.
    assert 19 < result.valid_km2 < 23 and 0 < result.water_km2 < result.valid_km2


@pytest.mark.parametrize("chip,low,high", [("Spain_7370579", 0.50, 0.62), ("India_900498", 0.70, 0.78)])
def test_otsu_against_the_hand_label(spain_s1, tmp_path, chip, low, high):
    """Water IoU of Otsu on VH against LabelHand (measured: Spain 0.564, India 0.741)."""
    s1 = spain_s1.parent / f"{chip}_S1Hand.tif"
    label_path = spain_s1.parent.parent / "LabelHand" / f"{chip}_LabelHand.tif"
    segment_scene(str(s1), str(tmp_path / "o.tif"), SegmentOptions(method="otsu"))
    pred = read(tmp_path / "o.tif")[0]
    label = read(label_path)[0]
    ok = label >= 0
    iou = ((pred == 1) & (label == 1) & ok).sum() / (((pred == 1) | (label == 1)) & ok).sum()
    assert low < iou < high


def test_one_window_or_many_gives_identical_classes(india_s1, tmp_path):
    one, many = tmp_path / "one.tif", tmp_path / "many.tif"
    segment_scene(str(india_s1), str(one), SegmentOptions(method="otsu", tile=512, overlap=0))
    segment_scene(str(india_s1), str(many), SegmentOptions(method="otsu", tile=96, overlap=24, batch_size=3))
    np.testing.assert_array_equal(read(one)[0], read(many)[0])


def test_tiny_model_runs_tiled_on_a_real_chip(spain_s1, tiny_s1_checkpoint, tmp_path):
    out = tmp_path / "m.tif"
    result = segment_scene(str(spain_s1), str(out),
                           SegmentOptions(model=str(tiny_s1_checkpoint), device="cpu", tile=256, overlap=32))
    classes, profile = read(out)
    assert result.method == "model" and profile["width"] == 512
    with rasterio.open(spain_s1) as src:
        np.testing.assert_array_equal(classes == 255, np.isnan(src.read(1)))


def test_wrong_band_count_is_refused_without_output(make_raster, tmp_path):
    bad = make_raster(tmp_path / "one_band.tif", np.full((1, 64, 64), -15, np.float32))
    out = tmp_path / "out.tif"
    with pytest.raises(InputError, match="has 1 band.*needs 2 .VV, VH."):
        segment_scene(str(bad), str(out), SegmentOptions(method="otsu"))
    assert os.listdir(tmp_path) == ["one_band.tif"]


def test_band_order_comes_from_descriptions(make_raster, tmp_path):
    rng = np.random.default_rng(0)
    vv = rng.normal(-10, 2, (64, 64)).astype(np.float32)
    vh = rng.normal(-18, 2, (64, 64)).astype(np.float32)
    vh[:, :20] = -26  # water on the left, in VH only
    path = make_raster(tmp_path / "vh_vv.tif", np.stack([vh, vv]), descriptions=["VH", "VV"])
    segment_scene(str(path), str(tmp_path / "o.tif"), SegmentOptions(method="otsu"))
    classes = read(tmp_path / "o.tif")[0]
    assert classes[:, :20].mean() > 0.95 and classes[:, 30:].mean() < 0.2


def test_not_a_raster(tmp_path):
    bad = tmp_path / "notes.tif"
    bad.write_text("not a raster")
    with pytest.raises(InputError, match="not a readable raster"):
        segment_scene(str(bad), str(tmp_path / "o.tif"), SegmentOptions(method="otsu"))
    assert not (tmp_path / "o.tif").exists()


@pytest.mark.parametrize("fill,nodata", [(np.nan, None), (-9999.0, -9999.0)])
def test_all_nodata_scene(make_raster, tmp_path, fill, nodata):
    path = make_raster(tmp_path / "empty.tif", np.full((2, 80, 80), fill, np.float32), nodata=nodata)
    with pytest.raises(InputError, match="no valid pixel"):
        segment_scene(str(path), str(tmp_path / "o.tif"), SegmentOptions(method="otsu"))
    assert sorted(os.listdir(tmp_path)) == ["empty.tif"]


def test_checkpoint_for_other_bands_is_refused(spain_s1, tmp_path):
    import torch

    from floodkd.core.bands import S1S2_BANDS
    from floodkd.core.models.checkpoint import make_checkpoint, save_checkpoint
    from floodkd.core.models.architectures import build_model

    model = build_model("unet", "resnet18", 6, 2, encoder_depth=3, decoder_channels=(16, 8, 8))
    path = tmp_path / "teacher.pt"
    save_checkpoint(make_checkpoint(model, "unet", "resnet18", S1S2_BANDS,
                                    {"encoder_depth": 3, "decoder_channels": (16, 8, 8)}, role="teacher"), str(path))
    with pytest.raises(CheckpointError, match="teacher for 6 band.*provides 2 .VV, VH."):
        segment_scene(str(spain_s1), str(tmp_path / "o.tif"), SegmentOptions(model=str(path)))
    assert not (tmp_path / "o.tif").exists()
    del torch


def test_corrupt_checkpoint(spain_s1, tmp_path):
    path = tmp_path / "broken.pt"
    path.write_bytes(b"\x80\x02 definitely not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable floodkd checkpoint"):
        segment_scene(str(spain_s1), str(tmp_path / "o.tif"), SegmentOptions(model=str(path)))


class CancelAfter(Progress):
    def __init__(self, polls):
        self.polls = polls

    def is_cancelled(self):
        self.polls -= 1
        return self.polls < 0


@pytest.mark.parametrize("polls", [0, 3, 12])
def test_cancel_leaves_no_output(spain_s1, tmp_path, polls):
    out, prob = tmp_path / "o.tif", tmp_path / "p.tif"
    with pytest.raises(Cancelled):
        segment_scene(str(spain_s1), str(out), SegmentOptions(method="otsu", tile=128, overlap=16),
                      str(prob), CancelAfter(polls))
    assert os.listdir(tmp_path) == []


def test_existing_output_survives_a_failed_run(spain_s1, tmp_path):
    out = tmp_path / "o.tif"
    segment_scene(str(spain_s1), str(out), SegmentOptions(method="otsu"))
    before = out.read_bytes()
    with pytest.raises(Cancelled):
        segment_scene(str(spain_s1), str(out), SegmentOptions(method="otsu"), progress=CancelAfter(2))
    assert out.read_bytes() == before


def test_overlap_must_be_smaller_than_the_tile(spain_s1, tmp_path):
    with pytest.raises(InputError, match=r"OVERLAP \(64 px\) must be .* smaller than TILE \(64 px\)"):
        segment_scene(str(spain_s1), str(tmp_path / "o.tif"), SegmentOptions(method="otsu", tile=64, overlap=64))
    assert not (tmp_path / "o.tif").exists()


def test_threshold_must_be_a_probability(spain_s1, tmp_path):
    with pytest.raises(InputError, match=r"THRESHOLD must be a probability in \[0, 1\]"):
        segment_scene(str(spain_s1), str(tmp_path / "o.tif"), SegmentOptions(method="otsu", threshold=3))


def test_auto_batch_size_is_small_on_cpu_larger_on_gpu():
    from types import SimpleNamespace

    from floodkd.core.segment import auto_batch_size

    assert auto_batch_size(SimpleNamespace(device="cpu")) == 2
    assert auto_batch_size(SimpleNamespace(device="cuda:0")) == 8
    assert auto_batch_size(SimpleNamespace()) == 2  # Otsu / ONNX on CPU


def test_truncated_file_fails_clearly_without_output(spain_s1, tmp_path):
    """The header reads, the pixels do not: a clear error naming the rows, no output."""
    broken = tmp_path / "truncated.tif"
    data = spain_s1.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    out = tmp_path / "o.tif"
    with pytest.raises(InputError, match="truncated.tif: reading .* failed .*truncated or corrupt"):
        segment_scene(str(broken), str(out), SegmentOptions(method="otsu", tile=128, overlap=16))
    assert sorted(os.listdir(tmp_path)) == ["truncated.tif"]


def test_unwritable_destination_is_reported_by_the_cli(spain_s1, tmp_path, capsys):
    from floodkd.cli.main import main

    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("a file where a folder should be")  # fails even for root
    assert main(["segment", str(spain_s1), str(not_a_folder / "o.tif"), "--method", "otsu"]) == 2
    assert "a file has that name); choose a destination in a folder you can write to" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["file.txt"]


@pytest.mark.parametrize("batch_size,expected", [(0, 2), (3, 3)])
def test_every_strip_keeps_the_batch_size(spain_s1, tmp_path, monkeypatch, batch_size, expected):
    """Regression: a loop variable once replaced the batch size after the first strip,
    so later strips went through the network whole and memory grew with scene width."""
    import floodkd.core.segment as segment_module
    from floodkd.core.predict.factory import OtsuPredictor

    seen = []

    class Recording(OtsuPredictor):
        def predict(self, raw, valid):
            seen.append(raw.shape[0])
            return super().predict(raw, valid)

    monkeypatch.setattr(segment_module, "make_predictor", lambda *a, **k: Recording())
    segment_scene(str(spain_s1), str(tmp_path / "o.tif"),
                  SegmentOptions(tile=128, overlap=16, batch_size=batch_size))
    assert len(seen) > 8 and max(seen) == expected  # 5 strips of 5 tiles
