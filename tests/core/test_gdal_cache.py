"""GDAL's block cache is bounded while a scene streams, and restored after."""
import os
import sys

import pytest

from floodkd.core.io.gdal_cache import MIN_CACHE_BYTES, configured_cache_bytes, gdal_cache_limit, strip_cache_bytes
from floodkd.core.segment import SegmentOptions, segment_scene

gdal = pytest.importorskip("osgeo.gdal")


def test_limit_lowers_and_restores():
    before = gdal.GetCacheMax()
    with gdal_cache_limit(MIN_CACHE_BYTES):
        assert gdal.GetCacheMax() == min(before, MIN_CACHE_BYTES)
    assert gdal.GetCacheMax() == before


def test_limit_never_raises_the_cache():
    before = gdal.GetCacheMax()
    with gdal_cache_limit(before * 4):
        assert gdal.GetCacheMax() == before


def test_strip_budget():
    assert strip_cache_bytes(100, 2, 512) == MIN_CACHE_BYTES
    assert strip_cache_bytes(25000, 2, 512) == 3 * 512 * 25000 * 2 * 4  # a GRD-wide scene: 0.3 GB


def test_segment_runs_under_the_limit_and_restores(spain_s1, tmp_path, monkeypatch):
    import floodkd.core.segment as segment_module
    from floodkd.core.predict.factory import OtsuPredictor

    seen = []

    class Recording(OtsuPredictor):
        def predict(self, raw, valid):
            seen.append(gdal.GetCacheMax())
            return super().predict(raw, valid)

    before = gdal.GetCacheMax()
    monkeypatch.setattr(segment_module, "make_predictor", lambda *a, **k: Recording())
    segment_scene(str(spain_s1), str(tmp_path / "o.tif"), SegmentOptions())
    assert seen and set(seen) == {min(before, MIN_CACHE_BYTES)}  # a 512 px chip needs only the minimum
    assert gdal.GetCacheMax() == before


def test_without_gdal_bindings_rasterio_lowers_and_restores(monkeypatch):
    before = gdal.GetCacheMax()
    monkeypatch.setitem(sys.modules, "osgeo", None)  # as with rasterio's wheels alone
    with gdal_cache_limit(MIN_CACHE_BYTES):
        assert gdal.GetCacheMax() == MIN_CACHE_BYTES  # the same libgdal, set through rasterio's Env
    assert gdal.GetCacheMax() == before
    with gdal_cache_limit(before * 4):
        assert gdal.GetCacheMax() == before


@pytest.mark.parametrize("value,expected", [("10%", 0.1), ("512", 512 * 2**20), ("200000000", 200000000),
                                            (None, 0.05)])
def test_gdal_cachemax_is_read_as_gdal_reads_it(value, expected):
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert configured_cache_bytes(value) == pytest.approx(expected * ram if expected < 1 else expected)
