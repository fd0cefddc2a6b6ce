"""A user's own co-registered Sentinel-1 / Sentinel-2 GeoTIFFs as a dataset.

Layout under ``root`` (files matched by name)::

    S1/<name>.tif      VV, VH backscatter in dB (band descriptions or order VV, VH)
    S2/<name>.tif      optional: 13 bands (B1..B12 with B8A) or 4 bands B2, B3, B4, B8
    label/<name>.tif   optional: -1 ignore / 0 dry / 1 water on the S1 grid

The folders may also be named as TerraMind's examples name them (S1RTC, S1GRD;
S2L1C, S2L2A; labels), see ``FOLDER_NAMES``.

S2 is resampled (bilinear) onto the S1 grid when its CRS, transform or size
differ. With ``chip_size`` each file is cut into windows of that size (the
last row/column of windows is shifted inwards so every chip is full size when
the raster is at least that large), which keeps scenes of any size usable.
"""
from __future__ import annotations

import os

import numpy as np

from ...core.bands import S1_BANDS, S2_13_BAND_ORDER, S2_BANDS
from ...core.errors import InputError
from ...core.io.raster_io import inspect_sar, open_raster
from .datasets import ChipDataset, RawChip, check_label_values, check_same_grid, require_folder

S2_NAMES = tuple(b.name for b in S2_BANDS)
FOLDER_NAMES = {"s1": ("S1", "S1RTC", "S1GRD"), "s2": ("S2", "S2L1C", "S2L2A"), "label": ("label", "labels")}


def find_folder(root: str, kind: str) -> str | None:
    """The first existing folder under ``root`` named as in ``FOLDER_NAMES[kind]``."""
    for name in FOLDER_NAMES[kind]:
        if os.path.isdir(os.path.join(root, name)):
            return os.path.join(root, name)
    return None


def _tifs(folder: str) -> dict:
    if not os.path.isdir(folder):
        return {}
    return {os.path.splitext(f)[0]: os.path.join(folder, f) for f in sorted(os.listdir(folder))
            if f.lower().endswith((".tif", ".tiff"))}


def s2_band_indexes(ds) -> tuple:
    """1-based indexes of B2, B3, B4, B8 in an S2 raster (descriptions, else band count)."""
    descriptions = [(d or "").strip().upper() for d in ds.descriptions]
    if all(n in descriptions for n in S2_NAMES):
        return tuple(descriptions.index(n) + 1 for n in S2_NAMES)
    if ds.count == len(S2_13_BAND_ORDER):
        return tuple(S2_13_BAND_ORDER.index(n) + 1 for n in S2_NAMES)
    if ds.count == len(S2_NAMES):
        return (1, 2, 3, 4)
    raise InputError(
        f"{ds.name} has {ds.count} bands (descriptions {ds.descriptions}); give Sentinel-2 with "
        f"13 bands ({', '.join(S2_13_BAND_ORDER)}) or 4 bands B2, B3, B4, B8, or name the bands "
        "B2, B3, B4 and B8 in the band descriptions.")


def _windows(width: int, height: int, size: int | None):
    if not size:
        return [(0, 0, width, height)]
    rows = sorted({min(r, max(height - size, 0)) for r in range(0, height, size)})
    cols = sorted({min(c, max(width - size, 0)) for c in range(0, width, size)})
    return [(r, c, min(size, width - c), min(size, height - r)) for r in rows for c in cols]


class PairFolder(ChipDataset):
    """Co-registered S1 (and optional S2 / label) GeoTIFFs matched by file name.

    Args:
        root: folder holding S1/ and optionally S2/ and label/.
        with_s2: return S2 (B2, B3, B4, B8); default: when root/S2 exists.
        chip_size: cut each file into chips of this many pixels (None: whole files).

    Raises:
        InputError: no S1 files, an S1 file without its S2 or label partner (or
            the reverse), a label on another grid, label values outside
            {-1, 0, 1}, or S2 that does not overlap its S1.
    """

    name = "pairs"
    s1_bands = S1_BANDS

    def __init__(self, root: str, with_s2: bool | None = None, chip_size: int | None = None):
        super().__init__()
        self.root = root
        require_folder(root, "a folder holding S1/ (and optionally S2/, label/)")
        s1_dir = find_folder(root, "s1")
        if s1_dir is None:
            raise InputError(f"{root} has no Sentinel-1 folder; put the VV/VH (dB) GeoTIFFs in "
                             f"{os.path.join(root, 'S1')} (or S1RTC/, S1GRD/).")
        self.files = {"s1": _tifs(s1_dir)}
        if not self.files["s1"]:
            raise InputError(f"{s1_dir} holds no .tif file; put the Sentinel-1 VV/VH (dB) GeoTIFFs there.")
        s2_dir, label_dir = find_folder(root, "s2"), find_folder(root, "label")
        if with_s2 is None:
            with_s2 = s2_dir is not None
        if with_s2:
            if s2_dir is None:
                raise InputError(f"with_s2 is set but {root} has no S2/ (or S2L1C/, S2L2A/) folder.")
            self.files["s2"] = _tifs(s2_dir)
        self.labelled = label_dir is not None
        dirs = {"s1": s1_dir, "s2": s2_dir, "label": label_dir}
        if self.labelled:
            self.files["label"] = _tifs(label_dir)
        self.s2_bands = S2_BANDS if with_s2 else ()
        names = set(self.files["s1"])
        for kind, found in self.files.items():
            odd = sorted(names ^ set(found))
            if odd:
                raise InputError(
                    f"unpaired files in {root}: {odd[:10]} exist in only one of {s1_dir} and "
                    f"{dirs[kind]}; every S1 file needs "
                    f"its {kind} partner with the same name.")
        self.chips = []  # (name, row, col, width, height)
        for name, path in self.files["s1"].items():
            source = inspect_sar(path)
            for row, col, w, h in _windows(source.width, source.height, chip_size):
                self.chips.append((name, row, col, w, h))
        self.ids = [n if not chip_size else f"{n}:{r}:{c}" for n, r, c, _, _ in self.chips]

    def load_raw(self, index: int) -> RawChip:
        from rasterio.windows import Window

        name, row, col, w, h = self.chips[index]
        window = Window(col, row, w, h)
        s1_path = self.files["s1"][name]
        source = inspect_sar(s1_path)
        with open_raster(s1_path) as ds:
            s1 = ds.read(list(source.band_indexes), window=window).astype(np.float32)
            grid = (ds.crs, ds.window_transform(window), w, h)
        valid = np.isfinite(s1).all(axis=0)
        if source.nodata is not None and np.isfinite(source.nodata):
            valid &= (s1 != source.nodata).all(axis=0)
        s2 = None
        if "s2" in self.files:
            s2 = self._read_s2(self.files["s2"][name], ds_window=window, grid=grid, s1_size=(source.width, source.height))
            valid &= (s2 != 0).all(axis=0) & np.isfinite(s2).all(axis=0)
        if self.labelled:
            label = self._read_label(self.files["label"][name], window, (source.width, source.height), s1_path)
        else:
            label = np.full((h, w), -1, np.int64)
        label[~valid] = -1
        s1[:, ~valid] = 0.0
        if s2 is not None:
            s2[:, ~valid] = 0.0
        return RawChip(self.ids[index], s1, s2, label, valid)

    @staticmethod
    def _read_s2(path, ds_window, grid, s1_size):
        import rasterio
        from rasterio.warp import Resampling, reproject

        crs, transform, w, h = grid
        with open_raster(path) as ds:
            indexes = list(s2_band_indexes(ds))
            nodata = ds.nodata if ds.nodata is not None else 0
            if ds.crs == crs and (ds.width, ds.height) == s1_size and ds.window_transform(ds_window) == transform:
                s2 = ds.read(indexes, window=ds_window).astype(np.float32)
                s2[s2 == nodata] = 0.0
                return s2
            if ds.crs is None or crs is None:
                raise InputError(f"{path} is on another grid than its S1 file and one of them has no CRS; "
                                 "georeference both or export S2 on the S1 grid.")
            s2 = np.zeros((len(indexes), h, w), np.float32)
            reproject(rasterio.band(ds, indexes), s2, src_nodata=nodata, dst_nodata=0.0,
                      dst_transform=transform, dst_crs=crs, resampling=Resampling.bilinear)
        if not s2.any():
            raise InputError(f"{path} does not overlap its Sentinel-1 file; pair S1 and S2 of the same area.")
        return s2

    @staticmethod
    def _read_label(path, window, s1_size, s1_path):
        with open_raster(path) as ds:
            if (ds.width, ds.height) != s1_size:
                raise InputError(
                    f"{path} is {ds.height}x{ds.width} pixels but {s1_path} is {s1_size[1]}x{s1_size[0]}; "
                    "labels must be on the Sentinel-1 grid.")
            label = ds.read(1, window=window)
        check_same_grid(s1_path, path)
        check_label_values(path, label)
        return label.astype(np.int64)
