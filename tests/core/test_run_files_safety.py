"""Lock and temporary files never follow links, fit NAME_MAX and explain what blocks them (issue 16)."""
import errno
import hashlib
import os
import shutil
import socket
import subprocess
import sys

import pytest

from floodkd.core.errors import InputError
from floodkd.core.io import run_files
from floodkd.core.io.run_files import HOST, DestinationLock, clean_stale_files, lock_name
from floodkd.core.segment import SegmentOptions, segment_scene


def otsu(scene, out, **products):
    return segment_scene(str(scene), str(out), SegmentOptions(method="otsu"), **products)


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symlinked_lock_file_is_refused_and_its_target_untouched(spain_s1, tmp_path, dangling):
    target = tmp_path / "elsewhere" / "victim.txt"
    target.parent.mkdir()
    if not dangling:
        target.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".o.tif.floodkd-lock").symlink_to(target)
    with pytest.raises(InputError, match="symbolic link"):
        otsu(spain_s1, out / "o.tif")
    assert (target.read_text() == "precious") if not dangling else not target.exists()
    assert sorted(os.listdir(out)) == [".o.tif.floodkd-lock"]


def test_a_hard_linked_lock_file_is_refused_and_not_truncated(spain_s1, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.link(victim, tmp_path / ".o.tif.floodkd-lock")
    with pytest.raises(InputError, match="hard link"):
        otsu(spain_s1, tmp_path / "o.tif")
    assert victim.read_text() == "precious"


def test_a_folder_named_like_a_lock_blocks_only_its_destination_with_a_clear_message(spain_s1, tmp_path):
    (tmp_path / ".o.tif.floodkd-lock").mkdir()
    with pytest.raises(InputError, match="a folder of that name is in the way") as info:
        otsu(spain_s1, tmp_path / "o.tif")
    assert "Errno" not in str(info.value)
    otsu(spain_s1, tmp_path / "other.tif")  # the cleaner skips it; other destinations still work
    assert (tmp_path / "other.tif").exists()


def test_a_lock_of_another_user_gets_a_clear_message(tmp_path, monkeypatch):
    lock = tmp_path / ".o.tif.floodkd-lock"
    lock.write_text("floodkd run: process 1 on elsewhere")
    real_open = os.open

    def denied(path, flags, *args, **kwargs):  # what a non-root user meets on another user's 0600 lock
        if os.fspath(path) == str(lock):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(run_files.os, "open", denied)
    with pytest.raises(InputError, match="belongs to .* cannot open or remove it") as info:
        DestinationLock(str(tmp_path / "o.tif")).acquire()
    assert "Errno" not in str(info.value)
    assert clean_stale_files(str(tmp_path)) == 0  # the cleaner does not fail on it either


def test_a_leftover_lock_is_replaced_by_a_new_file_not_truncated(tmp_path):
    lock_file = tmp_path / ".o.tif.floodkd-lock"
    lock_file.write_text("floodkd run: process 1 on elsewhere")
    with open(lock_file) as old:  # the leftover's inode, whatever happens to its name
        lock = DestinationLock(str(tmp_path / "o.tif"))
        lock.acquire()
        try:
            assert f"process {os.getpid()}" in lock_file.read_text()
            assert old.read() == "floodkd run: process 1 on elsewhere"  # never truncated or written
        finally:
            lock.release()
    assert not lock_file.exists()


def test_a_full_disk_while_taking_the_lock_leaves_no_lock_file(tmp_path, monkeypatch):
    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(run_files.os, "write", full)
    with pytest.raises(InputError, match="disk is full"):
        DestinationLock(str(tmp_path / "o.tif")).acquire()
    assert os.listdir(tmp_path) == []


def test_legal_250_character_names_work(spain_s1, tmp_path):
    name = "f" * 246 + ".tif"
    assert len(name) == 250 and len(lock_name(name)) <= 255
    result = otsu(spain_s1, tmp_path / name, stats_path=str(tmp_path / ("s" * 245 + ".json")))
    assert result.valid_pixels > 0
    assert sorted(os.listdir(tmp_path)) == sorted([name, "s" * 245 + ".json"])


def test_lock_names_of_long_names_differ_and_stay_within_name_max():
    a, b = "a" * 250 + "1.tif", "a" * 250 + "2.tif"
    assert lock_name(a) != lock_name(b)
    assert max(len(lock_name(a).encode()), len(lock_name(b).encode())) <= 255
    assert lock_name("o.tif") == ".o.tif.floodkd-lock"


def test_temp_names_tell_pid_namespaces_apart():
    legacy = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]
    assert HOST != legacy  # the tag is not the host name alone
    if not shutil.which("unshare"):
        pytest.skip("unshare not available")
    proc = subprocess.run(["unshare", "--pid", "--fork", sys.executable, "-c",
                           "from floodkd.core.io.run_files import HOST; print(HOST)"],
                          capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"cannot make a PID namespace here: {proc.stderr.strip()[:200]}")
    assert proc.stdout.strip() not in ("", HOST)


def test_staged_files_are_created_new_and_never_through_a_link(spain_s1, tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    real = run_files.temp_path
    planted = []

    def predictable(folder, suffix):  # an attacker who guessed the first temporary name planted a link there
        path = real(folder, suffix)
        if not planted:
            os.symlink(victim, path)
            planted.append(path)
        return path

    monkeypatch.setattr(run_files, "temp_path", predictable)
    otsu(spain_s1, tmp_path / "o.tif", stats_path=str(tmp_path / "s.csv"))
    assert victim.read_text() == "precious"
    assert os.path.islink(planted[0])


def test_a_backup_copy_never_writes_through_a_planted_link(spain_s1, tmp_path, monkeypatch):
    from floodkd.core.io import publish

    otsu(spain_s1, tmp_path / "o.tif")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")

    def no_hard_links(*args, **kwargs):  # a file system without hard links: the backup is a copy
        raise OSError(1, "Operation not permitted")

    real = publish.temp_path

    def planted(folder, suffix):  # an attacker guessed the backup's name
        path = real(folder, suffix)
        if suffix == ".bak":
            os.symlink(victim, path)
        return path

    monkeypatch.setattr(publish.os, "link", no_hard_links)
    monkeypatch.setattr(publish, "temp_path", planted)
    with pytest.raises(FileExistsError):
        otsu(spain_s1, tmp_path / "o.tif")
    assert victim.read_text() == "precious"


@pytest.fixture
def shared_folder():
    """A folder every user may reach and write (pytest's own tmp is root's alone)."""
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="floodkd-shared-", dir="/tmp"))
    folder.chmod(0o1777)  # like /tmp: everyone writes, only owners remove
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_another_users_lock_blocks_with_a_clear_message_for_a_real_second_user(spain_s1, shared_folder):
    """As root: a lock of root's (0600) met by the user nobody, in a folder both may write."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to act as a second user")
    folder = shared_folder
    lock = folder / ".o.tif.floodkd-lock"
    lock.write_text("floodkd run: process 1 on elsewhere")
    lock.chmod(0o600)
    scene = folder / "scene.tif"
    scene.write_bytes(spain_s1.read_bytes())
    scene.chmod(0o644)
    code = ("import sys\nfrom floodkd.core.errors import InputError\nfrom floodkd.core.segment import segment_scene, "
            "SegmentOptions\ntry:\n    segment_scene(sys.argv[1], sys.argv[2], SegmentOptions(method='otsu'))\n"
            "except InputError as exc:\n    print(exc)\n    sys.exit(2)\n")
    env = dict(os.environ, HOME=str(folder))
    nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c"]
    probe = subprocess.run(nobody + ["import floodkd.core.segment"], capture_output=True, text=True, env=env)
    if probe.returncode:
        pytest.skip(f"the user nobody cannot import floodkd here: {probe.stderr[-300:]}")
    proc = subprocess.run(nobody + [code, str(scene), str(folder / "o.tif")], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 2 and "belongs to user root" in proc.stdout, proc.stdout + proc.stderr
    assert "Errno" not in proc.stdout
    ok = subprocess.run(nobody + [code, str(scene), str(folder / "other.tif")], capture_output=True, text=True,
                        env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr  # only that destination is blocked
