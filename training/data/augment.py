"""Training augmentation: random crop and flips, and student-input jitter.

Geometric augmentation (:class:`Augmented`) runs per sample in numpy and is
applied identically to ``s1``, ``s2``, ``label`` and ``valid``. Its random
numbers come from ``(seed, epoch, index)``, so an epoch is reproduced exactly
on resume, in any DataLoader worker and on any DDP rank.

Brightness/contrast jitter (:func:`jitter`) runs on the batched student input
only (the teacher sees clean S1+S2), with a torch generator the trainer seeds
from ``(seed, epoch, step)``.
"""
from __future__ import annotations

import numpy as np

IGNORE = -1
# Arrays cropped and flipped together; ``s1_clean`` is the un-augmented S1 that a
# Sentinel-1 teacher sees (training/data/db_augment.py).
SPATIAL_KEYS = ("s1", "s1_clean", "s2", "label", "valid")


def crop_or_pad(sample: dict, top: int, left: int, size: int) -> dict:
    """Cut a ``size`` x ``size`` window; areas outside the chip become invalid.

    Padding gives zeros in the images, ``-1`` in the label and False in ``valid``.
    """
    out = dict(sample)
    for key in SPATIAL_KEYS:
        if key not in sample:
            continue
        arr = sample[key]
        h, w = arr.shape[-2:]
        fill = IGNORE if key == "label" else (False if key == "valid" else 0)
        shape = arr.shape[:-2] + (size, size)
        window = np.full(shape, fill, dtype=arr.dtype)
        b, r = min(h, top + size), min(w, left + size)
        t, l = max(0, top), max(0, left)
        if b > t and r > l:
            window[..., t - top:b - top, l - left:r - left] = arr[..., t:b, l:r]
        out[key] = window
    return out


def random_window(h: int, w: int, size: int, rng) -> tuple:
    """Top-left corner of a random ``size`` window (centred padding if too small)."""
    top = int(rng.integers(0, h - size + 1)) if h >= size else -((size - h) // 2)
    left = int(rng.integers(0, w - size + 1)) if w >= size else -((size - w) // 2)
    return top, left


def flip(sample: dict, horizontal: bool, vertical: bool) -> dict:
    """Flip all spatial arrays of a sample the same way."""
    out = dict(sample)
    for key in SPATIAL_KEYS:
        if key in sample:
            arr = sample[key]
            if horizontal:
                arr = arr[..., :, ::-1]
            if vertical:
                arr = arr[..., ::-1, :]
            out[key] = np.ascontiguousarray(arr)
    return out


def complete(sample: dict) -> dict:
    """Fill in ``valid`` when missing and mark invalid pixels ``-1`` in the label."""
    out = dict(sample)
    label = np.asarray(out["label"], dtype=np.int64)
    valid = np.asarray(out.get("valid", np.ones(label.shape, bool)), dtype=bool)
    out["label"] = np.where(valid, label, IGNORE).astype(np.int64)
    out["valid"] = valid
    return out


class Augmented:
    """Wrap a dataset with seeded random crop and flips (map-style).

    Args:
        dataset: a floodkd dataset (see training/data/datasets.py for the contract).
        crop: side of the square crop in pixels; None or 0 keeps the full chip.
        flips: draw horizontal and vertical flips with probability 0.5 each.
        seed: base seed; the crop and flips of item ``i`` in epoch ``e`` depend
            only on ``(seed, e, i)``.
        train: False gives a deterministic centre crop and no flips.
    """

    def __init__(self, dataset, crop: int | None = None, flips: bool = True, seed: int = 0,
                 train: bool = True):
        self.dataset, self.crop, self.flips, self.seed, self.train = dataset, crop, flips, seed, train
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        if hasattr(self.dataset, "set_epoch"):  # per-sample augmentation inside (DbSamples)
            self.dataset.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        sample = complete(self.dataset[index])
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        h, w = sample["label"].shape
        if self.crop:
            if self.train:
                top, left = random_window(h, w, self.crop, rng)
            else:
                top, left = (h - self.crop) // 2, (w - self.crop) // 2
            sample = crop_or_pad(sample, top, left, self.crop)
        if self.train and self.flips:
            hflip, vflip = rng.random(2) < 0.5
            sample = flip(sample, bool(hflip), bool(vflip))
        return sample


def jitter(x, generator, brightness: float = 0.1, contrast: float = 0.1, valid=None):
    """Random brightness/contrast per sample of a batch (student input only).

    ``x' = (x - mean) * c + mean + b`` with ``c ~ U(1 - contrast, 1 + contrast)``
    and ``b ~ U(-brightness, brightness)``, one draw per sample for all its
    channels; ``mean`` is the sample's mean over valid pixels. Invalid pixels
    stay 0.

    Args:
        x: ``(B, C, H, W)`` float tensor.
        generator: a ``torch.Generator`` on the CPU (for reproducibility).
        brightness: half-width of the additive shift (0 disables).
        contrast: half-width of the multiplicative factor around 1 (0 disables).
        valid: optional ``(B, H, W)`` bool tensor.
    """
    import torch

    if brightness <= 0 and contrast <= 0:
        return x
    n = x.shape[0]
    c = 1 + (torch.rand(n, generator=generator) * 2 - 1) * contrast
    b = (torch.rand(n, generator=generator) * 2 - 1) * brightness
    c = c.to(x.device, x.dtype).view(n, 1, 1, 1)
    b = b.to(x.device, x.dtype).view(n, 1, 1, 1)
    if valid is None:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        return (x - mean) * c + mean + b
    m = valid.unsqueeze(1).to(x.dtype)
    count = (m.sum(dim=(1, 2, 3), keepdim=True) * x.shape[1]).clamp(min=1)
    mean = (x * m).sum(dim=(1, 2, 3), keepdim=True) / count
    return ((x - mean) * c + mean + b) * m
