"""One polygon layer written into a GeoPackage, keeping the file's other layers.

GDAL's own bindings (``osgeo``) write it where they are importable (QGIS
always has them, with the same GDAL as QGIS); otherwise pyogrio does (wheels
with their own GDAL, for a pip install of rasterio alone). Either way the
layer of that name is replaced and every other layer is left as it was.
"""
from __future__ import annotations

import importlib.util
import os
import sqlite3
import struct
import warnings
from urllib.parse import quote

import numpy as np

from ..errors import InputError

GEOPACKAGE_IDS = (b"GPKG", b"GP10", b"GP11")  # SQLite application_id of GeoPackage 1.2+, 1.0, 1.1
FIELDS = ("class", "area_m2")


def is_geopackage(path: str) -> bool:
    """Whether the file at ``path`` is a GeoPackage (SQLite header and application id), from its first bytes."""
    with open(path, "rb") as f:
        head = f.read(72)
    return head.startswith(b"SQLite format 3\0") and head[68:72] in GEOPACKAGE_IDS


def wkb_polygon(rings) -> bytes:
    """Little-endian WKB of a polygon given as rings of (x, y) (GeoJSON coordinates)."""
    parts = [struct.pack("<BII", 1, 3, len(rings))]
    for ring in rings:
        parts.append(struct.pack("<I", len(ring)))
        parts.append(np.asarray(ring, "<f8").tobytes())
    return b"".join(parts)


def copy_geopackage(source: str, target: str, what: str):
    """A consistent copy of ``source`` at ``target`` (SQLite's backup reads through a live -wal), rollback-journaled.

    Rollback mode matters: ``target`` replaces ``source`` by a rename, and SQLite would
    replay a -wal left beside the old file onto a new file that is in WAL mode.
    """
    # Reading a WAL-mode file read-only makes SQLite create -shm (and -wal) beside it and
    # leave them: a failed run must add nothing there. Without a -wal to read through,
    # the file is opened immutable (no side files); side files this call made go again.
    beside = [source + "-wal", source + "-shm"]
    existed = {p for p in beside if os.path.lexists(p)}
    mode = "mode=ro" if existed else "mode=ro&immutable=1"
    try:
        src = sqlite3.connect(f"file:{quote(os.path.abspath(source))}?{mode}", uri=True)
        src.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        _remove_new(beside, existed)
        raise InputError(f"cannot read the GeoPackage {source} to keep its other layers ({exc}); "
                         "choose another destination for the polygons.") from exc
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:  # a full disk, a read-only folder
        raise OSError(f"writing {what} failed: copying the GeoPackage's other layers: {exc}") from exc
    finally:
        src.close()
        _remove_new(beside, existed)


def _remove_new(paths, existed):
    """Remove the regular files among ``paths`` that were not there before (never through a link)."""
    for p in paths:
        if p not in existed and os.path.isfile(p) and not os.path.islink(p):
            os.remove(p)


WRITER_MISSING = ("writing flood polygons needs GDAL's Python bindings (osgeo, as in QGIS) or pyogrio: "
                  'pip install "floodkd[polygons]" (or leave out --polygons / OUTPUT_POLYGONS)')


def check_writer_available():
    """Raise InputError, before any work, when neither GDAL's bindings nor pyogrio can be imported."""
    for name in ("osgeo", "pyogrio"):
        try:
            if importlib.util.find_spec(name) is not None:  # None also when sys.modules blocks it
                return
        except (ImportError, ValueError):
            pass
    raise InputError(WRITER_MISSING)


def layer_writer(path: str, layer: str, crs_wkt: str | None, what: str):
    """A writer of ``layer`` in ``path`` (created if missing): GDAL's bindings where importable, else pyogrio."""
    try:
        from osgeo import ogr  # noqa: F401
    except ImportError:
        return PyogrioWriter(path, layer, crs_wkt, what)
    return OgrWriter(path, layer, crs_wkt, what)


class PyogrioWriter:
    """Chunks of features through pyogrio: the first replaces the layer, later ones append."""

    def __init__(self, path, layer, crs_wkt, what):
        self.path, self.layer, self.crs, self.what = path, layer, crs_wkt, what
        self.started = False

    def __enter__(self):
        try:
            with warnings.catch_warnings():  # pyogrio imports a system pyproj, if any, which may warn
                warnings.simplefilter("ignore")
                from pyogrio.raw import write
        except ImportError as exc:
            raise InputError(WRITER_MISSING) from exc
        self._write = write
        return self

    def add(self, wkbs, classes, areas):
        try:
            self._write(self.path, np.array(wkbs, dtype=object), [np.asarray(classes, np.int32),
                        np.asarray(areas, np.float64)], fields=list(FIELDS), layer=self.layer, driver="GPKG",
                        crs=self.crs, geometry_type="Polygon", append=self.started, promote_to_multi=False)
        except Exception as exc:  # pyogrio's DataSourceError and friends: a full disk, a read-only folder
            raise OSError(f"writing {self.what} failed: {exc}") from exc
        self.started = True

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and not self.started:
            self.add([], [], [])  # an empty layer: no water, but the layer exists
        return False


class OgrWriter:
    """The layer through GDAL's bindings, in one transaction."""

    def __init__(self, path, layer, crs_wkt, what):
        self.path, self.layer, self.crs, self.what = path, layer, crs_wkt, what

    def __enter__(self):
        from osgeo import ogr, osr

        self._ogr = ogr
        exists = os.path.exists(self.path) and os.path.getsize(self.path) > 0
        self.ds = ogr.Open(self.path, 1) if exists else ogr.GetDriverByName("GPKG").CreateDataSource(self.path)
        self._check(self.ds is not None, "cannot open the GeoPackage")
        for i in range(self.ds.GetLayerCount()):
            if self.ds.GetLayerByIndex(i).GetName() == self.layer:
                self._check(self.ds.DeleteLayer(i) == 0, f"cannot replace its layer {self.layer}")
                break
        srs = None
        if self.crs:
            srs = osr.SpatialReference()
            srs.ImportFromWkt(self.crs)
            srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        self.lyr = self.ds.CreateLayer(self.layer, srs=srs, geom_type=ogr.wkbPolygon)
        self._check(self.lyr is not None, f"cannot create its layer {self.layer}")
        self.lyr.CreateField(ogr.FieldDefn(FIELDS[0], ogr.OFTInteger))
        self.lyr.CreateField(ogr.FieldDefn(FIELDS[1], ogr.OFTReal))
        self._check(self.lyr.StartTransaction() == 0, "cannot start a transaction")
        return self

    def _check(self, ok, what):
        if not ok:
            from osgeo import gdal

            raise OSError(f"writing {self.what} failed: {what} ({gdal.GetLastErrorMsg()})")

    def add(self, wkbs, classes, areas):
        defn = self.lyr.GetLayerDefn()
        for wkb, value, area in zip(wkbs, classes, areas):
            feature = self._ogr.Feature(defn)
            feature.SetField(FIELDS[0], int(value))
            feature.SetField(FIELDS[1], float(area))
            feature.SetGeometry(self._ogr.CreateGeometryFromWkb(wkb))
            self._check(self.lyr.CreateFeature(feature) == 0, "cannot add a polygon")

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self._check(self.lyr.CommitTransaction() == 0, "cannot commit the polygons")
                self.ds.FlushCache()
        finally:
            self.lyr = None
            self.ds = None
        return False
