"""The one place where a run's destination paths are checked, before any work.

Every front end (CLI, QGIS Processing, change mode) goes through
:func:`check_destinations` via :class:`core.publish.Publication`. It refuses:
an empty OUTPUT; a destination that is an existing folder or not a regular
file; a wrong file type (OUTPUT and the probability must be GeoTIFFs); two
destinations that are the same file (also through symlinks, hard links or
another spelling), including their QGIS style sidecars; and a destination that
is one of the run's inputs or a file an input reads (the sources of a VRT).
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from ..errors import InputError
from ..products.polygons import check_polygons_path, split_layer
from ..products.stats import check_stats_path

GEOTIFF_EXTENSIONS = (".tif", ".tiff")


@dataclass(frozen=True)
class Destinations:
    """Where a run's products go; None = not written."""

    output: str
    probability: str | None = None
    polygons: str | None = None
    stats: str | None = None
    quicklook: str | None = None
    polygons_layer: str | None = None  # from QGIS's "x.gpkg|layername=flood" (set from ``polygons``)

    LABELS = {"output": "OUTPUT", "probability": "the probability (--probability, OUTPUT_PROBABILITY)",
              "polygons": "the polygons (--polygons, OUTPUT_POLYGONS)",
              "stats": "the statistics (--stats, OUTPUT_STATS)", "quicklook": "the quick-look (--quicklook)"}
    STYLE_KINDS = {"output": "classes", "probability": "probability", "polygons": "polygons"}

    def __post_init__(self):
        if self.polygons:  # the file is what is checked, locked and published; the layer goes with it
            path, layer = split_layer(self.polygons)
            object.__setattr__(self, "polygons", path)
            object.__setattr__(self, "polygons_layer", self.polygons_layer or layer)

    def named(self):
        """``[(role, path)]`` of the destinations that are set, OUTPUT first."""
        roles = ("output", "probability", "polygons", "stats", "quicklook")
        return [(r, getattr(self, r)) for r in roles if getattr(self, r)]

    def check(self, inputs: dict):
        check_destinations(self, inputs)


@dataclass(frozen=True)
class Files:
    """The destinations of a command other than segment (evaluate, quicklook, training).

    ``paths``: ``((label, path, extensions), ...)``; ``label`` names the option
    in messages (e.g. "--csv (OUTPUT_CSV)"), ``extensions`` the endings
    allowed (empty: any). ``protect``: folders (datasets) whose existing
    files no destination may be.
    """

    paths: tuple
    protect: tuple = ()
    STYLE_KINDS = {}

    def named(self):
        return [(label, path) for label, path, _ in self.paths if path]

    @property
    def output(self):
        return self.named()[0][1]

    def check(self, inputs: dict):
        check_files(self, inputs)


def style_sidecar(path: str) -> str:
    """The ``.qml`` file QGIS reads as a raster's default style (``out.tif`` -> ``out.qml``)."""
    return os.path.splitext(path)[0] + ".qml"


def _key(path: str) -> str:
    return os.path.normcase(os.path.realpath(os.path.abspath(path)))


def same_file(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` are one file (symlinks, hard links, another spelling)."""
    return _same_file(a, b)


def _same_file(a: str, b: str) -> bool:
    if _key(a) == _key(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links, case-insensitive file systems
    except OSError:
        return False


def _files_read_by(path: str):
    """``path`` and, for a raster, every file GDAL reads for it (a VRT's sources, a .aux.xml)."""
    files = [path]
    if os.path.splitext(path)[1].lower() in (".pt", ".pth", ".onnx"):
        return files
    import rasterio

    try:
        with rasterio.Env(), rasterio.open(path) as ds:  # rasterio's handler keeps GDAL's errors off stderr
            files += list(ds.files or [])
    except Exception:  # an unreadable input is reported later, by the code that reads it
        pass
    return files


def _describe(role):
    """``output`` -> 'OUTPUT'; ``output-style`` -> 'OUTPUT (its .qml style)'."""
    return Destinations.LABELS[role.split("-")[0]] + (" (its .qml style)" if "-" in role else "")


def _check_writable(label, path):
    """Refuse GDAL virtual paths and write-protected or unwritable existing files."""
    text = str(path)
    if text.startswith("/vsi") or text.lower().startswith(("gtiff_dir:", "vsi")) or "://" in text:
        raise InputError(f"{label} {path} is not a path on disk (GDAL virtual file systems such as /vsimem/ "
                         "and /vsizip/, and URLs, cannot be destinations); give a file path in a folder, e.g. "
                         f"{os.path.join(os.getcwd(), os.path.basename(text.rstrip('/')) or 'result')}")
    try:
        info = os.stat(path)
    except OSError:
        return
    if stat.S_ISREG(info.st_mode) and (not info.st_mode & 0o222 or not os.access(path, os.W_OK)):
        raise InputError(f"{label} {path} exists and is write-protected (mode {stat.filemode(info.st_mode)}); "
                         "floodkd does not replace protected files. Make it writable (chmod u+w) if it may be "
                         "replaced, or choose another destination.")


def _check_one(role, path):
    label = Destinations.LABELS[role]
    _check_writable(label, path)
    if os.path.isdir(path):
        raise InputError(f"{label} {path} is an existing folder; give a file name in it, "
                         f"e.g. {os.path.join(path, 'flood.tif' if role == 'output' else 'result')}")
    if os.path.lexists(path) and os.path.exists(path) and not os.path.isfile(path):
        raise InputError(f"{label} {path} exists and is not a regular file; choose another destination.")
    ext = os.path.splitext(path)[1].lower()
    if role in ("output", "probability") and ext not in GEOTIFF_EXTENSIONS:
        raise InputError(f"{label} {path} must be a GeoTIFF path ending in .tif or .tiff (floodkd writes "
                         f"GeoTIFF only), e.g. {os.path.splitext(path)[0]}.tif")
    if role == "quicklook" and ext != ".png":
        raise InputError(f"{label} {path} must end in .png")
    if role == "polygons":
        check_polygons_path(path)
    if role == "stats":
        check_stats_path(path)


def check_destinations(destinations: Destinations, inputs: dict):
    """Raise InputError unless every destination is usable and clashes with nothing.

    ``inputs`` maps a label (INPUT, PRE_FLOOD, MODEL, ...) to a path or None.
    """
    if not destinations.output or not str(destinations.output).strip():
        raise InputError("OUTPUT is empty; give a GeoTIFF path for the class raster, e.g. flood.tif")
    named = destinations.named()
    for role, path in named:
        _check_one(role, path)
    written = list(named)
    written += [(f"{r}-style", style_sidecar(p)) for r, p in named if r in ("output", "probability")]
    for role, path in written[len(named):]:
        _check_writable(_describe(role), path)
    for i, (role, path) in enumerate(written):
        for other_role, other in written[:i]:
            if _same_file(path, other) and role.split("-")[0] != other_role.split("-")[0]:
                raise InputError(f"{_describe(role)} {path} and {_describe(other_role)} {other} are the same file; "
                                 "give each product its own path.")
    _check_not_inputs([(Destinations.LABELS[role], path) for role, path in named], inputs)


def _check_not_inputs(written, inputs: dict):
    """Raise InputError if any ``(label, path)`` of ``written`` is an input or a file an input reads."""
    for label, source in inputs.items():
        if not source:
            continue
        for read in _files_read_by(source):
            for what, path in written:
                if _same_file(path, read):
                    via = "" if read == source else f", which reads {read}"
                    raise InputError(f"{what} {path} is the same file as {label} "
                                     f"{source}{via}: writing it would destroy that input. "
                                     "Choose another destination.")


def check_file_destination(label: str, path: str, inputs: dict):
    """The checks of :func:`check_destinations` for one more file a command writes (a batch's summary)."""
    if os.path.isdir(path):
        raise InputError(f"{label} {path} is an existing folder; give a file name in it")
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isfile(path)):
        raise InputError(f"{label} {path} exists and is a link or not a regular file; "
                         "choose another destination.")
    _check_not_inputs([(label, path)], inputs)


def run_inputs(options, **scenes) -> dict:
    """The files a run reads that no destination may be: ``scenes`` (INPUT=..., PRE_FLOOD=...) and the
    MODEL, PERMANENT_WATER and DEM of ``options`` (SegmentOptions)."""
    return {**scenes, "MODEL": options.model, "PERMANENT_WATER": options.permanent_water, "DEM": options.dem}


def check_files(files: Files, inputs: dict):
    """Raise InputError unless every path of ``files`` is a usable new or replaceable file.

    The same rules as segment's: no folder or special file, the allowed
    extension, no GDAL virtual path, no write-protected file, no two
    destinations on one file, and never an input (``inputs``: label -> path)
    or an existing file inside a ``files.protect`` folder (a dataset).
    """
    named = files.named()
    for i, (label, path) in enumerate(named):
        for other_label, other in named[:i]:
            if _same_file(path, other):
                raise InputError(f"{label} {path} and {other_label} {other} are the same file; "
                                 "give each its own path.")
    _check_not_inputs(named, inputs)
    for folder in files.protect:
        if not folder:
            continue
        root = _key(folder) + os.sep
        for role, path in named:
            if os.path.exists(path) and _key(path).startswith(root):
                raise InputError(f"{role} {path} is a file of the dataset {folder}: writing it would destroy "
                                 "that data. Choose a destination outside the dataset.")
    for label, path, extensions in files.paths:
        if not path:
            continue
        _check_writable(label, path)
        if os.path.isdir(path):
            raise InputError(f"{label} {path} is an existing folder; give a file name in it.")
        if os.path.exists(path) and not os.path.isfile(path):
            raise InputError(f"{label} {path} exists and is not a regular file; choose another destination.")
        if extensions and not str(path).lower().endswith(tuple(extensions)):
            raise InputError(f"{label} {path} must end in {' or '.join(extensions)}, e.g. "
                             f"{os.path.splitext(path)[0]}{extensions[0]}")
