"""qgis_process never destroys a user's files: the checks of core/destinations.py and core/publish.py."""
import os
import resource
import signal
import subprocess
from pathlib import Path

import pytest

from floodkd.core.run_files import DestinationLock

REPO = Path(__file__).resolve().parents[2]
QGIS_PROCESS = os.environ.get("FLOODKD_QGIS_PROCESS", str(REPO / ".venv" / "bin" / "qgis_process"))


@pytest.fixture(scope="module")
def run_segment(tmp_path_factory):
    """``run_segment(algorithm, limit_bytes=None, **PARAMS)``: qgis_process in a fresh profile with floodkd."""
    if not os.path.exists(QGIS_PROCESS):
        pytest.fail(f"{QGIS_PROCESS} missing: run scripts/setup.sh first")
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(tmp_path_factory.mktemp("profile")))
    enabled = subprocess.run([QGIS_PROCESS, "plugins", "enable", "floodkd"], env=env, capture_output=True, text=True)
    assert enabled.returncode == 0, enabled.stderr

    def run(algorithm, limit_bytes=None, **params):
        def limit():  # writes beyond the limit fail (EFBIG), as on a full disk
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
        args = [f"{k}={v}" for k, v in {"METHOD": 2, **params}.items()]  # 2 = otsu: fast
        return subprocess.run([QGIS_PROCESS, "run", f"floodkd:{algorithm}", "--", *args], env=env,
                              capture_output=True, text=True, timeout=300, preexec_fn=limit if limit_bytes else None)
    return run


def listing(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()}


@pytest.fixture
def scene(spain_s1, tmp_path):
    copy = tmp_path / "scene.tif"
    copy.write_bytes(spain_s1.read_bytes())
    return copy


@pytest.mark.parametrize("params,message", [
    ({"OUTPUT": "scene.tif"}, "is the same file as INPUT"),
    ({"OUTPUT": "o.tif", "OUTPUT_PROBABILITY": "o.tif"}, "are the same file"),
    ({"OUTPUT": "o.png"}, "must be a GeoTIFF path ending in .tif or .tiff"),
])
def test_bad_destinations_are_refused_before_any_work(run_segment, scene, tmp_path, params, message):
    before = listing(tmp_path)
    proc = run_segment("segment", INPUT=scene, **{k: tmp_path / v for k, v in params.items()})
    assert proc.returncode != 0 and message in proc.stdout + proc.stderr
    assert listing(tmp_path) == before


def test_segmentchange_refuses_to_overwrite_the_pre_flood_scene(run_segment, scene, india_s1, tmp_path):
    before = listing(tmp_path)
    proc = run_segment("segmentchange", INPUT=india_s1, PRE_FLOOD=scene, OUTPUT=scene)
    assert proc.returncode != 0 and "is the same file as PRE_FLOOD" in proc.stdout + proc.stderr
    assert listing(tmp_path) == before


def test_a_failing_polygon_step_keeps_the_previous_outputs_and_styles(run_segment, scene, tmp_path):
    out = tmp_path / "out"
    params = dict(INPUT=scene, OUTPUT=out / "o.tif", OUTPUT_POLYGONS=out / "w.gpkg", OUTPUT_STATS=out / "s.json")
    first = run_segment("segment", **params)
    assert first.returncode == 0, first.stdout + first.stderr
    before = listing(out)
    assert {"o.tif", "o.qml", "w.gpkg", "s.json"} <= set(before)
    failed = run_segment("segment", limit_bytes=200_000, THRESHOLD=0.3, **params)  # the GeoPackage outgrows it
    assert failed.returncode != 0 and "writing the flood polygons failed" in failed.stdout + failed.stderr
    assert listing(out) == before  # every old product and style byte for byte, nothing added


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
