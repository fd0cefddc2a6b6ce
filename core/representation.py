"""How raw input values become network input (recorded in each checkpoint).

``clip_scale`` (default) is the paper's: clip each band to its range and scale
to [0, 1]; invalid pixels become 0.
"""
from __future__ import annotations

import numpy as np

from .bands import normalise_stack


def model_input(raw: np.ndarray, valid: np.ndarray, bands, ckpt: dict) -> np.ndarray:
    """(N, C, H, W) raw values -> (N, C, H, W) float32 network input."""
    kind = ckpt.get("input_transform", "clip_scale")
    if kind != "clip_scale":
        raise ValueError(f"unknown input transform '{kind}' in checkpoint")
    x = np.stack([normalise_stack(tile, bands) for tile in raw])
    x[np.broadcast_to(~valid[:, None], x.shape)] = 0.0
    return x.astype(np.float32, copy=False)
