"""Band descriptions pick VV and VH only when they name them unambiguously; int8 input is signed (issue 16)."""
import numpy as np
import pytest
import rasterio

from floodkd.core.errors import InputError
from floodkd.core.progress import Progress
from floodkd.core.segment import SegmentOptions, segment_scene
from floodkd.core.source_prep import prepare_source


class Log(Progress):
    def __init__(self):
        self.warnings = []

    def warning(self, message):
        self.warnings.append(message)


def chip(spain_s1):
    with rasterio.open(spain_s1) as ds:
        return ds.read()


def otsu_classes(path, tmp_path, name="o.tif"):
    segment_scene(str(path), str(tmp_path / name), SegmentOptions(method="otsu"))
    with rasterio.open(tmp_path / name) as ds:
        return ds.read(1)


def test_a_ratio_band_is_never_taken_for_vv_or_vh(spain_s1, tmp_path, make_raster):
    vv, vh = chip(spain_s1)
    ratio = make_raster(tmp_path / "ratio.tif", np.stack([vh - vv, vv, vh]), descriptions=["ratio_VH_VV", "VV", "VH"])
    plain = make_raster(tmp_path / "plain.tif", np.stack([vv, vh]))
    source = prepare_source(str(ratio))
    assert source.band_indexes == (2, 3)
    assert (otsu_classes(ratio, tmp_path, "r.tif") == otsu_classes(plain, tmp_path, "p.tif")).all()


def test_a_single_description_contradicting_the_order_is_refused_naming_the_bands(spain_s1, tmp_path, make_raster):
    vv, vh = chip(spain_s1)
    path = make_raster(tmp_path / "one.tif", np.stack([vh, vv]), descriptions=["VH", ""])
    with pytest.raises(InputError, match="contradict the documented order .*band 1 'VH', band 2 \\(no description\\)"):
        prepare_source(str(path))


def test_uninformative_descriptions_use_the_documented_order_with_a_warning(spain_s1, tmp_path, make_raster):
    vv, vh = chip(spain_s1)
    path = make_raster(tmp_path / "ab.tif", np.stack([vv, vh]), descriptions=["first", "second"])
    log = Log()
    assert prepare_source(str(path), progress=log).band_indexes == (1, 2)
    assert any("using the documented order: band 1 VV, band 2 VH" in w for w in log.warnings), log.warnings


def test_hh_hv_are_not_taken_for_vv_vh(spain_s1, tmp_path, make_raster):
    vv, vh = chip(spain_s1)
    path = make_raster(tmp_path / "hh.tif", np.stack([vv, vh]), descriptions=["HH", "HV"])
    with pytest.raises(InputError, match="HH/HV"):
        prepare_source(str(path))


def test_int8_input_is_read_as_signed(tmp_path):
    from osgeo import gdal

    path = str(tmp_path / "int8.tif")
    ds = gdal.GetDriverByName("GTiff").Create(path, 64, 64, 2, gdal.GDT_Byte, ["PIXELTYPE=SIGNEDBYTE"])
    ds.SetGeoTransform((500000, 10, 0, 4200000, 0, -10))
    ds.SetProjection(rasterio.crs.CRS.from_epsg(32630).to_wkt())
    rng = np.random.default_rng(0)
    vv = rng.integers(-10, -6, (64, 64)).astype(np.int8)
    vh = (vv - 7).astype(np.int8)
    vh[:, :16] = -26  # dark: water
    for band, values in ((1, vv), (2, vh)):
        ds.GetRasterBand(band).WriteArray(values.view(np.uint8))
    ds = None
    source = prepare_source(path, units="auto")
    assert source.units == "db"  # read unsigned, -12 dB became 244 and looked like uncalibrated numbers
    classes = otsu_classes(path, tmp_path)
    assert (classes[:, :16] == 1).mean() > 0.95 and (classes[:, 16:] == 0).mean() > 0.95
