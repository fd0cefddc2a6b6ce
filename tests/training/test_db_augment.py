"""dB augmentation: reproducible, bounded, nodata kept, clean copy for the teacher."""
import numpy as np
import pytest

from floodkd.training.data.etci import S1_DB_BANDS, Etci2021
from floodkd.training.data.datasets import ConcatChips
from floodkd.training.data.db_augment import DbAugmentConfig, DbSamples, augment_db



def test_augment_db_shifts_within_bounds_and_keeps_nodata():
    rng = np.random.default_rng(0)
    s1 = np.stack([np.full((64, 64), -10.0, np.float32), np.full((64, 64), -17.0, np.float32)])
    valid = np.ones((64, 64), bool)
    valid[:4] = False
    s1[:, ~valid] = 0
    cfg = DbAugmentConfig(speckle_p=0.0, smooth_p=0.0, contrast=0.0, ramp=0.0)
    shifts = []
    for seed in range(50):
        out = augment_db(s1, valid, np.random.default_rng(seed), cfg)
        d = out[:, valid] - s1[:, valid]
        assert np.allclose(d.std(axis=1), 0, atol=1e-3)  # a pure offset, the same for every pixel
        assert (np.abs(d) <= cfg.offset + cfg.band_offset + 1e-4).all()
        assert (out[:, ~valid] == 0).all()
        shifts.append(d[:, 0])
    assert np.ptp(np.array(shifts)[:, 0]) > 2.0  # offsets really vary
    speckled = augment_db(s1, valid, rng, DbAugmentConfig(speckle_p=1.0, offset=0, band_offset=0, ramp=0))
    assert speckled[:, valid].std() > 0.5


def test_db_samples_are_reproducible_and_renormalised(shared):
    data = Etci2021(str(shared("etci2021")))
    train = DbSamples(data, S1_DB_BANDS, seed=3, crop=128)
    a, b = train[5], train[5]
    assert np.array_equal(a["s1"], b["s1"]) and a["s1"].shape == (2, 128, 128)
    assert not np.array_equal(a["s1"], a["s1_clean"])
    train.set_epoch(1)
    assert not np.array_equal(train[5]["s1"], a["s1"])
    plain = DbSamples(data, S1_DB_BANDS, train=False)[5]
    assert "s1_clean" not in plain and plain["s1"].shape == (2, 256, 256)
    assert 0.0 <= plain["s1"].min() and plain["s1"].max() <= 1.0
    both = ConcatChips([plain_ds := DbSamples(data, S1_DB_BANDS, train=False), plain_ds])
    assert len(both) == 2 * len(data) and both.ids[len(data)] == data.ids[0]
    with pytest.raises(IndexError):
        both[len(both)]
