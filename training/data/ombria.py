"""OMBRIA (Drakonakis et al. 2022): 256x256 8-bit S1/S2 PNG patches with flood masks.

Layout under ``root``::

    OmbriaS1/<folder>/{BEFORE,AFTER,MASK}/S1_{before,after,mask}_NNNN.png
    OmbriaS2/<folder>/{BEFORE,AFTER,MASK}/S2_{before,after,mask}_NNNN.png

S1 is one 8-bit band of scaled backscatter (polarisation and scaling are not
documented); S2 is 8-bit RGB. Masks are 0 (dry) / 255 (flooded) and belong to
the AFTER images; S1 and S2 patches pair by number NNNN.

Own train/validation split (fixed, documented): patch numbers divisible by 5
are validation ("val", 123 of the 624 released training patches, ~20%), all
others are "train"; "all" keeps every patch.
"""
from __future__ import annotations

import os
import re

import numpy as np

from ...core.bands import BandSpec
from ...core.errors import InputError
from .datasets import ChipDataset, RawChip, check_label_values, check_same_size, check_split, read_raster

SPLITS = ("train", "val", "all")
VAL_EVERY = 5
OMBRIA_S1_BANDS = (BandSpec("S1", "S1", "uint8_scaled", 0.0, 255.0),)
OMBRIA_S2_BANDS = tuple(BandSpec(c, "S2", "uint8", 0.0, 255.0) for c in ("R", "G", "B"))


def in_split(number: int, split: str) -> bool:
    """The fixed rule: numbers divisible by ``VAL_EVERY`` are validation."""
    if split == "all":
        return True
    return (number % VAL_EVERY == 0) == (split == "val")


def _numbers(folder: str, prefix: str) -> dict:
    pattern = re.compile(rf"^{prefix}_(\d+)\.png$")
    if not os.path.isdir(folder):
        return {}
    return {int(m.group(1)): m.group(1) for m in map(pattern.match, os.listdir(folder)) if m}


class Ombria(ChipDataset):
    """OMBRIA patches as floodkd samples.

    Args:
        root: folder holding OmbriaS1/ (and OmbriaS2/ for ``with_s2``).
        split: "train", "val" or "all" (see the module docstring for the rule).
        which: "after" (flood images with their masks) or "before" (pre-flood
            images; the masks do not describe them, so the dataset is
            unlabelled: label all -1, ``labelled`` False).
        with_s2: also return the S2 RGB patch of the same number. All-zero RGB
            pixels are S2 nodata and become invalid.
        folder: the release's own split folder (only "train" is distributed here).

    Raises:
        InputError: missing folders, unpaired patches (an S1 image without its
            mask or S2 partner), no patch in the split; size mismatches or mask
            values other than 0/255 when a patch is read.
    """

    name = "ombria"
    s1_bands = OMBRIA_S1_BANDS

    def __init__(self, root: str, split: str = "all", which: str = "after", with_s2: bool = False,
                 folder: str = "train"):
        super().__init__()
        check_split(split, SPLITS)
        if which not in ("after", "before"):
            raise InputError(f"unknown OMBRIA image set '{which}'; use 'after' or 'before'")
        self.root, self.split, self.which, self.folder = root, split, which, folder
        self.labelled = which == "after"
        self.s2_bands = OMBRIA_S2_BANDS if with_s2 else ()
        s1_dir = os.path.join(root, "OmbriaS1", folder, which.upper())
        if not os.path.isdir(s1_dir):
            raise InputError(f"{s1_dir} is not a folder; give the OMBRIA root that holds "
                             f"OmbriaS1/{folder}/{{BEFORE,AFTER,MASK}}.")
        self.dirs = {"s1": (s1_dir, f"S1_{which}")}
        if self.labelled:
            self.dirs["label"] = (os.path.join(root, "OmbriaS1", folder, "MASK"), "S1_mask")
        if with_s2:
            self.dirs["s2"] = (os.path.join(root, "OmbriaS2", folder, which.upper()), f"S2_{which}")
        found = {kind: _numbers(d, prefix) for kind, (d, prefix) in self.dirs.items()}
        self._digits = found["s1"]
        for kind, numbers in found.items():
            unpaired = sorted(set(found["s1"]) ^ set(numbers))
            if unpaired:
                d, prefix = self.dirs[kind]
                raise InputError(
                    f"OMBRIA patches are unpaired between {s1_dir} and {d}: number(s) "
                    f"{unpaired[:10]} exist in only one of them. Every S1_{which}_NNNN.png needs "
                    f"its {prefix}_NNNN.png; restore or remove the odd files.")
        self.numbers = sorted(n for n in found["s1"] if in_split(n, split))
        self.ids = [f"{n:04d}" for n in self.numbers]
        if not self.ids:
            raise InputError(f"no OMBRIA patch of split '{split}' in {s1_dir}; check the root or use split 'all'.")

    def path(self, kind: str, index: int) -> str:
        """File of patch ``index`` for ``kind`` ("s1", "s2" or "label")."""
        folder, prefix = self.dirs[kind]
        return os.path.join(folder, f"{prefix}_{self._digits[self.numbers[index]]}.png")

    def load_raw(self, index: int) -> RawChip:
        s1_path = self.path("s1", index)
        s1 = read_raster(s1_path)
        if s1.shape[0] != 1:
            raise InputError(f"{s1_path} has {s1.shape[0]} bands; OMBRIA S1 patches are single-band 8-bit PNGs.")
        s1 = s1.astype(np.float32)
        valid = np.ones(s1.shape[1:], bool)
        s2 = None
        if "s2" in self.dirs:
            s2_path = self.path("s2", index)
            s2 = read_raster(s2_path)
            if s2.shape[0] < 3:
                raise InputError(f"{s2_path} has {s2.shape[0]} band(s); OMBRIA S2 patches are RGB PNGs.")
            check_same_size(s1_path, s1, s2_path, s2)
            s2 = s2[:3].astype(np.float32)
            valid &= s2.any(axis=0)
        if self.labelled:
            mask_path = self.path("label", index)
            mask = read_raster(mask_path, 1)
            check_same_size(s1_path, s1, mask_path, mask)
            check_label_values(mask_path, mask, allowed=(0, 255))
            label = (mask == 255).astype(np.int64)
        else:
            label = np.full(s1.shape[1:], -1, np.int64)
        label[~valid] = -1
        if s2 is not None:
            s1[:, ~valid] = 0.0
            s2[:, ~valid] = 0.0
        return RawChip(self.ids[index], s1, s2, label, valid)
