"""Publish a run's products together or not at all.

A :class:`Publication` checks the destinations (core/io/destinations.py), locks
them against other runs and removes what killed runs left in their folders,
all before any work. Products are then written under temporary names beside
their destinations (:meth:`Publication.stage`); :meth:`Publication.commit`
renames the whole set into place at the end, after an optional ``style`` hook
(QGIS) has styled the staged files. If a rename fails, the ones already done
are undone, so the previous files come back. A failing or cancelled run
removes only its own temporary files: what was there before stays untouched.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager

from .destinations import Destinations, style_sidecar
from ..errors import InputError
from ..progress import Progress
from .raster_io import AtomicRaster
from .run_files import DestinationLock, clean_stale_files, create_new, temp_path, write_new_text

# Files beside a product that would describe the replaced one: GDAL's histograms and overviews of a
# raster; SQLite's write-ahead log of a GeoPackage (replayed onto the new file, it would corrupt it).
STALE_BESIDE = {".tif": (".aux.xml", ".ovr"), ".tiff": (".aux.xml", ".ovr"), ".gpkg": ("-wal", "-shm")}


class Publication:
    """Staged products of one run, published by :meth:`commit` (use as a context manager).

    ``style(kind, staged_path)``, when given, is called at commit for the
    class raster ('classes'), probability ('probability') and polygons
    ('polygons'); it may style the staged file in place and may return QML
    text, published as the destination's ``.qml`` sidecar.
    """

    def __init__(self, destinations: Destinations, inputs: dict, style=None, progress: Progress | None = None):
        self.destinations = destinations
        self.inputs = inputs
        self.style = style
        self.progress = progress or Progress()
        self._staged = {}  # final path -> temporary path
        self._scratch = []
        self._locks = []
        self._created = []  # folders this run made (removed again if it fails and they are empty)
        self.committed = False

    def __enter__(self):
        self.destinations.check(self.inputs)
        try:
            for folder in sorted({os.path.dirname(os.path.abspath(p)) for _, p in self.destinations.named()}):
                self._make_folder(folder)
            for folder in sorted({os.path.dirname(os.path.abspath(p)) for _, p in self.destinations.named()}):
                freed = clean_stale_files(folder)
                if freed:
                    self.progress.info(f"removed {freed / 1e6:.1f} MB of temporary files left in {folder} "
                                       "by floodkd runs that were killed")
            for _, path in self.destinations.named():
                lock = DestinationLock(path)
                lock.acquire()
                self._locks.append(lock)
        except BaseException:
            self._close(failed=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self._close(failed=not self.committed)
        return False

    def _make_folder(self, folder):
        missing = []
        while folder and not os.path.isdir(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        for path in reversed(missing):
            try:
                os.mkdir(path)
            except OSError as exc:
                users = [p for _, p in self.destinations.named() if os.path.abspath(p).startswith(path)]
                why = "a file has that name" if os.path.lexists(path) else exc.strerror
                raise InputError(f"cannot create the folder {path} for {', '.join(users)} ({why}); "
                                 "choose a destination in a folder you can write to.") from exc
            self._created.append(path)

    def stage(self, final: str) -> str:
        """The temporary path to write ``final``'s product to (same folder and extension)."""
        final = os.path.abspath(final)
        if final not in self._staged:
            self._staged[final] = temp_path(os.path.dirname(final), os.path.splitext(final)[1])
        return self._staged[final]

    def raster(self, final: str, cog_resampling=None, **profile) -> AtomicRaster:
        """A GeoTIFF being written for ``final`` (a context manager giving the rasterio dataset)."""
        return AtomicRaster(self.stage(final), cog_resampling, display_name=final, **profile)

    def staged(self, final: str) -> str:
        return self._staged[os.path.abspath(final)]

    def scratch(self, suffix: str) -> str:
        """A temporary file beside OUTPUT that is never published (removed at the end)."""
        path = temp_path(os.path.dirname(os.path.abspath(self.destinations.output)), suffix)
        self._scratch.append(path)
        return path

    def _apply_style(self):
        for role, kind in self.destinations.STYLE_KINDS.items():
            final = getattr(self.destinations, role)
            if final and os.path.abspath(final) in self._staged:
                staged = self.staged(final)
                if role == "polygons":  # QGIS's layer syntax: the style goes to the run's layer
                    staged = f"{staged}|layername={self.destinations.polygons_layer}"
                qml = self.style(kind, staged)
                if qml:  # published with the products; the staged name is created new (never a link)
                    write_new_text(self.stage(style_sidecar(final)), qml)

    def write_text(self, final: str, text: str):
        """Stage ``text`` as the product ``final`` (a new file: never written through a link)."""
        write_new_text(self.stage(final), text)

    def commit(self, every: bool = True):
        """Rename every staged product into place; on any failure put the previous files back.

        ``every=False`` publishes what was staged so far (a training epoch) and
        keeps the locks for the next commit.
        """
        if self.style is not None:
            self._apply_style()
        for role, final in self.destinations.named() if every else ():
            if os.path.abspath(final) not in self._staged:
                raise RuntimeError(f"{role} {final} was not written")  # an engine bug, never published
        plan = list(self._staged.items())
        for final, _ in list(plan):
            stale = STALE_BESIDE.get(os.path.splitext(final)[1].lower(), ())
            plan += [(final + s, None) for s in stale if os.path.lexists(final + s)]
        done = []
        try:
            for final, staged in plan:
                done.append((final, _backup(final)))
                if staged is None:
                    os.remove(final)
                else:
                    os.replace(staged, final)
        except BaseException:
            for final, backup in reversed(done):
                _restore(final, backup)
            raise
        for _, backup in done:
            if backup:
                _remove(backup)
        self._staged = {}
        self.committed = True

    def _close(self, failed):
        for path in list(self._staged.values()) + self._scratch:
            for p in (path, path + ".aux.xml", path + "-journal", path + "-wal", path + "-shm"):
                _remove(p)
        for lock in self._locks:
            lock.release()
        self._locks = []
        if failed:
            for folder in reversed(self._created):
                try:
                    os.rmdir(folder)
                except OSError:
                    break


def _backup(final):
    """A second name for the file at ``final`` (a hard link, else a copy); None if there is none."""
    if not os.path.lexists(final):
        return None
    backup = temp_path(os.path.dirname(final), ".bak")
    try:
        if os.link in os.supports_follow_symlinks:  # keep a symlink a symlink
            os.link(final, backup, follow_symlinks=False)
        else:
            os.link(final, backup)
    except OSError:
        if os.path.islink(final):
            os.symlink(os.readlink(final), backup)
        else:  # a copy into a file created new (never through a link planted at that name)
            with open(final, "rb") as src, os.fdopen(create_new(backup), "wb") as dst:
                shutil.copyfileobj(src, dst)
            shutil.copystat(final, backup)
    return backup


def _restore(final, backup):
    try:
        if backup:
            os.replace(backup, final)
        else:
            _remove(final)
    except OSError:
        pass


def _remove(path):
    try:
        os.remove(path)
    except OSError:  # already gone; never let clean-up hide the error that stopped the run
        pass


@contextmanager
def publishing(destinations: Destinations, inputs: dict, style=None, progress=None, publication=None):
    """A Publication for one run, committed when the block ends without error.

    With ``publication`` (a caller such as change mode that publishes itself),
    that one is used as it is and not committed here.
    """
    if publication is not None:
        yield publication
        return
    with Publication(destinations, inputs, style, progress) as pub:
        yield pub
        pub.commit()
