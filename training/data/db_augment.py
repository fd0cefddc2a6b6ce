"""Augmentation of Sentinel-1 backscatter in dB for what varies between real scenes.

:class:`DbSamples` wraps a dataset whose ``load_raw`` gives VV/VH in dB and
returns samples normalised with the bands of the model being trained
(e.g. :data:`~floodkd.training.data.etci.S1_DB_BANDS`). In training mode it
first changes the dB values as another scene or processor would:

* calibration: one offset for both bands (U(-offset, offset) dB) plus a smaller
  one per band, and a contrast change around the chip's median;
* incidence: a linear ramp across the chip in a random direction;
* speckle: multiplicative Gamma noise in linear power (fewer looks), or the
  opposite, a 3x3 multi-look (RTC/filtered products are smoother);
* water physics (off unless the config asks, see :data:`SAR_PHYSICS`): wind
  roughening raises VV over water far more than VH, calm water lowers VV, and
  flooded vegetation raises VV strongly and VH moderately (training/data/sar_physics.py).
  Water is the label's water; in unlabelled chips, pixels with VH below
  :data:`PROXY_WATER_VH_DB` (where VH alone says water).

The clean chip is kept as ``s1_clean`` so a Sentinel-1 teacher can label what
the student sees augmented. Random numbers come from ``(seed, epoch, index)``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .augment import random_window
from .datasets import to_sample


@dataclass
class DbAugmentConfig:
    offset: float = 3.0         # dB, shared by VV and VH
    band_offset: float = 1.0    # dB, per band on top
    contrast: float = 0.1       # factor U(1 - c, 1 + c) around the median
    ramp: float = 1.5           # dB from one side of the chip to the other
    speckle_p: float = 0.3      # probability of extra speckle ...
    looks: tuple = (4.0, 12.0)  # ... with this many looks
    smooth_p: float = 0.2       # probability of a 3x3 multi-look
    wind_p: float = 0.0         # probability of wind-roughened water ...
    wind_vv: tuple = (1.0, 10.0)        # ... VV raised by U(a, b) dB times a smooth field in [0.5, 1]
    wind_vh_ratio: tuple = (0.0, 0.3)   # ... VH raised by this fraction of VV's rise
    calm_p: float = 0.0         # probability of calmer water: VV lowered by U(0, calm_vv) dB
    calm_vv: float = 3.0
    vegetation_p: float = 0.0   # probability of flooded vegetation in a blob of the water
    vegetation_vv: tuple = (3.0, 8.0)
    vegetation_vh: tuple = (1.0, 4.0)


# The default model's recipe: the scene-to-scene variation above plus the water physics.
SAR_PHYSICS = DbAugmentConfig(wind_p=0.5, calm_p=0.1, vegetation_p=0.2)
PROXY_WATER_VH_DB = -22.0


def box_mean(values: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Weighted k x k box mean of (N, H, W) arrays (reflect padding); 0 where no weight."""
    r = k // 2
    pad = ((0, 0), (r + 1, r), (r + 1, r))
    num = np.pad(values * weights, pad, mode="reflect").cumsum(1).cumsum(2)
    den = np.pad(weights, pad, mode="reflect").cumsum(1).cumsum(2)

    def window(c):
        return c[:, k:, k:] - c[:, :-k, k:] - c[:, k:, :-k] + c[:, :-k, :-k]

    n, d = window(num), window(den)
    return np.divide(n, d, out=np.zeros_like(n), where=d > 0)


def water_physics(s1: np.ndarray, water: np.ndarray, rng, cfg: DbAugmentConfig) -> np.ndarray:
    """Wind, calm water and flooded vegetation over ``water`` (each with its probability)."""
    from . import sar_physics as phys

    out = s1
    if not water.any():
        return out
    u = rng.random(3)
    if u[0] < cfg.wind_p:
        rise = rng.uniform(*cfg.wind_vv)
        field = phys.smooth_field(water.shape, rng)
        out = phys.roughen_water(out, water, rise, rise * rng.uniform(*cfg.wind_vh_ratio), field)
    elif u[1] < cfg.calm_p:
        out = phys.roughen_water(out, water, -rng.uniform(0.0, cfg.calm_vv))
    if u[2] < cfg.vegetation_p:
        area = water & phys.blob(water.shape, rng, rng.uniform(0.1, 0.5))
        out = phys.flood_vegetation(out, area, rng.uniform(*cfg.vegetation_vv), rng.uniform(*cfg.vegetation_vh))
    return out


def augment_db(s1: np.ndarray, valid: np.ndarray, rng, cfg: DbAugmentConfig, water=None) -> np.ndarray:
    """One random realisation of ``s1`` (bands, H, W) in dB; invalid pixels stay 0.

    ``water`` (bool H, W) is where the water physics acts; None skips it.
    """
    out = s1.astype(np.float32, copy=True)
    n, h, w = out.shape
    if not valid.any():
        return out
    if water is not None and (cfg.wind_p or cfg.calm_p or cfg.vegetation_p):
        out = water_physics(out, water & valid, rng, cfg)
    if rng.random() < cfg.speckle_p:
        looks = rng.uniform(*cfg.looks)
        gamma = rng.gamma(looks, 1.0 / looks, size=out.shape).astype(np.float32)
        out = out + 10.0 * np.log10(np.maximum(gamma, 1e-6))
    elif rng.random() < cfg.smooth_p:
        power = 10.0 ** (out / 10.0)
        weights = np.broadcast_to(valid, out.shape).astype(np.float32)
        out = 10.0 * np.log10(np.maximum(box_mean(power, weights, 3), 1e-6))
    median = np.array([np.median(b[valid][::7]) for b in out], np.float32).reshape(n, 1, 1)
    out = (out - median) * np.float32(rng.uniform(1 - cfg.contrast, 1 + cfg.contrast)) + median
    out += np.float32(rng.uniform(-cfg.offset, cfg.offset))
    out += rng.uniform(-cfg.band_offset, cfg.band_offset, size=(n, 1, 1)).astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    along = (np.cos(angle) * xx / max(w - 1, 1) + np.sin(angle) * yy / max(h - 1, 1))
    out += np.float32(rng.uniform(-cfg.ramp, cfg.ramp)) * (along - along.mean())
    out[:, ~valid] = 0.0
    return out


class DbSamples:
    """A dB dataset seen through a model's band specs, augmented when ``train``.

    Args:
        dataset: a floodkd dataset whose ``load_raw`` returns VV, VH in dB.
        bands: the model's input band specs (names must match the dataset's).
        train: apply :func:`augment_db`; False returns the chip as it is.
        seed: base seed; item ``i`` of epoch ``e`` depends on ``(seed, e, i)``.
        config: a :class:`DbAugmentConfig`.
        crop: in training, cut a random ``crop`` x ``crop`` window before augmenting
            (cheaper than augmenting the whole chip; a later crop of the same size is a no-op).
        cache: keep the chips read from disk in memory (small datasets, many epochs).
        repeat: list every chip this many times (each copy with its own crop and
            augmentation), so a few large chips are drawn as often as many small tiles.
    """

    def __init__(self, dataset, bands, train: bool = True, seed: int = 0, config: DbAugmentConfig | None = None,
                 crop: int = 0, cache: bool = True, repeat: int = 1):
        names = [b.name for b in dataset.s1_bands]
        if names != [b.name for b in bands] or any(b.units != "dB" for b in dataset.s1_bands):
            raise ValueError(f"{dataset.name} gives {names} in "
                             f"{[b.units for b in dataset.s1_bands]}; DbSamples needs VV, VH in dB")
        self.dataset, self.s1_bands, self.train, self.seed = dataset, tuple(bands), train, seed
        self.config = config or DbAugmentConfig()
        self.repeat = max(1, int(repeat)) if train else 1
        self.root, self.split = getattr(dataset, "root", ""), getattr(dataset, "split", "")
        self.name, self.labelled, self.ids = dataset.name, dataset.labelled, list(dataset.ids) * self.repeat
        self.s2_bands, self.input_transform = (), "clip_scale"
        self.epoch, self.crop, self._cache = 0, int(crop or 0), ({} if cache else None)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.dataset) * self.repeat

    def load_raw(self, index: int):
        index = index % len(self.dataset)
        if self._cache is None:
            return self.dataset.load_raw(index)
        if index not in self._cache:
            self._cache[index] = self.dataset.load_raw(index)
        return replace(self._cache[index])

    def __getitem__(self, index: int) -> dict:
        raw = self.load_raw(index)
        if not self.train:
            return to_sample(raw, self.s1_bands)
        rng = np.random.default_rng([self.seed, self.epoch, int(index), 11])
        h, w = raw.label.shape
        if self.crop and h >= self.crop and w >= self.crop:
            top, left = random_window(h, w, self.crop, rng)
            win = (slice(top, top + self.crop), slice(left, left + self.crop))
            raw = replace(raw, s1=raw.s1[(slice(None),) + win], label=raw.label[win], valid=raw.valid[win],
                          s2=None if raw.s2 is None else raw.s2[(slice(None),) + win])
        sample = to_sample(raw, self.s1_bands)
        if self.train:
            water = raw.label == 1
            if not (raw.label >= 0).any():  # unlabelled: where VH alone says water
                water = raw.s1[1] < PROXY_WATER_VH_DB
            raw = replace(raw, s1=augment_db(raw.s1, raw.valid, rng, self.config, water))
            sample["s1_clean"] = sample["s1"]
            sample["s1"] = to_sample(raw, self.s1_bands)["s1"]
        return sample

    def __repr__(self) -> str:
        return f"DbSamples({self.dataset!r}, train={self.train})"
