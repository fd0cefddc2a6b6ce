"""The engine's background stages: order, errors, cancel; the model input they feed, bit for bit."""
import threading
import time

import numpy as np
import pytest

from floodkd.core.bands import S1_BANDS, S2_BANDS, normalise_stack
from floodkd.core.errors import Cancelled
from floodkd.core.pipeline import Pipeline
from floodkd.core.predict.representation import model_input, model_input_torch
from floodkd.core.segment import SegmentOptions, segment_scene


def floodkd_threads():
    return [t for t in threading.enumerate() if t.name.startswith("floodkd-")]


def test_items_arrive_in_order_and_writes_run_in_order():
    done = []
    with Pipeline() as pipe:
        reader, writer = pipe.prefetch(lambda: iter(range(50)), depth=2), pipe.writer(depth=2)
        for item in reader:
            writer.submit(done.append, item)
        writer.finish()
    assert done == list(range(50)) and not floodkd_threads()


def test_a_reader_error_reaches_the_consumer_with_its_type():
    def items():
        yield 1
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"), Pipeline() as pipe:
        list(pipe.prefetch(items))
    assert not floodkd_threads()


def test_a_writer_error_is_raised_at_the_next_hand_over():
    def fail(_):
        raise ValueError("no space left")

    with pytest.raises(ValueError, match="no space left"), Pipeline() as pipe:
        writer = pipe.writer(depth=1)
        for i in range(100):
            writer.submit(fail, i)
            time.sleep(0.01)
        writer.finish()
    assert not floodkd_threads()


def test_leaving_early_stops_a_reader_blocked_on_a_full_queue():
    produced = []

    def endless():
        while True:
            produced.append(1)
            yield np.zeros(10)

    with pytest.raises(Cancelled), Pipeline() as pipe:
        for _ in pipe.prefetch(endless, depth=2):
            raise Cancelled("stop")
    assert not floodkd_threads() and len(produced) <= 4  # bounded: depth plus the one in hand


def test_a_cancelled_segment_leaves_no_thread_and_no_file(spain_s1, tmp_path):
    from floodkd.core.progress import Progress

    class CancelSoon(Progress):
        calls = 0

        def is_cancelled(self):  # polled by the engine (main thread) between batches
            self.calls += 1
            return self.calls > 5

    with pytest.raises(Cancelled):
        segment_scene(str(spain_s1), str(tmp_path / "o.tif"), SegmentOptions(method="otsu", tile=64, overlap=8),
                      progress=CancelSoon())
    assert not floodkd_threads() and list(tmp_path.iterdir()) == []


def old_model_input(raw, valid, bands):
    """The formulation before issue 14, kept here as the reference."""
    x = np.stack([normalise_stack(tile, bands) for tile in raw])
    x = np.nan_to_num(x, nan=0.0)
    x[np.broadcast_to(~valid[:, None], x.shape)] = 0.0
    return x.astype(np.float32, copy=False)


def awkward_raw(bands, seed=0):
    rng = np.random.default_rng(seed)
    raw = rng.normal(-15, 12, (3, len(bands), 37, 41)).astype(np.float32) * (1 if bands is S1_BANDS else -300)
    raw[0, :, :5] = np.nan
    raw[1, 0, 3] = np.inf
    raw[1, -1, 4] = -np.inf
    raw[2, :, 7] = -0.0
    raw[2, :, 8] = np.float32(bands[0].low)  # exactly at the clip ends
    raw[2, :, 9] = np.float32(bands[0].high)
    valid = rng.random((3, 37, 41)) > 0.2
    valid[0, :3] = True  # NaN at pixels called valid: still 0, as nan_to_num made it
    return raw, valid


@pytest.mark.parametrize("bands", [S1_BANDS, S2_BANDS], ids=["S1", "S2"])
def test_model_input_is_bit_identical_to_the_old_formulation(bands):
    raw, valid = awkward_raw(bands)
    new, old = model_input(raw, valid, bands, {}), old_model_input(raw, valid, bands)
    assert new.dtype == np.float32 and new.shape == old.shape
    np.testing.assert_array_equal(new.view(np.uint32), old.view(np.uint32))  # bits, not just values
    assert np.isnan(raw).any() and not np.isnan(new).any()


def test_model_input_torch_gives_the_same_bits():
    torch = pytest.importorskip("torch")
    raw, valid = awkward_raw(S1_BANDS, seed=3)
    out = model_input_torch(torch.from_numpy(raw), torch.from_numpy(valid), S1_BANDS).numpy()
    np.testing.assert_array_equal(out.view(np.uint32), old_model_input(raw, valid, S1_BANDS).view(np.uint32))


def test_threshold_probability_in_place_gives_the_same_bits():
    from floodkd.core.predict.common import below_threshold_probability

    rng = np.random.default_rng(4)
    vh = rng.normal(-20, 15, (3, 2, 50, 60)).astype(np.float32)[:, 1]  # a strided band, as the engine passes
    vh[0, 0, :6] = [np.nan, np.inf, -np.inf, -23.25, -0.0, -73.25]
    for threshold in (-23.25, -17.3):
        old = (1.0 / (1.0 + np.exp(np.clip(vh - np.float32(threshold), -50, 50)))).astype(np.float32)
        new = below_threshold_probability(vh, threshold)
        assert new.dtype == np.float32
        np.testing.assert_array_equal(new.view(np.uint32), old.view(np.uint32))


@pytest.mark.parametrize("shape", [(2, 2, 37, 41), (1, 2, 5, 20)], ids=["padded", "smaller than the padding"])
def test_gpu_input_path_gives_the_numpy_input_bit_for_bit(shape):
    """torch_predictor.input_on_device (what runs on CUDA), here with torch on the CPU."""
    torch = pytest.importorskip("torch")
    from floodkd.core.predict.torch_predictor import input_on_device

    raw, valid = awkward_raw(S1_BANDS, seed=5)
    raw, valid = np.ascontiguousarray(raw[:shape[0], :, :shape[2], :shape[3]]), valid[:shape[0], :shape[2], :shape[3]]
    expected = np.pad(old_model_input(raw, valid, S1_BANDS), ((0, 0), (0, 0), (0, (-shape[2]) % 16),
                                                              (0, (-shape[3]) % 16)), mode="reflect")
    with torch.inference_mode():
        got = input_on_device(raw, valid, S1_BANDS, {}, 16, "cpu").numpy()
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))
