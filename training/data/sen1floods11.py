"""Sen1Floods11 (Bonafilia et al. 2020) in its native folder layout.

Expected under ``root`` (or under ``root/flood_events/HandLabeled`` and
``.../WeaklyLabeled``, the v1.1 bucket layout)::

    S1Hand/<chip>_S1Hand.tif        VV, VH float32 dB, NaN nodata
    S2Hand/<chip>_S2Hand.tif        13 bands int16 (B1..B12 with B8A), 0 nodata
    LabelHand/<chip>_LabelHand.tif  int16 -1 ignore / 0 dry / 1 water
    splits/flood_{train,valid,test,bolivia}_data.csv   (or splits/flood_handlabeled/)
    S1Weak/, S1OtsuLabelWeak/, S2IndexLabelWeak/       optional weak labels

Only chips whose needed files exist are used; chips a split lists but that are
absent are kept in ``missing``.
"""
from __future__ import annotations

import csv
import os

import numpy as np

from ...core.bands import S1_BANDS, S2_13_BAND_ORDER, S2_BANDS
from ...core.errors import InputError
from .datasets import (
    ChipDataset,
    RawChip,
    check_label_values,
    check_same_grid,
    check_same_size,
    check_split,
    read_raster,
)

SPLITS = ("train", "valid", "test", "bolivia", "all")
LABEL_SOURCES = ("hand", "S1OtsuLabelWeak", "S2IndexLabelWeak", "none")
S2_INDEXES = tuple(S2_13_BAND_ORDER.index(b.name) + 1 for b in S2_BANDS)  # 1-based B2, B3, B4, B8


def _find_dir(root: str, name: str) -> str:
    """``name`` directly under root, or in the v1.1 HandLabeled/WeaklyLabeled folders."""
    for sub in ("", "HandLabeled", "WeaklyLabeled", os.path.join("flood_events", "HandLabeled"),
                os.path.join("flood_events", "WeaklyLabeled")):
        path = os.path.join(root, sub, name)
        if os.path.isdir(path):
            return path
    return os.path.join(root, name)


def _chips_in(folder: str, suffix: str) -> set:
    if not os.path.isdir(folder):
        return set()
    tail = f"_{suffix}.tif"
    return {f[: -len(tail)] for f in os.listdir(folder) if f.endswith(tail)}


def read_split(root: str, split: str) -> list:
    """Chip ids listed in the official split CSV ``flood_<split>_data.csv``."""
    for sub in ("splits", os.path.join("splits", "flood_handlabeled")):
        path = os.path.join(root, sub, f"flood_{split}_data.csv")
        if os.path.isfile(path):
            with open(path, newline="") as fh:
                return [row[0].strip().replace("_S1Hand.tif", "") for row in csv.reader(fh) if row and row[0].strip()]
    raise InputError(
        f"no split file flood_{split}_data.csv under {os.path.join(root, 'splits')}; "
        "use split 'all' or restore the official Sen1Floods11 split CSVs.")


class Sen1Floods11(ChipDataset):
    """Sen1Floods11 chips (512x512) as floodkd samples.

    Args:
        root: folder holding S1Hand/, S2Hand/, LabelHand/ and splits/.
        split: "train", "valid", "test", "bolivia" (official CSVs) or "all"
            (every chip whose needed files are present).
        with_s2: also return S2 B2, B3, B4, B8 (and require S2Hand files).
        label_source: "hand" (LabelHand), a weak-label folder
            ("S1OtsuLabelWeak", "S2IndexLabelWeak"; S1 then comes from S1Weak
            when that folder exists), or "none" (unlabelled: every S1 chip).

    Raises:
        InputError: unknown split or label source, no present chip for the
            split, or a chip whose files are unreadable, differ in size or hold
            unknown label codes (raised when that chip is read).
    """

    name = "sen1floods11"
    s1_bands = S1_BANDS

    def __init__(self, root: str, split: str = "all", with_s2: bool = False, label_source: str = "hand"):
        super().__init__()
        check_split(split, SPLITS)
        if label_source not in LABEL_SOURCES:
            raise InputError(f"unknown label_source '{label_source}'; use one of {', '.join(LABEL_SOURCES)}")
        if not os.path.isdir(root):
            raise InputError(f"Sen1Floods11 root {root} is not a folder; give the folder holding S1Hand/ and LabelHand/.")
        self.root, self.split, self.label_source = root, split, label_source
        self.labelled = label_source != "none"
        self.s2_bands = S2_BANDS if with_s2 else ()
        weak = label_source not in ("hand", "none")
        s1_name = "S1Weak" if weak and os.path.isdir(_find_dir(root, "S1Weak")) else "S1Hand"
        self.folders = {"s1": (_find_dir(root, s1_name), s1_name)}
        if with_s2:
            self.folders["s2"] = (_find_dir(root, "S2Hand"), "S2Hand")
        if self.labelled:
            label_name = "LabelHand" if label_source == "hand" else label_source
            self.folders["label"] = (_find_dir(root, label_name), label_name)
        present = set.intersection(*(_chips_in(folder, suffix) for folder, suffix in self.folders.values()))
        wanted = sorted(present) if split == "all" else read_split(root, split)
        self.ids = [c for c in wanted if c in present]
        self.missing = [c for c in wanted if c not in present]
        if not self.ids:
            folders = ", ".join(folder for folder, _ in self.folders.values())
            raise InputError(
                f"no Sen1Floods11 chip of split '{split}' has all its files in {folders} "
                f"({len(self.missing)} listed, none present); check the root, or choose another split "
                "('all' uses whatever is present)"
                + (". S2Hand/ is read because the model or the teacher uses Sentinel-2." if with_s2 else "."))

    def path(self, kind: str, chip_id: str) -> str:
        """File of ``chip_id`` for ``kind`` ("s1", "s2" or "label")."""
        folder, suffix = self.folders[kind]
        return os.path.join(folder, f"{chip_id}_{suffix}.tif")

    def load_raw(self, index: int) -> RawChip:
        chip = self.ids[index]
        s1_path = self.path("s1", chip)
        s1 = read_raster(s1_path).astype(np.float32)
        if s1.shape[0] != 2:
            raise InputError(f"{s1_path} has {s1.shape[0]} band(s); Sen1Floods11 S1 chips hold VV and VH in dB.")
        valid = np.isfinite(s1).all(axis=0)
        s2 = None
        if "s2" in self.folders:
            s2_path = self.path("s2", chip)
            s2 = read_raster(s2_path)
            if s2.shape[0] != len(S2_13_BAND_ORDER):
                raise InputError(f"{s2_path} has {s2.shape[0]} bands; Sen1Floods11 S2Hand chips hold the 13 "
                                 f"Sentinel-2 bands {', '.join(S2_13_BAND_ORDER)}.")
            check_same_size(s1_path, s1, s2_path, s2)
            s2 = s2[[i - 1 for i in S2_INDEXES]].astype(np.float32)
            valid &= (s2 != 0).all(axis=0) & np.isfinite(s2).all(axis=0)
        if self.labelled:
            label_path = self.path("label", chip)
            label = read_raster(label_path, 1)
            check_same_size(s1_path, s1, label_path, label)
            check_same_grid(s1_path, label_path)
            check_label_values(label_path, label)
            label = label.astype(np.int64)
        else:
            label = np.full(s1.shape[1:], -1, np.int64)
        label[~valid] = -1
        s1[:, ~valid] = 0.0
        if s2 is not None:
            s2[:, ~valid] = 0.0
        return RawChip(chip, s1, s2, label, valid)
