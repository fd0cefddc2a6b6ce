"""The CLI never destroys a user's files: clashes refused before work, all-or-nothing outputs, locks, kills."""
import os
import signal
import subprocess
import sys
import time

import pytest

from floodkd.core.io.run_files import DestinationLock
from floodkd.cli.main import main

FLOODKD = [sys.executable, "-m", "floodkd.cli"]


@pytest.fixture
def scene(scene_copy):
    return scene_copy


def otsu(*args):
    return ["segment", *map(str, args), "--method", "otsu"]


@pytest.mark.parametrize("output,extra,message", [
    ("scene.tif", [], "OUTPUT {d}/scene.tif is the same file as INPUT"),
    ("link.tif", [], "is the same file as INPUT"),  # a symlink to the input
    ("sub/../scene.tif", [], "is the same file as INPUT"),
    ("o.tif", ["--probability", "o.tif"], "and OUTPUT {d}/o.tif are the same file"),
    ("o.tif", ["--probability", "o.tiff"], "(its .qml style)"),
    ("o.tif", ["--dem", "dem.tif", "--probability", "dem.tif"], "is the same file as DEM"),
    ("o.png", [], "must be a GeoTIFF path ending in .tif or .tiff"),
    ("", [], "OUTPUT is empty"),
    (".", [], "is an existing folder"),
    ("o.tif", ["--quicklook", "scene.tif/q.png"], "cannot create the folder"),
    ("o.tif", ["--quicklook", "q.jpg"], "must end in .png"),
])
def test_bad_destinations_are_refused_before_any_work(file_contents, scene, tmp_path, capsys, output, extra,
                                                     message):
    (tmp_path / "link.tif").symlink_to(scene)
    (tmp_path / "dem.tif").write_bytes(scene.read_bytes())  # any raster on the grid serves as a DEM here
    before = file_contents(tmp_path)
    dest = str(tmp_path / output) if output else ""
    extra = [str(tmp_path / e) if e.endswith((".tif", ".tiff", ".png", ".jpg")) else e for e in extra]
    assert main(otsu(scene, dest, *extra)) == 2
    err = capsys.readouterr().err
    assert message.format(d=tmp_path) in err and "Traceback" not in err
    assert file_contents(tmp_path) == before


def test_change_mode_refuses_to_overwrite_the_pre_flood_scene(file_contents, scene, india_s1, tmp_path, capsys):
    before = file_contents(tmp_path)
    assert main(["segment-change", "--pre-flood", str(scene), str(india_s1), str(scene), "--method", "otsu"]) == 2
    assert "is the same file as PRE_FLOOD" in capsys.readouterr().err
    assert file_contents(tmp_path) == before


def test_a_vrt_source_cannot_be_the_output(file_contents, scene, tmp_path, capsys):
    from osgeo import gdal

    vrt = tmp_path / "mosaic.vrt"
    gdal.BuildVRT(str(vrt), [str(scene)]).FlushCache()
    before = file_contents(tmp_path)
    assert main(otsu(vrt, scene)) == 2
    assert f"which reads {scene}" in capsys.readouterr().err
    assert file_contents(tmp_path) == before


@pytest.mark.parametrize("products", [["--polygons", "w.gpkg", "--stats", "s.csv"],  # fails after the rasters
                                      ["--probability", "p.tif", "--stats", "s.csv"]])  # fails in the probability
def test_a_run_failing_on_a_full_disk_keeps_the_previous_outputs(file_size_limit, file_contents, scene, tmp_path,
                                                                  products):
    out = tmp_path / "out"
    args = [*otsu(scene, out / "o.tif"), *[str(out / p) if "." in p else p for p in products]]
    assert main(args) == 0
    before = file_contents(out)
    proc = subprocess.run([*FLOODKD, *args, "--threshold", "0.3"], capture_output=True, text=True,
                          preexec_fn=file_size_limit(100_000))
    assert proc.returncode == 2, proc.stderr
    assert "floodkd: error:" in proc.stderr and "Traceback" not in proc.stderr
    assert file_contents(out) == before  # neither lost nor mixed: every old product byte for byte, nothing added


def test_a_destination_in_use_by_another_run_is_refused(scene, tmp_path, capsys):
    out = tmp_path / "o.tif"
    out.write_bytes(b"a previous result")
    lock = DestinationLock(str(out))
    lock.acquire()  # as another run (process or QGIS thread) does for its whole length
    try:
        assert main(otsu(scene, tmp_path / "other.tif", "--probability", out)) == 2
        assert f"another floodkd run (process {os.getpid()}" in capsys.readouterr().err
    finally:
        lock.release()
    assert out.read_bytes() == b"a previous result" and not (tmp_path / "other.tif").exists()
    assert main(otsu(scene, tmp_path / "other.tif", "--probability", out)) == 0


def mosaic(scene, path, n=8):
    """A 4096 x 4096 VRT of n x n copies of a real 512 px chip (a run long enough to interrupt)."""
    import rasterio

    with rasterio.open(scene) as ds:
        w, h, t, wkt = ds.width, ds.height, ds.transform, ds.crs.to_wkt()
    bands = "".join(
        f'<VRTRasterBand dataType="Float32" band="{b}">' + "".join(
            f'<SimpleSource><SourceFilename relativeToVRT="0">{scene}</SourceFilename><SourceBand>{b}</SourceBand>'
            f'<SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>'
            f'<DstRect xOff="{i * w}" yOff="{j * h}" xSize="{w}" ySize="{h}"/></SimpleSource>'
            for i in range(n) for j in range(n)) + "</VRTRasterBand>" for b in (1, 2))
    path.write_text(f'<VRTDataset rasterXSize="{w * n}" rasterYSize="{h * n}"><SRS>{wkt}</SRS>'
                    f'<GeoTransform>{t.c},{t.a},0,{t.f},0,{t.e}</GeoTransform>{bands}</VRTDataset>')
    return path


def start_and_interrupt(scene, out, sig):
    """Start a CLI run on a big mosaic, send ``sig`` once it is writing; return (process, temp files seen)."""
    big = mosaic(scene, out.parent.parent / "mosaic.vrt")
    proc = subprocess.Popen([*FLOODKD, *otsu(big, out, "--probability", out.with_name("p.tif"))],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        parts = [p for p in out.parent.glob(".floodkd-*.part") if p.stat().st_size > 100_000]
        if parts:
            proc.send_signal(sig)
            proc.wait(60)
            return proc, parts
        time.sleep(0.01)
    proc.kill()
    pytest.fail(f"the run ended before it was interrupted: {proc.communicate()[1][-2000:]}")


def test_kill_9_leaves_temporary_files_that_the_next_run_removes(scene, tmp_path):
    out = tmp_path / "out" / "o.tif"
    out.parent.mkdir()
    out.write_bytes(b"a previous result")
    proc, parts = start_and_interrupt(scene, out, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert all(p.exists() for p in parts) and out.read_bytes() == b"a previous result"
    assert main(otsu(scene, out)) == 0  # neither the dead run's lock nor its files stand in the way
    assert sorted(p.name for p in out.parent.iterdir()) == ["o.tif"]


def test_sigterm_cancels_and_removes_the_runs_temporary_files(scene, tmp_path):
    out = tmp_path / "out" / "o.tif"
    out.parent.mkdir()
    out.write_bytes(b"a previous result")
    proc, _ = start_and_interrupt(scene, out, signal.SIGTERM)
    assert proc.returncode == 130 and "cancelled" in proc.stderr.read()
    assert sorted(p.name for p in out.parent.iterdir()) == ["o.tif"] and out.read_bytes() == b"a previous result"
