"""GDAL's block cache is bounded while a scene streams, and restored after."""
import pytest

from floodkd.core.io.gdal_cache import MIN_CACHE_BYTES, gdal_cache_limit, strip_cache_bytes
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
