"""Shared base and helpers for floodkd's map-style training/evaluation datasets.

Every dataset returns plain numpy samples (no torch import), so
``torch.utils.data.DataLoader`` can batch them directly. The sample contract::

    {"id": str,
     "s1": float32 (C1, H, W)   network input, normalised to [0, 1] by s1_bands,
     "s2": float32 (C2, H, W)   same for s2_bands (key absent without S2),
     "label": int64 (H, W)      0 dry, 1 water, -1 ignore (all -1 when unlabelled),
     "valid": bool (H, W)}      the inputs hold data here (nodata -> False)

Invalid pixels are 0 in ``s1``/``s2`` and -1 in ``label``. ``valid`` is about the
inputs only: a hand label may still be -1 (ignore) where ``valid`` is True.
Subclasses implement :meth:`ChipDataset.load_raw`, which returns the inputs in
their own units (dB, reflectance x 10000, 8-bit) for methods that need them
(Otsu on VH dB, checkpoints with their own normalisation).
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np

from ...core.bands import normalise_stack
from ...core.errors import InputError

IGNORE = -1


@dataclass
class RawChip:
    """One chip's inputs in their units, before normalisation.

    Attributes:
        id: chip identifier.
        s1: float32 (C1, H, W) in the units of the dataset's ``s1_bands``.
        s2: float32 (C2, H, W) or None when the dataset has no S2.
        label: int64 (H, W) with 0, 1 and -1 (ignore / nodata / unlabelled).
        valid: bool (H, W), True where every input band holds data.
    """

    id: str
    s1: np.ndarray
    s2: np.ndarray | None
    label: np.ndarray
    valid: np.ndarray


class ChipDataset:
    """Base class: indexing, normalisation and the sample contract.

    Subclasses set ``name``, ``s1_bands``, ``s2_bands``, ``labelled`` and
    ``ids`` and implement :meth:`load_raw`.
    """

    name = "dataset"
    s1_bands: tuple = ()
    s2_bands: tuple = ()
    input_transform = "clip_scale"
    labelled = True

    def __init__(self):
        self.ids: list = []
        self.missing: list = []

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> dict:
        if not -len(self.ids) <= index < len(self.ids):
            raise IndexError(f"{self.name} has {len(self.ids)} chips; index {index} is out of range")
        return to_sample(self.load_raw(index), self.s1_bands, self.s2_bands)

    def load_raw(self, index: int) -> RawChip:
        """Read chip ``index`` in its own units (see :class:`RawChip`)."""
        raise NotImplementedError

    def index_of(self, chip_id: str) -> int:
        """Position of ``chip_id`` in ``ids`` (InputError naming the known ids if absent)."""
        try:
            return self.ids.index(chip_id)
        except ValueError:
            shown = ", ".join(self.ids[:5]) + (" ..." if len(self.ids) > 5 else "")
            raise InputError(f"chip '{chip_id}' is not in this {self.name} dataset; known: {shown}") from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} chips, labelled={self.labelled})"


def to_sample(raw: RawChip, s1_bands, s2_bands=()) -> dict:
    """Normalise a :class:`RawChip` into the sample dict (invalid pixels -> 0 / -1)."""
    invalid = ~raw.valid
    s1 = normalise_stack(raw.s1, s1_bands)
    s1[:, invalid] = 0.0
    sample = {"id": raw.id, "s1": s1.astype(np.float32, copy=False)}
    if raw.s2 is not None:
        s2 = normalise_stack(raw.s2, s2_bands)
        s2[:, invalid] = 0.0
        sample["s2"] = s2.astype(np.float32, copy=False)
    label = raw.label.astype(np.int64, copy=True)
    label[invalid] = IGNORE
    sample["label"] = label
    sample["valid"] = raw.valid.copy()
    return sample


def read_raster(path: str, indexes=None) -> np.ndarray:
    """Read ``path`` (bands, H, W) with rasterio; unreadable files raise InputError.

    PNGs carry no georeference; rasterio's warning about it is silenced.
    """
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as ds:
                return ds.read(indexes)
    except RasterioIOError as exc:
        raise InputError(f"{path} is not a readable raster ({exc}); replace or remove the file.") from exc


def check_same_size(reference_path: str, reference: np.ndarray, path: str, data: np.ndarray) -> None:
    """Raise InputError when two rasters of one chip differ in height/width."""
    if reference.shape[-2:] != data.shape[-2:]:
        raise InputError(
            f"{path} is {data.shape[-2]}x{data.shape[-1]} pixels but {reference_path} is "
            f"{reference.shape[-2]}x{reference.shape[-1]}; the files of one chip must share "
            "the same grid (re-export them on the Sentinel-1 grid).")


def check_same_grid(reference_path: str, path: str) -> None:
    """Raise InputError when georeferenced ``path`` lies elsewhere than ``reference_path``.

    Both must have the same CRS and bounds within half a pixel (of the
    reference); a label of the same size from another place would otherwise
    be scored against the wrong ground. Files without a CRS are not compared.
    """
    import rasterio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(reference_path) as ref, rasterio.open(path) as other:
            if ref.crs is None or other.crs is None:
                return
            if ref.crs != other.crs:
                raise InputError(f"{path} is in {other.crs} but {reference_path} is in {ref.crs}; the files of "
                                 "one chip must share the same grid (re-export the label on the image's grid).")
            half_x, half_y = abs(ref.transform.a) / 2, abs(ref.transform.e) / 2
            a, b = ref.bounds, other.bounds
            if (abs(a.left - b.left) > half_x or abs(a.right - b.right) > half_x
                    or abs(a.bottom - b.bottom) > half_y or abs(a.top - b.top) > half_y):
                raise InputError(
                    f"{path} covers x {b.left:.6g}..{b.right:.6g}, y {b.bottom:.6g}..{b.top:.6g} but "
                    f"{reference_path} covers x {a.left:.6g}..{a.right:.6g}, y {a.bottom:.6g}..{a.top:.6g} "
                    f"({ref.crs}): they are not the same place. Pair each image with its own label, "
                    "on the same grid.")


def check_label_values(path: str, label: np.ndarray, allowed=(-1, 0, 1)) -> None:
    """Raise InputError when a label raster holds codes outside ``allowed``."""
    values = np.unique(label)
    bad = [v for v in values.tolist() if v not in allowed]
    if bad:
        raise InputError(
            f"{path} holds label value(s) {bad[:10]}; labels must use only {list(allowed)} "
            "(0 dry, 1 water, -1 ignore; OMBRIA masks 0 / 255).")


def require_folder(path: str, what: str) -> str:
    """Return ``path`` when it is a directory, else an InputError saying what was expected."""
    if not os.path.isdir(path):
        raise InputError(f"{path} is not a folder; expected {what}.")
    return path


def check_split(split: str, allowed) -> str:
    """Validate a split name against ``allowed`` (InputError listing the choices)."""
    if split not in allowed:
        raise InputError(f"unknown split '{split}'; use one of {', '.join(allowed)}")
    return split


class ConcatChips:
    """Several floodkd datasets (same S1 bands) as one; ``set_epoch`` reaches each part."""

    def __init__(self, parts, name: str | None = None):
        self.parts = [p for p in parts if p is not None and len(p)]
        if not self.parts:
            raise InputError("no chips: every dataset to combine is empty")
        names = {tuple(b.name for b in p.s1_bands) for p in self.parts}
        if len(names) > 1:
            raise InputError(f"the datasets to combine give different S1 bands: {sorted(names)}")
        self.name = name or "+".join(p.name for p in self.parts)
        self.s1_bands, self.s2_bands = self.parts[0].s1_bands, ()
        self.labelled = all(getattr(p, "labelled", True) for p in self.parts)
        self.input_transform = "clip_scale"
        self.ids = [i for p in self.parts for i in p.ids]
        self._starts = np.cumsum([0] + [len(p) for p in self.parts])

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _locate(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name} has {len(self)} chips; index {index} is out of range")
        k = int(np.searchsorted(self._starts, index, side="right") - 1)
        return self.parts[k], index - int(self._starts[k])

    def __getitem__(self, index: int) -> dict:
        part, i = self._locate(index)
        return part[i]

    def load_raw(self, index: int) -> RawChip:
        part, i = self._locate(index)
        return part.load_raw(i)

    def set_epoch(self, epoch: int) -> None:
        for p in self.parts:
            if hasattr(p, "set_epoch"):
                p.set_epoch(epoch)
