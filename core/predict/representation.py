"""How raw input values become network input (recorded in each checkpoint).

``ckpt["bands"]`` says what the raw input is (and is what inference checks the
input against). ``ckpt["input_transform"]`` names the transform; floodkd reads
only ``clip_scale``, the paper's: clip each band to its range and scale to
[0, 1]; invalid pixels become 0. Checkpoints naming another transform are
refused when they are loaded (core/models/checkpoint.check_input_transform).
"""
from __future__ import annotations

import numpy as np

from ..bands import normalise_stack


def model_input(raw: np.ndarray, valid: np.ndarray, bands, ckpt: dict) -> np.ndarray:
    """(N, C, H, W) raw values in the checkpoint's bands -> (N, C, H, W) float32 network input."""
    x = np.stack([normalise_stack(tile, bands) for tile in raw])
    x = np.nan_to_num(x, nan=0.0)
    x[np.broadcast_to(~valid[:, None], x.shape)] = 0.0
    return x.astype(np.float32, copy=False)
