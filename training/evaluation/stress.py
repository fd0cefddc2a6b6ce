"""A physical stress suite built from labelled VV/VH dB chips.

Each case changes the chips as a real scene could differ from the training
data (training/data/sar_physics.py holds the physics) and keeps labels that
stay true under that change. :class:`StressCase` is a labelled dataset, so
``scoring.evaluate`` scores any method (a model, ``threshold``, ``otsu``) on it.

Cases (:func:`stress_cases`):
    clean                    the chips as they are
    wind VV +4 / +8 dB       VV over water raised (Bragg roughening), VH untouched
    calm VV -3 dB            the opposite: VV over water lowered
    offset +3 / -3 dB        both bands, every pixel (calibration)
    speckle 2 looks          linear power times Gamma(2, 1/2)
    multi-look 5x5           5x5 mean of linear power
    flooded vegetation       in a blob of the water: VV +6 dB, VH +3 dB, still water
    narrow bright river      a 3-pixel river drawn across dry land: VH as the chip's
                             water, VV as its dry land; scored within 8 px of it
                             (the original water is ignored)
    all water / all dry      64x64 windows whose label is >= 98 % water / has no water
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..data import sar_physics as phys
from ..data.datasets import RawChip

WINDOW = 64


def _wind(db):
    return lambda raw, rng: replace(raw, s1=phys.roughen_water(raw.s1, (raw.label == 1) & raw.valid, db, 0.0))


def _offset(db):
    return lambda raw, rng: replace(raw, s1=phys.offset(raw.s1, raw.valid, db))


def _speckle(raw, rng):
    return replace(raw, s1=phys.speckle(raw.s1, raw.valid, 2.0, rng))


def _multilook(raw, rng):
    return replace(raw, s1=phys.multilook(raw.s1, raw.valid, 5))


def _vegetation(raw, rng):
    water = (raw.label == 1) & raw.valid
    area = water & phys.blob(water.shape, rng, 0.4)
    return replace(raw, s1=phys.flood_vegetation(raw.s1, area, 6.0, 3.0))


def river_mask(shape, rng, width: int = 3) -> np.ndarray:
    """A sinuous band ``width`` pixels wide from the left edge to the right edge."""
    h, w = shape
    x = np.arange(w)
    centre = h / 2 + h / 4 * np.sin(2 * np.pi * x / w * rng.uniform(0.7, 1.5) + rng.uniform(0, 2 * np.pi))
    yy = np.arange(h)[:, None]
    return np.abs(yy - centre[None, :]) <= (width - 1) / 2


def _river(raw, rng):
    seed = int(rng.integers(1 << 30))
    rng = np.random.default_rng(seed)
    dry = (raw.label == 0) & raw.valid
    water = (raw.label == 1) & raw.valid
    river = river_mask(raw.label.shape, np.random.default_rng(seed)) & dry
    s1 = raw.s1.copy()
    vh_water = np.median(raw.s1[1][water]) if water.sum() > 100 else -25.0
    noise = phys.speckle(np.zeros((2,) + river.shape, np.float32), river, 4.0, rng)
    s1[0][river] = np.median(raw.s1[0][dry]) + noise[0][river]
    s1[1][river] = vh_water + noise[1][river]
    label = np.where(raw.label == 1, -1, raw.label)
    label[river] = 1
    near = river_mask(raw.label.shape, np.random.default_rng(seed), 17)  # the same course, 17 px wide
    label[~near] = -1
    return replace(raw, s1=s1, label=label)


def pure_windows(raw: RawChip, water: bool, size: int = WINDOW, step: int = 32, purity: float = 0.98) -> list:
    """Windows of ``raw`` whose labelled pixels (>= 90 % of the window) are >= ``purity`` water (or all dry)."""
    out = []
    h, w = raw.label.shape
    for top in range(0, h - size + 1, step):
        for left in range(0, w - size + 1, step):
            lab = raw.label[top:top + size, left:left + size]
            known = lab >= 0
            share = (lab[known] == 1).mean() if known.any() else 0.0
            if known.mean() < 0.9 or (share < purity if water else share > 0):
                continue
            win = (slice(top, top + size), slice(left, left + size))
            out.append(RawChip(f"{raw.id}@{top},{left}", raw.s1[(slice(None),) + win], None, lab.copy(),
                               raw.valid[win].copy()))
    return out


CASES = {
    "clean": lambda raw, rng: raw,
    "wind VV +4 dB": _wind(4.0),
    "wind VV +8 dB": _wind(8.0),
    "calm VV -3 dB": _wind(-3.0),
    "offset +3 dB": _offset(3.0),
    "offset -3 dB": _offset(-3.0),
    "speckle 2 looks": _speckle,
    "multi-look 5x5": _multilook,
    "flooded vegetation": _vegetation,
    "narrow bright river": _river,
}


class StressCase:
    """A labelled dataset: the base chips (or pure windows) under one perturbation."""

    labelled = True
    s2_bands = ()
    input_transform = "clip_scale"

    def __init__(self, name: str, chips: list, s1_bands):
        self.name, self.chips, self.s1_bands = name, chips, tuple(s1_bands)
        self.ids = [c.id for c in chips]

    def __len__(self) -> int:
        return len(self.chips)

    def load_raw(self, index: int) -> RawChip:
        return self.chips[index]

    def index_of(self, chip_id):
        return self.ids.index(chip_id)


def stress_cases(dataset, seed: int = 0, cases=None) -> list:
    """:class:`StressCase` per case of ``CASES`` (or the names in ``cases``), plus all water / all dry."""
    raws = [dataset.load_raw(i) for i in range(len(dataset))]
    out = []
    for name, fn in CASES.items():
        if cases and name not in cases:
            continue
        chips = [fn(replace(r), np.random.default_rng([seed, k, len(name)])) for k, r in enumerate(raws)]
        out.append(StressCase(name, chips, dataset.s1_bands))
    for name, water in (("all water", True), ("all dry", False)):
        if cases and name not in cases:
            continue
        chips = [w for r in raws for w in pure_windows(r, water)]
        if chips:
            out.append(StressCase(name, chips, dataset.s1_bands))
    return out
