"""The worker process (worker/server.py): progress, result, errors and cancel cross the process boundary."""
import os

import numpy as np
import pytest
import rasterio

from floodkd.core.errors import Cancelled, FloodKDError, InputError
from floodkd.core.progress import Progress
from floodkd.core.segment import SegmentOptions, segment_scene
from floodkd.worker import jobs as worker_jobs
from floodkd.worker.client import run_job


class Recorder(Progress):
    def __init__(self, cancel_after=None):
        self.events, self.cancel_after = [], cancel_after

    def report(self, fraction, message=""):
        self.events.append((fraction, message))

    def info(self, message):
        self.events.append(("info", message))

    def warning(self, message):
        self.events.append(("warning", message))

    def is_cancelled(self):
        reports = [e for e in self.events if e[0] not in ("info", "warning")]
        return self.cancel_after is not None and len(reports) >= self.cancel_after


def test_progress_and_result_come_back():
    progress = Recorder()
    assert run_job("sleep", {"steps": 3, "seconds": 0.01}, progress) == {"steps": 3}
    assert progress.events == [(0.0, "step 1 of 3"), (1 / 3, "step 2 of 3"), (2 / 3, "step 3 of 3")]


def test_errors_keep_their_type_and_message():
    with pytest.raises(InputError, match="band 3 is missing"):
        run_job("sleep", {"steps": 1, "seconds": 0, "fail": "band 3 is missing"}, Recorder())
    with pytest.raises(FloodKDError, match="unknown worker job 'nope'"):
        run_job("nope", {}, Recorder())


def test_a_worker_run_leaves_no_pipe_open():
    """QGIS's log showed two 'ResourceWarning: unclosed file' per worker run (stdout and stderr)."""
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        run_job("sleep", {"steps": 1, "seconds": 0}, Recorder())
        with pytest.raises(InputError):
            run_job("sleep", {"steps": 1, "seconds": 0, "fail": "no"}, Recorder())
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_cancel_stops_the_worker():
    with pytest.raises(Cancelled):
        run_job("sleep", {"steps": 1000, "seconds": 0.05}, Recorder(cancel_after=2))


def test_a_cancelled_job_says_itself_what_it_kept(tmp_path):
    """The client once replaced the job's words with 'no output was written' (a trainer keeps a staged epoch)."""
    fake = tmp_path / "python"
    fake.write_text("#!/usr/bin/python3\nimport json, sys\nsys.stdin.readline()\n"
                    "print(json.dumps({'event': 'progress', 'fraction': 0.1, 'message': 'epoch 2'}), flush=True)\n"
                    "sys.stdin.readline()\n"
                    "print(json.dumps({'event': 'error', 'type': 'Cancelled', 'message': 'epoch 1 kept in x.partial.last.pt'}))\n")
    fake.chmod(0o755)
    with pytest.raises(Cancelled, match=r"^epoch 1 kept in x\.partial\.last\.pt$"):
        run_job("train", {}, Recorder(cancel_after=1), python=str(fake))


def test_a_dead_worker_is_an_error_not_a_hang(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'Segmentation fault' >&2\nexit 139\n")
    fake.chmod(0o755)
    with pytest.raises(FloodKDError, match=r"(?s)ended unexpectedly \(exit code 139\).*Segmentation fault"):
        run_job("sleep", {}, Recorder(), python=str(fake))


def test_segment_in_the_worker_equals_segment_in_process(tiny_s1_checkpoint, spain_s1, tmp_path):
    options = SegmentOptions(model=str(tiny_s1_checkpoint), tile=256, overlap=32, threads=1)
    here = segment_scene(str(spain_s1), str(tmp_path / "here.tif"), options)
    args = worker_jobs.segment_args(str(spain_s1), str(tmp_path / "there.tif"), options,
                                    stats=str(tmp_path / "there.json"))
    progress = Recorder()
    there = worker_jobs.segment_result(run_job("segment", args, progress))
    assert there.method == here.method == "model"
    assert there.water_pixels == here.water_pixels and there.stats.pixels == here.stats.pixels
    assert set(there.stats.pixels) == {0, 1, 2, 255}  # class codes are ints again
    with rasterio.open(tmp_path / "here.tif") as a, rasterio.open(tmp_path / "there.tif") as b:
        assert np.array_equal(a.read(1), b.read(1))
    assert progress.events[-1][0] == 1.0 and os.path.isfile(tmp_path / "there.json")


def test_cancelled_segment_leaves_no_file(tiny_s1_checkpoint, spain_s1, tmp_path):
    options = SegmentOptions(model=str(tiny_s1_checkpoint), tile=64, overlap=8, batch_size=1, threads=1)
    args = worker_jobs.segment_args(str(spain_s1), str(tmp_path / "w.tif"), options,
                                    probability=str(tmp_path / "p.tif"))
    with pytest.raises(Cancelled):
        run_job("segment", args, Recorder(cancel_after=3))
    assert os.listdir(tmp_path) == []
