"""Units auto-detection uses both bands and the physics, and refuses when ambiguous (issue 16)."""
import numpy as np
import pytest
import rasterio

from floodkd.core.errors import InputError
from floodkd.core.segment import SegmentOptions, segment_scene
from floodkd.core.source_prep import prepare_source

CHIPS = ["Bolivia_290290", "Bolivia_312675", "Ghana_124834", "Ghana_7496", "India_900498", "Spain_7370579"]


def converted(src, dst, units):
    with rasterio.open(src) as ds:
        data, profile = ds.read().astype("float64"), ds.profile
    factor = {"linear": 10.0, "amplitude": 20.0}[units]
    out = np.where(np.isfinite(data), 10 ** (data / factor), np.nan).astype("float32")
    profile.update(dtype="float32", nodata=None)
    with rasterio.open(dst, "w", **profile) as ds:
        ds.write(out)
    return dst


@pytest.mark.parametrize("units", ["linear", "amplitude"])
@pytest.mark.parametrize("chip", CHIPS)
def test_every_real_chip_in_power_or_amplitude_is_detected(shared, tmp_path, chip, units):
    path = converted(shared("sen1floods11", "S1Hand", f"{chip}_S1Hand.tif"), tmp_path / "c.tif", units)
    assert prepare_source(str(path)).units == units


def test_bolivia_312675_in_power_gives_the_map_of_the_db_chip(shared, tmp_path):
    chip = shared("sen1floods11", "S1Hand", "Bolivia_312675_S1Hand.tif")
    power = converted(chip, tmp_path / "power.tif", "linear")
    as_db = segment_scene(str(chip), str(tmp_path / "db.tif"), SegmentOptions(method="threshold"))
    auto = segment_scene(str(power), str(tmp_path / "p.tif"), SegmentOptions(method="threshold"))
    assert abs(auto.water_km2 - as_db.water_km2) < 0.01 * as_db.water_km2 + 1e-3
    assert auto.water_km2 < 2.0  # read as amplitude it was 21.1 km2 (issue 16)


def test_ambiguous_values_are_refused_naming_both_readings(tmp_path, make_raster):
    rng = np.random.default_rng(0)
    vv = rng.uniform(0.05, 0.3, (64, 64)).astype("float32")
    path = make_raster(tmp_path / "same.tif", np.stack([vv, vv]), crs="EPSG:32630")  # VH equal to VV
    with pytest.raises(InputError, match="cannot tell whether the values are linear power or amplitude") as info:
        prepare_source(str(path))
    assert "--units linear" in str(info.value) and "as linear power" in str(info.value)


def test_bright_db_with_a_positive_vv_median_is_db_and_refusals_under_auto_do_not_advise_auto(tmp_path,
                                                                                              make_raster):
    from floodkd.core.units import suggest_units

    rng = np.random.default_rng(1)
    vv = rng.normal(1.0, 2.0, (32, 32))  # an urban scene in dB: VV median above 0, VH below
    data = np.stack([vv, vv - 9.0]).astype("float32")
    path = make_raster(tmp_path / "bright.tif", data, crs="EPSG:32630")
    assert prepare_source(str(path)).units == "db"  # was read as power, then refused advising "UNITS db (or auto)"
    assert suggest_units(1.0, -8.0, False, "auto") == "They look like dB: use UNITS db."
    assert "(or auto)" in suggest_units(1.0, -8.0, False, "linear")
