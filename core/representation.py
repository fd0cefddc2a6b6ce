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
  OMBRIA PNG bytes during training. With ``smooth`` = k > 1 the band is first
  averaged over k x k pixels in linear power (valid pixels only), because
  OMBRIA's images are much smoother pixel to pixel than 10 m GRD (median
  neighbour difference 2-4 bytes against ~1 dB = ~8 bytes). OMBRIA does not document its scaling; the
  constants are calibrated (see resources/models/floodkd_s1_student.md) and
  stored in the checkpoint, so a better calibration needs no code change.
  Invalid pixels become 0.
"""
from __future__ import annotations

import numpy as np

from .bands import normalise_stack

TRANSFORMS = ("clip_scale", "db_to_ombria_byte")
# VV dB -> OMBRIA byte; used when a checkpoint names the transform but no constants.
OMBRIA_BYTE_DEFAULTS = {"band": "VV", "offset": 246.0, "scale": 7.6, "smooth": 1}


def transform_channels(kind: str, n_bands: int) -> int:
    """Channels the network sees under transform ``kind`` for ``n_bands`` raw bands."""
    if kind == "clip_scale":
        return n_bands
    if kind == "db_to_ombria_byte":
        return 1
    raise ValueError(f"unknown input transform '{kind}'; known: {', '.join(TRANSFORMS)}")


def _clip_scale(raw, bands):
    return np.stack([normalise_stack(tile, bands) for tile in raw])


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


def _db_to_ombria_byte(raw, valid, bands, params):
    p = {**OMBRIA_BYTE_DEFAULTS, **(params or {})}
    names = [b.name for b in bands]
    if p["band"] not in names:
        raise ValueError(f"input transform db_to_ombria_byte needs band {p['band']}; the checkpoint "
                         f"declares {', '.join(names)}")
    index = names.index(p["band"])
    if bands[index].units != "dB":
        raise ValueError(f"input transform db_to_ombria_byte needs {p['band']} in dB, the checkpoint "
                         f"declares {bands[index].units}")
    db = raw[:, index].astype(np.float64)
    k = int(p.get("smooth", 1))
    if k > 1:
        w = valid.astype(np.float64)
        power = np.power(10.0, np.clip(np.nan_to_num(db, nan=-50.0), -50.0, 30.0) / 10.0)
        db = 10.0 * np.log10(np.maximum(box_mean(power, w, k), 1e-5))
    db = db[:, None].astype(np.float32)
    byte = np.clip(np.float32(p["offset"]) + np.float32(p["scale"]) * db, 0.0, 255.0)
    return byte / np.float32(255.0)


def model_input(raw: np.ndarray, valid: np.ndarray, bands, ckpt: dict) -> np.ndarray:
    """(N, C, H, W) raw values in the checkpoint's bands -> (N, C', H, W) float32 network input."""
    kind = ckpt.get("input_transform", "clip_scale")
    if kind == "clip_scale":
        x = _clip_scale(raw, bands)
    elif kind == "db_to_ombria_byte":
        x = _db_to_ombria_byte(raw, valid, bands, ckpt.get("input_params"))
    else:
        raise ValueError(f"unknown input transform '{kind}' in checkpoint; known: {', '.join(TRANSFORMS)}. "
                         "Upgrade floodkd or use a checkpoint written by this version.")
    x = np.nan_to_num(x, nan=0.0)
    x[np.broadcast_to(~valid[:, None], x.shape)] = 0.0
    return x.astype(np.float32, copy=False)
