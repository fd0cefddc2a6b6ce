"""A run's temporary files beside its destinations, and the lock that keeps two runs off one destination.

Every temporary file a run writes is named ``.floodkd-<host>-<pid>-<random><suffix>``:
a later run on the same machine tells from the name whether the process that
wrote it is still alive, and removes the files of dead ones (a run killed with
kill -9 cannot clean up after itself). Files of live runs and of other
machines (a shared network folder) are never touched.

A destination is locked by ``.<name>.floodkd-lock`` beside it, held with an
OS file lock (flock; LockFileEx on Windows) for the whole run. The operating
system releases it when the process dies, so a killed run never blocks later
ones; the file only says which process holds it.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import time

from ..errors import InputError

PREFIX = ".floodkd-"
LOCK_SUFFIX = ".floodkd-lock"
HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]
_TEMP_NAME = re.compile(r"^\.floodkd-([0-9a-f]{6})-(\d+)-")


def temp_path(folder: str, suffix: str) -> str:
    """A fresh temporary path in ``folder`` that names this host and process."""
    return os.path.join(folder, f"{PREFIX}{HOST}-{os.getpid()}-{secrets.token_hex(4)}{suffix}")


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
                size = os.path.getsize(path)
                os.remove(path)
                freed += size
            except OSError:
                pass
        elif name.startswith(".") and name.endswith(LOCK_SUFFIX):
            lock = DestinationLock(path, lock_path=path)
            if lock.try_acquire():  # nobody holds it: a leftover of a killed run
                lock.release()
    return freed


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
        self.path = lock_path or os.path.join(folder, f".{name}{LOCK_SUFFIX}")
        self.fd = None

    def try_acquire(self) -> bool:
        """Take the lock if free; False when another run (any process or thread) holds it."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            if not _try_os_lock(fd):
                os.close(fd)
                return False
            try:  # its previous holder may have removed the file between our open and lock
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, f"floodkd run: process {os.getpid()} on {socket.gethostname()}\n".encode())
                return True
            _unlock_os(fd)
            os.close(fd)

    def acquire(self, tries: int = 5):
        """Take the lock or raise InputError naming its holder (a cleaner may hold it for a moment)."""
        try:
            for attempt in range(tries):
                taken = self.try_acquire()
                if taken:
                    break
                time.sleep(0.05 * (attempt + 1))
        except OSError as exc:
            raise InputError(f"cannot write into the folder of {self.destination} ({exc.strerror}); "
                             "choose a destination in a folder you can write to.") from exc
        if not taken:
            raise InputError(
                f"another floodkd run ({self.holder()}) is writing {self.destination} right now; wait until "
                "it finishes or choose another destination. (Its lock is released when that process "
                f"ends, even if it is killed; {self.path} names the holder.)")

    def holder(self) -> str:
        try:
            with open(self.path) as f:
                return f.read().strip().replace("floodkd run: ", "") or "unknown process"
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
