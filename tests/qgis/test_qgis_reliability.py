"""qgis_process never destroys a user's files: the checks of core/io/destinations.py and core/io/publish.py."""
import os
import re

import pytest

from floodkd.core.io.run_files import DestinationLock


@pytest.fixture
def run_segment(qgis_process, file_size_limit):
    """``run_segment(algorithm, limit_bytes=None, **PARAMS)``: one floodkd algorithm through qgis_process (Otsu)."""
    def run(algorithm, limit_bytes=None, **params):
        args = [f"{k}={v}" for k, v in {"METHOD": 2, **params}.items()]  # 2 = otsu: fast
        return qgis_process("run", f"floodkd:{algorithm}", "--", *args,
                            preexec_fn=file_size_limit(limit_bytes) if limit_bytes else None)
    return run


@pytest.fixture
def scene(scene_copy):
    return scene_copy


@pytest.mark.parametrize("params,message", [
    ({"OUTPUT": "scene.tif"}, "is the same file as INPUT"),
    ({"OUTPUT": "o.tif", "OUTPUT_PROBABILITY": "o.tif"}, "are the same file"),
    ({"OUTPUT": "o.png"}, "must be a GeoTIFF path ending in .tif or .tiff"),
])
def test_bad_destinations_are_refused_before_any_work(file_contents, run_segment, scene, tmp_path, params,
                                                     message):
    before = file_contents(tmp_path)
    proc = run_segment("segment", INPUT=scene, **{k: tmp_path / v for k, v in params.items()})
    assert proc.returncode != 0 and message in proc.stdout + proc.stderr
    assert file_contents(tmp_path) == before


def test_segmentchange_refuses_to_overwrite_the_pre_flood_scene(file_contents, run_segment, scene, india_s1,
                                                                tmp_path):
    before = file_contents(tmp_path)
    proc = run_segment("segmentchange", INPUT=india_s1, PRE_FLOOD=scene, OUTPUT=scene)
    assert proc.returncode != 0 and "is the same file as PRE_FLOOD" in proc.stdout + proc.stderr
    assert file_contents(tmp_path) == before


def test_a_failing_polygon_step_keeps_the_previous_outputs_and_styles(file_contents, run_segment, scene, tmp_path):
    out = tmp_path / "out"
    params = dict(INPUT=scene, OUTPUT=out / "o.tif", OUTPUT_POLYGONS=out / "w.gpkg", OUTPUT_STATS=out / "s.json")
    first = run_segment("segment", **params)
    assert first.returncode == 0, first.stdout + first.stderr
    before = file_contents(out)
    assert {"o.tif", "o.qml", "w.gpkg", "s.json"} <= set(before)
    failed = run_segment("segment", limit_bytes=200_000, THRESHOLD=0.3, **params)  # the GeoPackage outgrows it
    assert failed.returncode != 0
    assert re.search(r"writing the flood polygons \S*w\.gpkg failed", failed.stdout + failed.stderr)
    assert file_contents(out) == before  # every old product and style byte for byte, nothing added


def test_a_destination_in_use_is_refused(run_segment, scene, tmp_path):
    out = tmp_path / "o.tif"
    lock = DestinationLock(str(out))
    lock.acquire()  # as a concurrent run holds it
    try:
        proc = run_segment("segment", INPUT=scene, OUTPUT=out)
    finally:
        lock.release()
    assert proc.returncode != 0 and f"another floodkd run (process {os.getpid()}" in proc.stdout + proc.stderr
    assert not out.exists()
