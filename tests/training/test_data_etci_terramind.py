"""The ETCI 2021 and TerraMind readers on the real files in ../shared/data."""
import numpy as np
import pytest

from floodkd.core.errors import InputError
from floodkd.training.data.etci import (
    ANCHORS,
    REFERENCE_DB,
    SCENE_CALIBRATION,
    Etci2021,
    bytes_to_db,
    fit_calibration,
    scene_policy_label,
)
from floodkd.training.data.terramind import TerraMindTiles
from floodkd.training.data.datasets import read_raster



@pytest.fixture(scope="module")
def etci_root(shared):
    return str(shared("etci2021"))


def test_bytes_to_db_hits_the_knots_and_extrapolates_linearly():
    knots, ref = (18.0, 131.0, 147.0, 159.0), (-18.0, -10.5, -8.9, -7.45)
    out = bytes_to_db(np.array(knots + (0.0, 255.0)), knots, ref)
    assert np.allclose(out[:4], ref)
    assert out[4] == pytest.approx(-18.0 - 18 * (7.5 / 113), abs=1e-4)  # below: slope of the first segment
    assert out[5] == pytest.approx(-7.45 + 96 * (1.45 / 12), abs=1e-4)  # above: slope of the last segment
    with pytest.raises(InputError, match="not increasing"):
        bytes_to_db(np.zeros(3), (10, 5, 20, 30), ref)


def test_water_policy_ignores_flood_only_pixels_in_noisy_scenes():
    flood = np.array([[255, 255, 0, 0]], np.uint8)
    body = np.array([[255, 0, 255, 0]], np.uint8)
    assert scene_policy_label(flood, body, "northal_x").tolist() == [[1, 1, 1, 0]]
    assert scene_policy_label(flood, body, "nebraska_x").tolist() == [[1, -1, 1, 0]]


def test_etci_tiles_become_plausible_db_with_policy_labels(etci_root):
    data = Etci2021(etci_root)
    assert len(data) > 100 and set(data.scenes) <= set(SCENE_CALIBRATION)
    seen = {}
    for i in range(0, len(data), max(1, len(data) // 40)):
        raw = data.load_raw(i)
        scene = data.tiles[i][0]
        assert raw.s1.shape == (2, 256, 256) and raw.s1.dtype == np.float32
        v = raw.s1[:, raw.valid]
        assert np.isfinite(v).all() and -60 < v.min() and v.max() < 30
        assert np.median(v[0]) > np.median(v[1])  # VV above VH, as in every calibrated scene
        paths = data.paths(i)
        vv, vh = read_raster(paths["vv"], 1), read_raster(paths["vh"], 1)
        assert (raw.valid == ~((vv == 0) & (vh == 0))).all()
        flood = read_raster(paths["flood"], 1) > 0
        body = read_raster(paths["water_body"], 1) > 0
        if scene.startswith("nebraska"):
            assert (raw.label[flood & ~body & raw.valid] == -1).all()
        else:
            assert (raw.label[(flood | body) & raw.valid] == 1).all()
        assert (raw.label[~raw.valid] == -1).all()
        seen[scene] = True
    assert len(seen) == len(data.scenes)


def test_stored_calibration_is_what_the_fit_gives(etci_root):
    scene = "northal_20190302t234651"
    if scene not in Etci2021(etci_root).scenes:
        pytest.skip(f"{scene} not in {etci_root}")
    fitted = fit_calibration(etci_root, scene)
    for band in ("VV", "VH"):
        assert np.allclose(fitted[band], SCENE_CALIBRATION[scene][band], atol=1.0), (band, fitted[band])
        assert len(fitted[band]) == len(ANCHORS)
    # by construction the calibrated water-body median sits at the reference anchor
    assert bytes_to_db(np.array([fitted["VH"][0]]), fitted["VH"],
                       [REFERENCE_DB["VH"][a] for a in ANCHORS])[0] == pytest.approx(REFERENCE_DB["VH"]["water_p50"])


def test_etci_unknown_scene_and_empty_root_are_clear_errors(etci_root, tmp_path):
    with pytest.raises(InputError, match="no byte-to-dB calibration"):
        Etci2021(etci_root, ["somewhere_else"])
    with pytest.raises(InputError, match="no ETCI tiles"):
        Etci2021(str(tmp_path))


def test_terramind_tiles_read_as_db_with_lulc_water(shared):
    root = str(shared("terramind_examples"))
    unl = TerraMindTiles(root)
    lab = TerraMindTiles(root, label_source="lulc")
    assert not unl.labelled and lab.labelled and len(lab) >= 1
    waters = []
    for i in range(len(lab)):
        raw = lab.load_raw(i)
        assert raw.s1.shape[0] == 2 and np.isfinite(raw.s1[:, raw.valid]).all()
        assert -45 < np.median(raw.s1[1][raw.valid]) < -5  # VH in dB, not linear
        assert set(np.unique(raw.label)) <= {-1, 0, 1}
        assert (unl.load_raw(i).label == -1).all()
        if (raw.label == 1).sum() > 1000:
            w, d = raw.label == 1, raw.label == 0
            waters.append(np.median(raw.s1[0][w]) - np.median(raw.s1[0][d]))
    with pytest.raises(InputError, match="label_source"):
        TerraMindTiles(root, label_source="hand")
    assert waters, "no TerraMind tile with land-cover water"
