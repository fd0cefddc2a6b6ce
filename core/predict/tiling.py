"""Overlapping tile layout and blend weights for seamless tiled inference."""
from __future__ import annotations

import numpy as np


def tile_starts(length: int, tile: int, overlap: int) -> list:
    """Start offsets of tiles of size ``min(tile, length)`` covering [0, length).

    Consecutive tiles overlap by at least ``overlap`` pixels; the last tile ends
    exactly at ``length``, so no tile reaches outside the scene.
    """
    if length <= 0:
        raise ValueError(f"length must be positive, got {length}")
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must be in [0, tile), got overlap={overlap}, tile={tile}")
    size = min(tile, length)
    if size == length:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - size, step))
    starts.append(length - size)
    return starts


def blend_weights(height: int, width: int, overlap: int, floor: float = 1e-3) -> np.ndarray:
    """A (height, width) weight map ramping from ``floor`` at the edges to 1 inside.

    Overlapping predictions are averaged with these weights, so tile borders,
    where the network sees least context, count least and no seams show.
    """
    def ramp(n):
        if overlap <= 0:
            return np.ones(n, np.float32)
        idx = np.arange(n, dtype=np.float32)
        dist = np.minimum(idx + 0.5, n - idx - 0.5)
        return np.clip(dist / overlap, floor, 1.0).astype(np.float32)

    return np.outer(ramp(height), ramp(width))
