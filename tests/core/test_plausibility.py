"""Values that cannot be backscatter in the declared or detected units are refused before any output."""
import glob
import os

import numpy as np
import pytest
import rasterio

from floodkd.core.errors import InputError
from floodkd.core.segment import SegmentOptions, segment_scene
from floodkd.core.source_prep import prepare_source
from floodkd.cli.main import main


def rewrite(src, dst, convert, dtype="float32"):
    with rasterio.open(src) as ds:
        profile, data = ds.profile, ds.read()
    profile.update(dtype=dtype, nodata=None)
    with rasterio.open(dst, "w", **profile) as out:
        out.write(convert(data).astype(dtype))
    return str(dst)


def refused(capsys, args, out):
    assert main(["segment", *args, str(out), "--method", "otsu"]) == 2
    assert not os.path.exists(out) and not [f for f in os.listdir(os.path.dirname(out)) if ".floodkd-" in f]
    return capsys.readouterr().err


@pytest.mark.parametrize("units", ["auto", "db"])
def test_int16_db_times_100_is_refused_with_its_look(spain_s1, tmp_path, capsys, units):
    path = rewrite(spain_s1, tmp_path / "db100.tif", lambda db: np.nan_to_num(db * 100), "int16")
    err = refused(capsys, [path, "--units", units], tmp_path / "o.tif")
    assert "median VV -1048" in err and "(int16)" in err and "dB x 100" in err and "A/100.0" in err


def test_units_linear_on_db_data_points_to_db(spain_s1, tmp_path, capsys):
    err = refused(capsys, [str(spain_s1), "--units", "linear"], tmp_path / "o.tif")
    assert "do not look like linear power" in err and "median VV -10.48" in err and "use UNITS db" in err


@pytest.mark.parametrize("units,convert", [("linear", lambda db: 10 ** (db / 10)),
                                           ("amplitude", lambda db: 10 ** (db / 20))])
def test_units_db_on_power_or_amplitude_points_to_them(spain_s1, tmp_path, capsys, units, convert):
    path = rewrite(spain_s1, tmp_path / f"{units}.tif", convert)
    err = refused(capsys, [path, "--units", "db"], tmp_path / "o.tif")
    assert "do not look like dB" in err and f"use UNITS {units}" in err and "(float32)" in err


@pytest.mark.parametrize("units", ["auto", "db", "linear"])
def test_all_zero_raster_is_fill_not_0_db(spain_s1, tmp_path, capsys, units):
    path = rewrite(spain_s1, tmp_path / "zero.tif", np.zeros_like)
    err = refused(capsys, [path, "--units", units], tmp_path / "o.tif")
    assert "no valid pixel" in err and "GRD fill value" in err


@pytest.mark.parametrize("units", ["auto", "db"])
def test_zero_fill_in_both_bands_is_nodata_in_db(spain_s1, tmp_path, units):
    def with_fill(db):
        db = np.nan_to_num(db, nan=-20.0)
        db[:, :40, :] = 0.0  # GRD's border fill
        db[0, 60:70, :] = 0.0  # 0 dB in one band only is a value
        return db

    path = rewrite(spain_s1, tmp_path / "fill.tif", with_fill)
    segment_scene(path, str(tmp_path / "o.tif"), SegmentOptions(method="otsu", units=units))
    with rasterio.open(tmp_path / "o.tif") as ds:
        classes = ds.read(1)
    assert (classes[:40] == 255).all()
    assert (classes[60:70] != 255).all() and (classes[40:] != 255).all()


def real_db_rasters():
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
    files = sorted(glob.glob(os.path.join(root, "sen1floods11", "S1Hand", "*.tif")) +
                   glob.glob(os.path.join(root, "terramind_examples", "S1RTC", "*.tif")))
    if not files:
        pytest.skip("real data not available: ../shared/data/sen1floods11/S1Hand, terramind_examples/S1RTC")
    return files


@pytest.mark.parametrize("units", ["auto", "db"])
def test_every_real_db_raster_passes(units):
    for path in real_db_rasters():
        assert prepare_source(path, units).units == "db", path


def test_real_db_as_power_is_refused_and_as_power_passes(spain_s1, tmp_path):
    power = rewrite(spain_s1, tmp_path / "p.tif", lambda db: 10 ** (db / 10))
    assert prepare_source(power, "auto").units == "linear"
    assert prepare_source(power, "linear").units == "linear"
    with pytest.raises(InputError, match="use UNITS linear"):
        prepare_source(power, "db")
