import numpy as np
import pytest

from floodkd.core.bands import S1_BANDS, S2_BANDS, VH, VV, normalise_stack
from floodkd.core.predict.tiling import blend_weights, tile_starts


def test_paper_normalisation_ranges():
    vv = np.array([-40.0, -20.0, -10.0, 0.0, 5.0], np.float32)
    np.testing.assert_allclose(VV.normalise(vv), [0, 0, 0.5, 1, 1])
    vh = np.array([-35.0, -30.0, -15.0, 0.0], np.float32)
    np.testing.assert_allclose(VH.normalise(vh), [0, 0, 0.5, 1])
    s2 = np.array([-5, 0, 1500, 3000, 9000], np.float32)
    np.testing.assert_allclose(S2_BANDS[0].normalise(s2), [0, 0, 0.5, 1, 1])


def test_normalise_stack_checks_band_count():
    with pytest.raises(ValueError, match="spec expects 2 .VV, VH."):
        normalise_stack(np.zeros((3, 4, 4), np.float32), S1_BANDS)


def test_nan_stays_nan_for_the_valid_mask():
    assert np.isnan(VV.normalise(np.array([np.nan], np.float32)))[0]


@pytest.mark.parametrize("length,tile,overlap", [(1, 512, 64), (511, 512, 64), (512, 512, 64), (513, 512, 64),
                                                 (1000, 256, 32), (4097, 512, 0), (300, 128, 127)])
def test_tiles_cover_every_pixel_and_stay_inside(length, tile, overlap):
    starts = tile_starts(length, tile, overlap)
    size = min(tile, length)
    covered = np.zeros(length, int)
    for s in starts:
        assert 0 <= s and s + size <= length
        covered[s:s + size] += 1
    assert covered.min() >= 1
    assert starts[-1] + size == length
    for a, b in zip(starts, starts[1:]):
        assert a + size - b >= min(overlap, size)  # neighbours overlap at least `overlap`


def test_tile_arguments_are_checked():
    with pytest.raises(ValueError):
        tile_starts(100, 64, 64)
    with pytest.raises(ValueError):
        tile_starts(0, 64, 8)


def test_blend_weights_ramp_from_edges():
    w = blend_weights(64, 64, 16)
    assert w.shape == (64, 64) and w.min() > 0
    assert w[32, 32] == 1.0
    assert w[0, 32] < w[8, 32] < w[20, 32]
    np.testing.assert_allclose(w, w[::-1, ::-1])
