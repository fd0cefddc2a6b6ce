"""A run's temporary files beside its destinations, and the lock that keeps two runs off one destination.

Every temporary file a run writes is named ``.floodkd-<host>-<pid>-<random><suffix>``:
a later run on the same machine tells from the name whether the process that
wrote it is still alive, and removes the files of dead ones (a run killed with
kill -9 cannot clean up after itself). ``<host>`` hashes the host name and the
PID namespace, so files of other machines (a shared network folder) and of
other containers on this machine (whose pids mean other processes) are never
touched.

A destination is locked by ``.<name>.floodkd-lock`` beside it (a shortened
name with a hash when that would exceed the file-name limit), held with an
OS file lock (flock; LockFileEx on Windows) for the whole run. The operating
system releases it when the process dies, so a killed run never blocks later
ones; the file only says which process holds it.

Lock and temporary files are only ever created new (O_CREAT | O_EXCL |
O_NOFOLLOW): a symbolic link, hard link, folder or any existing file of that
name is never written through, truncated or followed.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import socket
import stat
import time

from ..errors import InputError

PREFIX = ".floodkd-"
LOCK_SUFFIX = ".floodkd-lock"


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:  # not Linux: one namespace
        return ""


HOST = hashlib.sha1((socket.gethostname() + "/" + _pid_namespace()).encode()).hexdigest()[:6]
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# Longest file name most file systems take (ext4, xfs, btrfs, NTFS: 255 bytes).
NAME_MAX = 255
_TEMP_NAME = re.compile(r"^\.floodkd-([0-9a-f]{6})-(\d+)-")


def temp_path(folder: str, suffix: str) -> str:
    """A fresh temporary path in ``folder`` that names this host and process."""
    return os.path.join(folder, f"{PREFIX}{HOST}-{os.getpid()}-{secrets.token_hex(4)}{suffix}")


def create_new(path: str, mode: int = 0o666) -> int:
    """Open a new file at ``path`` for writing (O_EXCL | O_NOFOLLOW): never an existing file or a link."""
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | NOFOLLOW | getattr(os, "O_BINARY", 0), mode)


def create_temp(folder: str, suffix: str, mode: int = 0o666) -> tuple:
    """``(fd, path)`` of a new temporary file in ``folder`` (exclusively created, see :func:`temp_path`)."""
    for _ in range(100):
        path = temp_path(folder, suffix)
        try:
            return create_new(path, mode), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", folder)


def write_new_text(path: str, text: str) -> None:
    """Write ``text`` into a new file ``path`` (exclusive creation; removed again if writing fails)."""
    fd = create_new(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    except BaseException:
        try:
            os.remove(path)
        except OSError:
            pass
        raise


def lock_name(name: str) -> str:
    """``.<name>.floodkd-lock``, shortened with a hash of ``name`` when it would exceed NAME_MAX bytes."""
    full = f".{name}{LOCK_SUFFIX}"
    if len(full.encode("utf-8", "surrogateescape")) <= NAME_MAX:
        return full
    digest = hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    short = name.encode("utf-8", "surrogateescape")[:100].decode("utf-8", "ignore")
    return f".{short}-{digest}{LOCK_SUFFIX}"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine still runs (a zombie counts as dead)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() == 5  # access denied: it exists
        code = ctypes.c_ulong()
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return not ok or code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def clean_stale_files(folder: str) -> int:
    """Remove temporary files and free lock files left in ``folder`` by dead runs; return bytes freed."""
    freed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        path = os.path.join(folder, name)
        match = _TEMP_NAME.match(name)
        if match and match.group(1) == HOST and not pid_alive(int(match.group(2))):
            try:
                size = os.lstat(path).st_size
                os.remove(path)
                freed += size
            except OSError:
                pass
        elif name.startswith(".") and name.endswith(LOCK_SUFFIX):
            try:
                _remove_if_free(path)
            except OSError:  # another user's lock, a folder of that name: not ours to remove
                pass
    return freed


def _still_at(fd: int, path: str) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.lstat(path))
    except FileNotFoundError:
        return False


def _open_existing_lock(path: str) -> int:
    """A read-only descriptor of an existing lock file; OSError for links, folders, special files."""
    fd = os.open(path, os.O_RDONLY | NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        raise IsADirectoryError(errno.EISDIR, "not a lock file floodkd made", path)
    return fd


def _remove_if_free(path: str) -> bool:
    """Remove the leftover lock file ``path`` when nobody holds it; True if it was removed."""
    fd = _open_existing_lock(path)
    try:
        if not _try_os_lock(fd):
            return False
        try:
            if not os.path.samestat(os.fstat(fd), os.lstat(path)):
                return False
            os.remove(path)  # while locked: a waiting opener sees the inode is gone and retries
            return True
        finally:
            _unlock_os(fd)
    except FileNotFoundError:
        return False
    finally:
        os.close(fd)


def _try_os_lock(fd) -> bool:
    if os.name == "nt":
        import msvcrt

        os.lseek(fd, 1 << 20, os.SEEK_SET)  # lock a byte past the text, which stays readable
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _unlock_os(fd):
    if os.name == "nt":
        import msvcrt

        os.lseek(fd, 1 << 20, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


class DestinationLock:
    """Exclusive lock on one destination path for the length of a run."""

    def __init__(self, destination: str, lock_path: str | None = None):
        folder, name = os.path.split(os.path.abspath(destination))
        self.destination = destination
        self.path = lock_path or os.path.join(folder, lock_name(name))
        self.fd = None

    def try_acquire(self) -> bool:
        """Take the lock if free; False when another run (any process or thread) holds it.

        The lock file is only ever created new; a leftover of a killed run is
        removed (when nobody holds it) and created again. A link, folder or
        unreadable file of that name raises OSError.
        """
        for attempt in range(1000):
            try:
                fd = create_new(self.path, 0o644)
            except FileExistsError:
                try:
                    if not _remove_if_free(self.path) and os.path.lexists(self.path):
                        return False  # held by a live run
                except FileNotFoundError:
                    pass
                continue
            try:
                taken = _try_os_lock(fd) and _still_at(fd, self.path)
                if taken:
                    os.write(fd, f"floodkd run: process {os.getpid()} on {socket.gethostname()}\n".encode())
            except BaseException:
                os.close(fd)
                _remove_quietly(self.path)
                raise
            if taken:
                self.fd = fd
                return True
            # A cleaner held or removed our new file between its creation and our lock: try again.
            os.close(fd)
            time.sleep(0.001 * min(attempt, 20))
        return False

    def acquire(self, tries: int = 5):
        """Take the lock or raise InputError naming its holder (a cleaner may hold it for a moment)."""
        try:
            for attempt in range(tries):
                taken = self.try_acquire()
                if taken:
                    break
                time.sleep(0.05 * (attempt + 1))
        except OSError as exc:
            raise InputError(self._refusal(exc)) from None
        if not taken:
            raise InputError(
                f"another floodkd run ({self.holder()}) is writing {self.destination} right now; wait until "
                "it finishes or choose another destination. (Its lock is released when that process "
                f"ends, even if it is killed; {self.path} names the holder.)")

    def _refusal(self, exc: OSError) -> str:
        what = f"cannot take the lock {self.path} for {self.destination}"
        try:
            info = os.lstat(self.path)
        except OSError:
            info = None
        if info is not None and stat.S_ISLNK(info.st_mode):
            return (f"{what}: it is a symbolic link, and floodkd never writes through links. Remove it "
                    "(floodkd did not make it) or choose another destination.")
        if info is not None and (not stat.S_ISREG(info.st_mode) or info.st_nlink != 1):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else (
                "a hard link to another file" if stat.S_ISREG(info.st_mode) else "a special file")
            return (f"{what}: {kind} of that name is in the way (floodkd did not make it). Remove or rename "
                    "it, or choose another destination.")
        if exc.errno in (errno.EACCES, errno.EPERM) and info is not None:
            owner = _owner(self.path)
            return (f"{what}: it belongs to {owner} and this user cannot open or remove it. Another "
                    f"user's floodkd run may be writing there; if none is, ask {owner} (or an administrator) "
                    "to remove it, or choose another destination.")
        if exc.errno == errno.ENOSPC:
            return f"{what}: the disk is full. Free some space or choose a destination on another disk."
        return (f"cannot write into the folder of {self.destination} ({exc.strerror}); "
                "choose a destination in a folder you can write to.")

    def holder(self) -> str:
        try:
            fd = _open_existing_lock(self.path)
            with os.fdopen(fd, encoding="utf-8", errors="replace") as f:
                return f.read(300).strip().replace("floodkd run: ", "") or "unknown process"
        except OSError:
            return "unknown process"

    def release(self):
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        if os.name != "nt":  # remove while still locked: a waiting opener sees the new inode
            _remove_quietly(self.path)
        _unlock_os(fd)
        os.close(fd)
        if os.name == "nt":
            _remove_quietly(self.path)

def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _owner(path: str) -> str:
    try:
        uid = os.lstat(path).st_uid
    except OSError:
        return "another user"
    try:
        import pwd

        return f"user {pwd.getpwuid(uid).pw_name}"
    except (ImportError, KeyError):
        return f"user id {uid}"
