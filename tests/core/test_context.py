"""Context layers on real chips: permanent water, DEM slope, change mode; bad layers."""
import os
from pathlib import Path

import numpy as np
import pytest
import rasterio

from floodkd.core.change import segment_change
from floodkd.core.geo.context import slope_degrees
from floodkd.core.errors import InputError
from floodkd.core.progress import Progress
from floodkd.core.segment import SegmentOptions, segment_scene

OTSU = SegmentOptions(method="otsu")
TERRAMIND = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "terramind_examples"


def terramind(folder, name):
    path = TERRAMIND / folder / name
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


def read(path):
    with rasterio.open(path) as ds:
        return ds.read(1)


def write_like(path, reference, array, dtype=None, nodata=None):
    with rasterio.open(reference) as ref:
        profile = dict(driver="GTiff", width=ref.width, height=ref.height, count=1, crs=ref.crs,
                       transform=ref.transform, dtype=dtype or array.dtype.name, nodata=nodata)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(array.astype(profile["dtype"]), 1)
    return path


def plain(s1, tmp_path):
    segment_scene(str(s1), str(tmp_path / "plain.tif"), OTSU)
    return read(tmp_path / "plain.tif")


class Recorder(Progress):
    def __init__(self):
        self.warnings = []

    def warning(self, message):
        self.warnings.append(message)


def test_hand_label_as_permanent_water_splits_water_exactly(spain_s1, tmp_path):
    label = read(spain_s1.parent.parent / "LabelHand" / "Spain_7370579_LabelHand.tif")
    mask = write_like(tmp_path / "mask.tif", spain_s1, (label == 1).astype(np.uint8))
    base = plain(spain_s1, tmp_path)
    opts = SegmentOptions(method="otsu", permanent_water=str(mask), permanent_water_threshold=1)
    result = segment_scene(str(spain_s1), str(tmp_path / "w.tif"), opts)
    classes = read(tmp_path / "w.tif")
    water = base == 1
    np.testing.assert_array_equal(classes == 2, water & (label == 1))
    np.testing.assert_array_equal(classes == 1, water & (label != 1))
    np.testing.assert_array_equal(classes == 0, base == 0)
    assert result.water_pixels == int(water.sum())  # water = flood + permanent
    assert result.stats.pixels[2] == int((classes == 2).sum()) > 1000


def test_occurrence_layer_on_another_grid_is_resampled(tmp_path):
    """JRC-like occurrence (%) in EPSG:4326 at ~20 m over a UTM 10 m scene (TerraMind, LULC water)."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    name = "282D_485L_3_3.tif"
    s1, lulc_path = terramind("S1RTC", name), terramind("LULC", name)
    with rasterio.open(lulc_path) as ds:
        lulc = ds.read(1)
        occurrence = np.where(lulc == 1, 100, 5).astype(np.uint8)
        transform, w, h = calculate_default_transform(ds.crs, "EPSG:4326", ds.width, ds.height, *ds.bounds,
                                                      resolution=0.0002)
        out = np.full((h, w), 255, np.uint8)
        reproject(occurrence, out, src_transform=ds.transform, src_crs=ds.crs, dst_transform=transform,
                  dst_crs="EPSG:4326", resampling=Resampling.nearest, dst_nodata=255)
    profile = dict(driver="GTiff", width=w, height=h, count=1, dtype="uint8", crs="EPSG:4326",
                   transform=transform, nodata=255)
    with rasterio.open(tmp_path / "occ.tif", "w", **profile) as ds:
        ds.write(out, 1)
    base = plain(s1, tmp_path)
    result = segment_scene(str(s1), str(tmp_path / "w.tif"),
                           SegmentOptions(method="otsu", permanent_water=str(tmp_path / "occ.tif")))
    classes = read(tmp_path / "w.tif")
    water = base == 1
    np.testing.assert_array_equal((classes == 1) | (classes == 2), water)
    agree = ((classes == 2) == (lulc == 1))[water].mean()
    assert agree > 0.97 and result.stats.pixels[2] > 5000


def test_threshold_against_a_0_1_mask_warns(spain_s1, tmp_path):
    mask = write_like(tmp_path / "mask.tif", spain_s1, np.ones((512, 512), np.uint8))
    progress = Recorder()
    segment_scene(str(spain_s1), str(tmp_path / "w.tif"), SegmentOptions(method="otsu", permanent_water=str(mask)),
                  progress=progress)
    assert (read(tmp_path / "w.tif") != 2).all()
    assert any("a 0/1 mask?" in w and "use threshold 1" in w for w in progress.warnings)


def ramp_dem(s1, tmp_path):
    """Elevation on the chip's geographic grid: 10 deg slope (cols < 170), 3 deg (170..339), flat after."""
    with rasterio.open(s1) as ds:
        t, h, w = ds.transform, ds.height, ds.width
    lat = np.radians(t.f + t.e * (np.arange(h) + 0.5))
    dx = 6371008.8 * np.cos(lat)[:, None] * np.radians(t.a)  # metres per column, per row
    col = np.arange(w)[None, :]
    z = np.where(col < 170, col * np.tan(np.radians(10)),
                 170 * np.tan(np.radians(10)) + (np.minimum(col, 340) - 170) * np.tan(np.radians(3))) * dx
    return write_like(tmp_path / "dem.tif", s1, z.astype(np.float32)), z


def test_slope_on_a_geographic_grid_uses_metres(spain_s1, tmp_path):
    dem, z = ramp_dem(spain_s1, tmp_path)
    with rasterio.open(spain_s1) as ds:
        padded = np.pad(z, 1, constant_values=np.nan)
        slope = slope_degrees(padded, ds.transform, ds.crs, 0)
    assert np.abs(slope[:, 5:165] - 10).max() < 0.05
    assert np.abs(slope[:, 175:335] - 3).max() < 0.05
    assert np.abs(slope[:, 345:]).max() < 0.05
    base = plain(spain_s1, tmp_path)
    result = segment_scene(str(spain_s1), str(tmp_path / "w.tif"),
                           SegmentOptions(method="otsu", dem=str(dem), max_slope=5))
    classes = read(tmp_path / "w.tif")
    assert (classes[:, :169] != 1).all() and (base[:, :169] == 1).any()
    np.testing.assert_array_equal(classes[:, 171:], base[:, 171:])
    assert result.water_pixels == int((classes == 1).sum())


def test_real_dem_slope_matches_numpy_gradient(tmp_path):
    name = "433D_629L_3_1.tif"
    s1, dem = terramind("S1RTC", name), terramind("DEM", name)
    base = plain(s1, tmp_path)
    segment_scene(str(s1), str(tmp_path / "w.tif"), SegmentOptions(method="otsu", dem=str(dem), max_slope=5))
    gy, gx = np.gradient(read(dem).astype(np.float64), 10.0)  # UTM, 10 m pixels
    steep = np.degrees(np.arctan(np.hypot(gx, gy))) > 5
    expected = np.where((base == 1) & steep, 0, base)
    np.testing.assert_array_equal(read(tmp_path / "w.tif"), expected)
    assert ((base == 1) & steep).sum() > 1000  # the rule mattered on this hilly tile


def test_change_with_itself_is_all_permanent_water(india_s1, tmp_path):
    base = plain(india_s1, tmp_path)
    copy = tmp_path / "copy" / "india.tif"  # the same scene as another file (one file for both dates is refused)
    copy.parent.mkdir()
    copy.write_bytes(india_s1.read_bytes())
    result = segment_change(str(copy), str(india_s1), str(tmp_path / "c.tif"), OTSU)
    classes = read(tmp_path / "c.tif")
    assert (classes != 1).all() and result.stats.pixels[1] == 0
    np.testing.assert_array_equal(classes == 2, base == 1)
    assert sorted(os.listdir(tmp_path)) == ["c.tif", "copy", "plain.tif"]  # the pre-flood temp is gone


def test_change_against_a_synthetic_dry_pre_flood(spain_s1, tmp_path):
    with rasterio.open(spain_s1) as ds:
        profile, data = ds.profile, ds.read()
    pre = data.copy()
    pre[0, :, :256], pre[1, :, :256] = -8.0, -14.0  # left half dry before the flood
    with rasterio.open(tmp_path / "pre.tif", "w", **profile) as ds:
        ds.write(pre)
    base = plain(spain_s1, tmp_path)
    segment_scene(str(tmp_path / "pre.tif"), str(tmp_path / "pre_classes.tif"), OTSU)
    before = read(tmp_path / "pre_classes.tif")
    segment_change(str(tmp_path / "pre.tif"), str(spain_s1), str(tmp_path / "c.tif"), OTSU)
    classes = read(tmp_path / "c.tif")
    water = base == 1
    np.testing.assert_array_equal(classes == 1, water & (before != 1))
    np.testing.assert_array_equal(classes == 2, water & (before == 1))
    assert (classes[:, :256] != 2).all() and (classes[:, :256] == 1).sum() == water[:, :256].sum() > 0


def test_context_layer_outside_the_scene_is_refused(spain_s1, make_raster, tmp_path):
    far = make_raster(tmp_path / "far.tif", np.full((1, 20, 20), 100, np.uint8))  # UTM 30N, 4200 km north
    for opts in (SegmentOptions(method="otsu", permanent_water=str(far)), SegmentOptions(method="otsu", dem=str(far))):
        with pytest.raises(InputError, match="far.tif does not overlap the scene"):
            segment_scene(str(spain_s1), str(tmp_path / "o.tif"), opts, polygons_path=str(tmp_path / "p.gpkg"),
                          stats_path=str(tmp_path / "s.csv"))
        assert os.listdir(tmp_path) == ["far.tif"]


def test_unreadable_context_file_is_refused(spain_s1, tmp_path):
    bad = tmp_path / "dem.tif"
    bad.write_text("not a raster")
    with pytest.raises(InputError, match="DEM layer .*dem.tif is not a readable raster"):
        segment_scene(str(spain_s1), str(tmp_path / "o.tif"), SegmentOptions(method="otsu", dem=str(bad)))
    with pytest.raises(InputError, match="PRE_FLOOD layer|not a readable raster"):
        segment_change(str(bad), str(spain_s1), str(tmp_path / "o.tif"), OTSU)
    assert os.listdir(tmp_path) == ["dem.tif"]
