"""``floodkd segment-batch`` on real Dask clusters: an embedded LocalCluster of 2 worker processes and a
``dask scheduler`` + ``dask worker`` started here, with real Sen1Floods11 chips and a failing scene."""
import csv
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import rasterio

from floodkd.batch.runner import run_batch
from floodkd.cli.main import main
from floodkd.core.segment import SegmentOptions, segment_scene

from .conftest import S1HAND, shared_file

CHIPS = ("Spain_7370579_S1Hand", "India_900498_S1Hand", "Bolivia_312675_S1Hand")


def summary(folder):
    with open(folder / "summary.csv", newline="") as f:
        return {os.path.basename(r["scene"]): r for r in csv.DictReader(f)}


@pytest.fixture
def scenes(tmp_path):
    """Three real chips and, between them, a 'scene' that is a truncated GeoTIFF."""
    chips = [shared_file("sen1floods11", "S1Hand", f"{c}.tif") for c in CHIPS]
    broken = tmp_path / "in" / "Broken_1_S1Hand.tif"
    broken.parent.mkdir()
    broken.write_bytes(chips[0].read_bytes()[:5000])
    return [str(chips[0]), str(broken), str(chips[1]), str(chips[2])]


def test_local_cluster_maps_every_scene_records_the_failure_and_reruns_skip(scenes, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["segment-batch", *scenes, "--out-dir", str(out), "--workers", "2", "--method", "otsu", "--stats",
            "--polygons"]
    assert main(args) == 1  # one scene failed: exit non-zero after all the others were mapped
    rows = summary(out)
    assert [rows[os.path.basename(s)]["status"] for s in scenes] == ["ok", "failed", "ok", "ok"]
    assert "Broken_1_S1Hand.tif" in rows["Broken_1_S1Hand.tif"]["message"]
    assert not [p for p in os.listdir(out) if p.startswith("Broken_1")]  # nothing half-written
    ok = [r for r in rows.values() if r["status"] == "ok"]
    assert len({r["worker"] for r in ok}) == 2 and all(r["worker"].startswith("tcp://127.0.0.1:") for r in ok)
    for chip in CHIPS:  # the same engine as floodkd segment: same classes and areas
        direct = tmp_path / f"{chip}.tif"
        result = segment_scene(str(S1HAND / f"{chip}.tif"), str(direct), SegmentOptions(method="otsu"))
        with rasterio.open(out / f"{chip}_water.tif") as a, rasterio.open(direct) as b:
            assert np.array_equal(a.read(1), b.read(1))
        row = rows[f"{chip}.tif"]
        assert float(row["water_km2"]) == pytest.approx(result.water_km2, rel=1e-9)
        assert float(row["valid_km2"]) == pytest.approx(result.valid_km2, rel=1e-9) and float(row["seconds"]) > 0
        assert (out / f"{chip}_water.gpkg").is_file() and (out / f"{chip}_stats.csv").is_file()
    assert "3 mapped, 0 skipped (already done), 1 failed" in capsys.readouterr().out

    mtimes = {p: os.stat(out / p).st_mtime_ns for p in os.listdir(out) if p != "summary.csv"}
    assert main(args) == 1
    again = summary(out)
    assert [again[os.path.basename(s)]["status"] for s in scenes] == ["skipped", "failed", "skipped", "skipped"]
    assert again["India_900498_S1Hand.tif"]["water_km2"] == rows["India_900498_S1Hand.tif"]["water_km2"]
    assert {p: os.stat(out / p).st_mtime_ns for p in mtimes} == mtimes  # skipped scenes were not rewritten
    assert main(args) == 1  # a third run still knows the areas of scenes the second one skipped
    third = summary(out)
    assert third["India_900498_S1Hand.tif"]["water_km2"] == rows["India_900498_S1Hand.tif"]["water_km2"] != ""


def start(args, log):
    return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))


def wait_for(path, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "dask scheduler did not start"
        time.sleep(0.2)
    return json.loads(path.read_text())["address"]


def test_external_scheduler_and_worker_run_the_scenes(scenes, tmp_path, monkeypatch):
    from distributed import Client

    info, log = tmp_path / "scheduler.json", open(tmp_path / "dask.log", "w")
    scheduler = start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
                       str(info)], log)
    worker = None
    try:
        address = wait_for(info, scheduler)
        worker = start(["worker", address, "--nworkers", "1", "--nthreads", "1", "--name", "external-1",
                        "--no-dashboard"], log)
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
            external = next(iter(client.scheduler_info()["workers"]))
        out = tmp_path / "out"
        assert main(["segment-batch", scenes[0], scenes[2], "--out-dir", str(out), "--scheduler", address,
                     "--method", "otsu"]) == 0
        rows = summary(out)
        assert [r["status"] for r in rows.values()] == ["ok", "ok"]
        assert {r["worker"] for r in rows.values()} == {external}  # the external worker ran them
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
        assert main(["segment-batch", scenes[3], "--out-dir", str(out), "--method", "otsu"]) == 0
        assert summary(out)["Bolivia_312675_S1Hand.tif"]["worker"] == external
        with Client(address, timeout="30s") as client:  # a caller's own client (Dask Gateway's, say)
            result = run_batch([scenes[3]], str(out), SegmentOptions(method="otsu"), scheduler=client,
                               overwrite=True)
            assert [r["status"] for r in result.rows] == ["ok"] and client.status == "running"
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
        log.close()


def test_a_scheduler_nobody_runs_is_a_clear_error(spain_s1, tmp_path, capsys):
    assert main(["segment-batch", str(spain_s1), "--out-dir", str(tmp_path / "o"), "--scheduler",
                 "tcp://127.0.0.1:9", "--method", "otsu"]) == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err


@pytest.mark.parametrize("make,message", [
    (lambda d: [str(d / "none-*.tif")], "no file matches"),
    (lambda d: [str(S1HAND / "Spain_7370579_S1Hand.tif"), str(d / "Spain_7370579_S1Hand.tif")],
     "would both write Spain_7370579_S1Hand_water.tif"),
    (lambda d: [str(d / "list.txt")], "names no scene"),
])
def test_bad_inputs_are_refused_before_any_work(make, message, tmp_path, capsys):
    shared_file("sen1floods11", "S1Hand", "Spain_7370579_S1Hand.tif")
    (tmp_path / "Spain_7370579_S1Hand.tif").write_bytes(b"")
    (tmp_path / "list.txt").write_text("# nothing yet\n\n")
    assert main(["segment-batch", *make(tmp_path), "--out-dir", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_summary_and_products_follow_the_destination_rules(spain_s1, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere.csv").write_text("a user's table")
    (out / "summary.csv").symlink_to(tmp_path / "elsewhere.csv")
    assert main(["segment-batch", str(spain_s1), "--out-dir", str(out), "--method", "otsu"]) == 2
    assert "is a link or not a regular file" in capsys.readouterr().err
    assert (tmp_path / "elsewhere.csv").read_text() == "a user's table" and os.listdir(out) == ["summary.csv"]
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "A_water.tif").write_bytes(spain_s1.read_bytes())
    (inputs / "A.tif").write_bytes(spain_s1.read_bytes())
    assert main(["segment-batch", str(inputs / "*.tif"), "--out-dir", str(inputs), "--method", "otsu"]) == 2
    assert "writing it would destroy that input" in capsys.readouterr().err


def test_scene_list_file_with_relative_paths(tmp_path, capsys):
    chip = shared_file("sen1floods11", "S1Hand", "India_900498_S1Hand.tif")
    (tmp_path / "scenes.txt").write_text(f"# monsoon 2016\n{os.path.relpath(chip, tmp_path)}\n")
    assert main(["segment-batch", str(tmp_path / "scenes.txt"), "--out-dir", str(tmp_path / "o"), "--workers", "1",
                 "--method", "otsu"]) == 0
    assert summary(tmp_path / "o")["India_900498_S1Hand.tif"]["status"] == "ok"


def test_without_dask_the_message_says_what_to_install(spain_s1, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main(["segment-batch", str(spain_s1), "--out-dir", str(tmp_path / "o")]) == 2
    assert 'pip install "floodkd[batch]"' in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_sigterm_keeps_the_mapped_scenes_and_a_rerun_finishes_the_rest(tmp_path):
    """What Cancel in floodkd:segmentbatch does: SIGTERM to ``python -m floodkd.batch``."""
    from floodkd.worker.client import _package_parent

    chips = sorted(str(p) for p in S1HAND.glob("*_S1Hand.tif"))
    if len(chips) < 3:
        pytest.skip(f"needs 3 chips in {S1HAND}")
    out = tmp_path / "out"
    spec = {"inputs": chips, "out_dir": str(out), "options": {"method": "otsu"}, "workers": 1}
    proc = subprocess.Popen([sys.executable, "-m", "floodkd.batch", json.dumps(spec)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, PYTHONPATH=_package_parent()))
    lines = []
    for line in proc.stdout:  # the first scene is done: stop the batch as QGIS's Cancel does
        lines.append(json.loads(line))
        if "progress" in lines[-1]:
            proc.terminate()
            break
    lines += [json.loads(line) for line in proc.stdout]
    assert proc.wait(timeout=120) == 130 and "cancelled" in lines[-1]["error"]
    rows = summary(out)
    assert 1 <= len(rows) < len(chips) and all(r["status"] == "ok" for r in rows.values())
    assert main(["segment-batch", *chips, "--out-dir", str(out), "--workers", "1", "--method", "otsu"]) == 0
    again = summary(out)
    skipped = {name for name, r in again.items() if r["status"] == "skipped"}
    assert set(rows) <= skipped and len(skipped) < len(chips)  # (a scene may finish while the batch stops)
    assert all(r["status"] == "ok" for name, r in again.items() if name not in skipped)
    assert not [p for p in os.listdir(out) if p.startswith(".floodkd-")]  # what the killed worker left is gone
