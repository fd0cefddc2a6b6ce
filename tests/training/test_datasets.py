"""Dataset readers on the real chips and on broken copies made in tmp_path."""
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from floodkd.core.errors import InputError
from floodkd.training.data.ombria import Ombria
from floodkd.training.data.pairs import PairFolder
from floodkd.training.data.sen1floods11 import Sen1Floods11

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
S1F11 = DATA / "sen1floods11"
OMBRIA = DATA / "ombria"
TERRAMIND = DATA / "terramind_examples"
needs = {name: pytest.mark.skipif(not path.is_dir(), reason=f"real data not found at {path}")
         for name, path in (("s1f11", S1F11), ("ombria", OMBRIA), ("terramind", TERRAMIND))}


def _read(path, band=None):
    with rasterio.open(path) as ds:
        return ds.read(band)


def _copy_chip(tmp_path, chip="Spain_7370579", split_rows=None):
    root = tmp_path / "s1f11"
    for folder, suffix in (("S1Hand", "S1Hand"), ("S2Hand", "S2Hand"), ("LabelHand", "LabelHand")):
        (root / folder).mkdir(parents=True)
        shutil.copy(S1F11 / folder / f"{chip}_{suffix}.tif", root / folder)
    (root / "splits").mkdir()
    rows = split_rows or [chip, "Ghana_1_gone"]
    (root / "splits" / "flood_test_data.csv").write_text(
        "".join(f"{c}_S1Hand.tif,{c}_LabelHand.tif\n" for c in rows))
    return root


def _rewrite(path, edit):
    with rasterio.open(path) as ds:
        data, profile = ds.read(), ds.profile
    data = edit(data)
    profile.update(width=data.shape[-1], height=data.shape[-2])
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)


@needs["s1f11"]
def test_sen1floods11_test_split_samples_follow_the_contract():
    ds = Sen1Floods11(str(S1F11), "test", with_s2=True)
    assert ds.ids == ["India_900498", "Spain_7370579"]
    assert len(ds.missing) == 88 and "Ghana_313799" in ds.missing
    assert (ds.name, ds.labelled, ds.input_transform) == ("sen1floods11", True, "clip_scale")
    assert [b.name for b in ds.s1_bands + ds.s2_bands] == ["VV", "VH", "B2", "B3", "B4", "B8"]
    s = ds[1]
    assert s["id"] == "Spain_7370579"
    assert s["s1"].shape == (2, 512, 512) and s["s1"].dtype == np.float32
    assert s["s2"].shape == (4, 512, 512) and s["s2"].dtype == np.float32
    assert s["label"].dtype == np.int64 and s["valid"].dtype == bool
    assert 0.0 <= s["s1"].min() and s["s1"].max() <= 1.0 and 0.0 <= s["s2"].min() and s["s2"].max() <= 1.0
    raw_s1 = _read(S1F11 / "S1Hand" / "Spain_7370579_S1Hand.tif")
    np.testing.assert_allclose(s["s1"][1], np.clip(raw_s1[1], -30, 0) / 30 + 1, atol=1e-6)
    raw_b8 = _read(S1F11 / "S2Hand" / "Spain_7370579_S2Hand.tif", 8).astype(np.float32)
    np.testing.assert_allclose(s["s2"][3], np.clip(raw_b8, 0, 3000) / 3000, atol=1e-6)
    label = _read(S1F11 / "LabelHand" / "Spain_7370579_LabelHand.tif", 1)
    np.testing.assert_array_equal(s["label"], label)
    assert set(np.unique(s["label"])) == {-1, 0, 1}


@needs["s1f11"]
def test_sen1floods11_all_without_labels_lists_every_s1_chip():
    ds = Sen1Floods11(str(S1F11), "all", label_source="none")
    # every S1Hand chip on disk, whatever the shared data holds now (it grows between sessions)
    on_disk = sorted(p.name[: -len("_S1Hand.tif")] for p in (S1F11 / "S1Hand").glob("*_S1Hand.tif"))
    assert ds.ids == on_disk and {"India_900498", "Spain_7370579"} <= set(on_disk)
    assert not ds.labelled and "s2" not in ds[0]
    assert (ds[0]["label"] == -1).all()


@needs["s1f11"]
def test_sen1floods11_nodata_in_s1_or_s2_becomes_ignore(tmp_path):
    root = _copy_chip(tmp_path)

    def nan_block(a):
        a[:, :10, :20] = np.nan
        return a

    def zero_block(a):
        a[:, 100:110, :] = 0
        return a

    _rewrite(root / "S1Hand" / "Spain_7370579_S1Hand.tif", nan_block)
    _rewrite(root / "S2Hand" / "Spain_7370579_S2Hand.tif", zero_block)
    ds = Sen1Floods11(str(root), "test", with_s2=True)
    assert ds.missing == ["Ghana_1_gone"]
    s = ds[0]
    for rows, cols in ((slice(0, 10), slice(0, 20)), (slice(100, 110), slice(None))):
        assert not s["valid"][rows, cols].any()
        assert (s["label"][rows, cols] == -1).all()
        assert (s["s1"][:, rows, cols] == 0).all() and (s["s2"][:, rows, cols] == 0).all()
    assert s["valid"].sum() == 512 * 512 - 200 - 10 * 512
    assert not np.isnan(s["s1"]).any()
    s1_only = Sen1Floods11(str(root), "test")[0]
    assert s1_only["valid"].sum() == 512 * 512 - 200


@needs["s1f11"]
def test_sen1floods11_bad_inputs_name_the_file(tmp_path):
    root = _copy_chip(tmp_path)
    with pytest.raises(InputError, match="S1Hand"):
        Sen1Floods11(str(_copy_chip(tmp_path / "b", split_rows=["Nowhere_1"])), "test")
    with pytest.raises(InputError, match="unknown split"):
        Sen1Floods11(str(root), "training")
    label = root / "LabelHand" / "Spain_7370579_LabelHand.tif"
    _rewrite(label, lambda a: np.where(a == 1, 2, a).astype(a.dtype))
    with pytest.raises(InputError, match=r"Spain_7370579_LabelHand\.tif holds label value\(s\) \[2\]"):
        Sen1Floods11(str(root), "test")[0]
    _rewrite(root / "S2Hand" / "Spain_7370579_S2Hand.tif", lambda a: a[:, :256, :256])
    with pytest.raises(InputError, match=r"S2Hand\.tif is 256x256 pixels but .*S1Hand\.tif is 512x512"):
        Sen1Floods11(str(root), "test", with_s2=True)[0]


@needs["ombria"]
def test_ombria_split_rule_and_samples():
    val, train, everything = (Ombria(str(OMBRIA), s) for s in ("val", "train", "all"))
    assert (len(val), len(train), len(everything)) == (123, 501, 624)
    assert set(val.ids).isdisjoint(train.ids) and sorted(val.ids + train.ids) == everything.ids
    assert all(int(i) % 5 == 0 for i in val.ids)
    ds = Ombria(str(OMBRIA), "val", with_s2=True)
    s = ds[0]
    assert s["id"] == "0005" and s["s1"].shape == (1, 256, 256) and s["s2"].shape == (3, 256, 256)
    mask = _read(OMBRIA / "OmbriaS1" / "train" / "MASK" / "S1_mask_0005.png", 1)
    np.testing.assert_array_equal(s["label"], (mask == 255).astype(np.int64))
    raw = _read(OMBRIA / "OmbriaS1" / "train" / "AFTER" / "S1_after_0005.png", 1)
    np.testing.assert_allclose(s["s1"][0], raw / 255.0, atol=1e-6)
    rgb = _read(OMBRIA / "OmbriaS2" / "train" / "AFTER" / "S2_after_0005.png")
    np.testing.assert_allclose(s["s2"], rgb / 255.0, atol=1e-6)
    before = Ombria(str(OMBRIA), "val", which="before")
    assert not before.labelled and (before[0]["label"] == -1).all()


def _write_png(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="PNG", width=data.shape[-1], height=data.shape[-2],
                       count=data.shape[0], dtype="uint8") as ds:
        ds.write(data)


def test_ombria_unpaired_and_bad_mask_values(tmp_path):
    s1 = tmp_path / "OmbriaS1" / "train"
    for n in (1, 2):
        _write_png(s1 / "AFTER" / f"S1_after_{n:04d}.png", np.full((1, 8, 8), 50, np.uint8))
    _write_png(s1 / "MASK" / "S1_mask_0001.png", np.full((1, 8, 8), 128, np.uint8))
    with pytest.raises(InputError, match=r"unpaired .* \[2\]"):
        Ombria(str(tmp_path))
    _write_png(s1 / "MASK" / "S1_mask_0002.png", np.zeros((1, 8, 8), np.uint8))
    ds = Ombria(str(tmp_path))
    with pytest.raises(InputError, match=r"S1_mask_0001\.png holds label value\(s\) \[128\]"):
        ds[0]
    assert (ds[1]["label"] == 0).all()


@needs["terramind"]
def test_pairs_on_terramind_examples_pick_b2_b3_b4_b8():
    ds = PairFolder(str(TERRAMIND))
    assert len(ds) == 5 and not ds.labelled and [b.name for b in ds.s2_bands] == ["B2", "B3", "B4", "B8"]
    s = ds[ds.index_of("282D_485L_3_3")]
    assert s["s1"].shape == (2, 224, 224) and s["s2"].shape == (4, 224, 224) and s["s1"].dtype == np.float32
    raw_s2 = _read(TERRAMIND / "S2L1C" / "282D_485L_3_3.tif").astype(np.float32)
    np.testing.assert_allclose(s["s2"][0], np.clip(raw_s2[1], 0, 3000) / 3000, atol=1e-6)
    np.testing.assert_allclose(s["s2"][3], np.clip(raw_s2[7], 0, 3000) / 3000, atol=1e-6)
    raw_s1 = _read(TERRAMIND / "S1RTC" / "282D_485L_3_3.tif")
    np.testing.assert_allclose(s["s1"][0], np.clip(raw_s1[0], -20, 0) / 20 + 1, atol=1e-6)
    chips = PairFolder(str(TERRAMIND), chip_size=100)
    assert len(chips) == 45 and chips.ids[2] == "282D_485L_3_3:0:124"
    assert all(chips[i]["s1"].shape == (2, 100, 100) for i in (0, 44))


def _geotiff(path, data, transform, crs="EPSG:32633"):
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[-1], height=data.shape[-2],
                       count=data.shape[0], dtype=data.dtype, crs=crs, transform=transform) as ds:
        ds.write(data)


def test_pairs_resample_s2_onto_the_s1_grid(tmp_path):
    s1 = np.stack([np.full((64, 64), -10.0), np.full((64, 64), -20.0)]).astype(np.float32)
    _geotiff(tmp_path / "S1" / "a.tif", s1, from_origin(500000, 4000640, 10, 10))
    # S2 at 20 m covers only the western half of the S1 chip.
    s2 = np.stack([np.full((32, 16), v, np.int16) for v in (600, 1500, 3000, 4000)])
    _geotiff(tmp_path / "S2" / "a.tif", s2, from_origin(500000, 4000640, 20, 20))
    s = PairFolder(str(tmp_path))[0]
    assert s["s2"].shape == (4, 64, 64)
    assert s["valid"][:, :31].all() and not s["valid"][:, 33:].any()
    np.testing.assert_allclose(s["s2"][:, 10, 10], [0.2, 0.5, 1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(s["s1"][:, 10, 10], [0.5, 1 / 3], atol=1e-6)
    assert (s["label"] == -1).all() and (s["s2"][:, :, 33:] == 0).all()


def test_pairs_bad_inputs(tmp_path):
    s1 = np.full((2, 16, 16), -12.0, np.float32)
    transform = from_origin(0, 160, 10, 10)
    for name in ("a", "b"):
        _geotiff(tmp_path / "S1" / f"{name}.tif", s1, transform)
    _geotiff(tmp_path / "S2" / "a.tif", np.full((4, 16, 16), 900, np.int16), transform)
    with pytest.raises(InputError, match=r"unpaired .*\['b'\]"):
        PairFolder(str(tmp_path))
    shutil.rmtree(tmp_path / "S2")
    _geotiff(tmp_path / "label" / "a.tif", np.zeros((1, 8, 8), np.int16), transform)
    _geotiff(tmp_path / "label" / "b.tif", np.full((1, 16, 16), 5, np.int16), transform)
    ds = PairFolder(str(tmp_path))
    assert ds.labelled
    with pytest.raises(InputError, match=r"label.a\.tif is 8x8 pixels .* labels must be on the Sentinel-1 grid"):
        ds[0]
    with pytest.raises(InputError, match=r"b\.tif holds label value\(s\) \[5\]"):
        ds[1]
    with pytest.raises(InputError, match="no Sentinel-1 folder"):
        PairFolder(str(tmp_path / "label"))


def test_dataset_modules_import_without_torch():
    code = ("import sys; import floodkd.training.data.sen1floods11, floodkd.training.data.ombria, "
            "floodkd.training.data.pairs, floodkd.training.evaluation.scoring, floodkd.cli.evaluate; "
            "assert 'torch' not in sys.modules, 'torch imported at module level'")
    subprocess.run([sys.executable, "-c", code], check=True)
