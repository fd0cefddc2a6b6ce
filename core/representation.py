"""How raw input values become network input (recorded in each checkpoint).

``ckpt["input_transform"]`` names the transform, ``ckpt.get("input_params")``
holds its constants, ``ckpt["bands"]`` says what the raw input is (and is what
inference checks the input against) and ``ckpt["in_channels"]`` what the
network sees.

* ``clip_scale`` (default) is the paper's: clip each band to its range and
  scale to [0, 1]; invalid pixels become 0.
* ``db_to_ombria_byte``: Sentinel-1 backscatter in dB (bands VV, VH) becomes
  the single 8-bit-like channel of the OMBRIA dataset a model was trained on:
  ``clip(offset + scale * dB(band), 0, 255) / 255`` for one band (VV by
  default), which is exactly what ``clip_scale`` gave the network for the
  OMBRIA PNG bytes during training. OMBRIA does not document its scaling; the
  constants are calibrated (see resources/models/floodkd_s1_student.md) and
  stored in the checkpoint, so a better calibration needs no code change.
  Invalid pixels become 0.
"""
from __future__ import annotations

import numpy as np

from .bands import normalise_stack

TRANSFORMS = ("clip_scale", "db_to_ombria_byte")
# VV dB -> OMBRIA byte; used when a checkpoint names the transform but no constants.
OMBRIA_BYTE_DEFAULTS = {"band": "VV", "offset": 246.0, "scale": 8.3}


def transform_channels(kind: str, n_bands: int) -> int:
    """Channels the network sees under transform ``kind`` for ``n_bands`` raw bands."""
    if kind == "clip_scale":
        return n_bands
    if kind == "db_to_ombria_byte":
        return 1
    raise ValueError(f"unknown input transform '{kind}'; known: {', '.join(TRANSFORMS)}")


def _clip_scale(raw, bands):
    return np.stack([normalise_stack(tile, bands) for tile in raw])


def _db_to_ombria_byte(raw, bands, params):
    p = {**OMBRIA_BYTE_DEFAULTS, **(params or {})}
    names = [b.name for b in bands]
    if p["band"] not in names:
        raise ValueError(f"input transform db_to_ombria_byte needs band {p['band']}; the checkpoint "
                         f"declares {', '.join(names)}")
    index = names.index(p["band"])
    if bands[index].units != "dB":
        raise ValueError(f"input transform db_to_ombria_byte needs {p['band']} in dB, the checkpoint "
                         f"declares {bands[index].units}")
    db = raw[:, index:index + 1].astype(np.float32, copy=False)
    byte = np.clip(np.float32(p["offset"]) + np.float32(p["scale"]) * db, 0.0, 255.0)
    return byte / np.float32(255.0)


def model_input(raw: np.ndarray, valid: np.ndarray, bands, ckpt: dict) -> np.ndarray:
    """(N, C, H, W) raw values in the checkpoint's bands -> (N, C', H, W) float32 network input."""
    kind = ckpt.get("input_transform", "clip_scale")
    if kind == "clip_scale":
        x = _clip_scale(raw, bands)
    elif kind == "db_to_ombria_byte":
        x = _db_to_ombria_byte(raw, bands, ckpt.get("input_params"))
    else:
        raise ValueError(f"unknown input transform '{kind}' in checkpoint; known: {', '.join(TRANSFORMS)}. "
                         "Upgrade floodkd or use a checkpoint written by this version.")
    x = np.nan_to_num(x, nan=0.0)
    x[np.broadcast_to(~valid[:, None], x.shape)] = 0.0
    return x.astype(np.float32, copy=False)
