"""Publishing a run's products together or not at all (core/io/publish.py, core/io/run_files.py)."""
import os
import subprocess
import sys

import pytest

from floodkd.core.io import publish
from floodkd.core.io.destinations import Destinations
from floodkd.core.errors import InputError
from floodkd.core.io.publish import Publication
from floodkd.core.io.run_files import HOST, DestinationLock, clean_stale_files, temp_path
from floodkd.core.segment import SegmentOptions, segment_scene


def snapshot(folder):
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


def run_all_products(scene, folder, threshold=0.5):
    return segment_scene(str(scene), str(folder / "o.tif"), SegmentOptions(method="otsu", threshold=threshold),
                         str(folder / "p.tif"), None, str(folder / "w.gpkg"), str(folder / "s.json"),
                         str(folder / "q.png"))


@pytest.mark.parametrize("failing", ["polygonize_water", "write_stats", "write_quicklook"])
def test_failing_product_step_keeps_the_previous_outputs(spain_s1, tmp_path, monkeypatch, failing):
    run_all_products(spain_s1, tmp_path)
    before = snapshot(tmp_path)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(f"floodkd.core.products.derived.{failing}", disk_full)
    with pytest.raises(OSError, match="No space"):
        run_all_products(spain_s1, tmp_path, threshold=0.3)
    assert snapshot(tmp_path) == before  # old products intact, no temporary or lock file left


def test_a_failed_rename_puts_back_what_was_already_replaced(tmp_path, monkeypatch):
    a, b = tmp_path / "a.tif", tmp_path / "b.tif"
    a.write_bytes(b"old a")
    a_aux = tmp_path / "a.tif.aux.xml"
    a_aux.write_text("<PAMDataset/>")  # statistics of the old a.tif: removed on success, kept here
    real_replace, calls = os.replace, []

    def replace_failing_second(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise PermissionError(13, "file in use")
        real_replace(src, dst)

    with Publication(Destinations(str(a), str(b)), {}) as pub:
        for final in (a, b):
            with open(pub.stage(str(final)), "wb") as f:
                f.write(b"new")
        monkeypatch.setattr(publish.os, "replace", replace_failing_second)
        with pytest.raises(PermissionError):
            pub.commit()
        monkeypatch.setattr(publish.os, "replace", real_replace)
    assert a.read_bytes() == b"old a" and not b.exists() and a_aux.exists()
    assert sorted(os.listdir(tmp_path)) == ["a.tif", "a.tif.aux.xml"]


def test_commit_replaces_the_set_and_stale_statistics(tmp_path):
    a = tmp_path / "a.tif"
    a.write_bytes(b"old")
    (tmp_path / "a.tif.aux.xml").write_text("<PAMDataset/>")
    with Publication(Destinations(str(a)), {}, style=lambda kind, path: f"<qgis>{kind}</qgis>") as pub:
        with open(pub.stage(str(a)), "wb") as f:
            f.write(b"new")
        pub.commit()
    assert a.read_bytes() == b"new" and (tmp_path / "a.qml").read_text() == "<qgis>classes</qgis>"
    assert sorted(os.listdir(tmp_path)) == ["a.qml", "a.tif"]


def test_a_destination_is_locked_for_the_run(tmp_path):
    out = tmp_path / "o.tif"
    with Publication(Destinations(str(out)), {}):
        assert (tmp_path / ".o.tif.floodkd-lock").exists()
        with pytest.raises(InputError, match=f"another floodkd run \\(process {os.getpid()} .*writing"):
            with Publication(Destinations(str(tmp_path / "x.tif"), str(out)), {}):
                pass
        assert not (tmp_path / ".x.tif.floodkd-lock").exists()  # the refused run released what it took
    assert os.listdir(tmp_path) == []
    lock = DestinationLock(str(out))
    lock.acquire()
    lock.release()


def dead_pid():
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_stale_files_of_dead_processes_are_removed_and_no_others(tmp_path):
    pid = dead_pid()
    dead = tmp_path / f".floodkd-{HOST}-{pid}-0123abcd.tif.part"
    dead_gpkg = tmp_path / f".floodkd-{HOST}-{pid}-4567cdef.gpkg-journal"
    live = tmp_path / os.path.basename(temp_path(str(tmp_path), ".tif.part"))
    other_host = tmp_path / f".floodkd-{'0' * 6 if HOST != '0' * 6 else '1' * 6}-{pid}-0123abcd.tif.part"
    user_file = tmp_path / ".floodkd-notes.txt"
    for path in (dead, dead_gpkg, live, other_host, user_file):
        path.write_bytes(b"x" * 100)
    (tmp_path / ".old.tif.floodkd-lock").write_text("floodkd run: process 1 on elsewhere")  # nobody holds it
    assert clean_stale_files(str(tmp_path)) == 200
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in (live, other_host, user_file))


def test_change_mode_checks_pre_flood_before_any_work(spain_s1, tmp_path):
    from floodkd.core.change import segment_change

    pre = tmp_path / "pre.tif"
    pre.write_bytes(spain_s1.read_bytes())
    with pytest.raises(InputError, match="same file as PRE_FLOOD"):
        segment_change(str(pre), str(spain_s1), str(tmp_path / "sub" / ".." / "pre.tif"), SegmentOptions(method="otsu"))
    assert pre.read_bytes() == spain_s1.read_bytes() and os.listdir(tmp_path) == ["pre.tif"]
