"""Physical perturbations of Sentinel-1 VV/VH backscatter in dB, for training and stress tests.

Each function takes ``s1`` (2, H, W) float dB with VV first and VH second and
returns a new array; pixels outside ``where`` (a bool mask) are untouched, so
the tests can check the physics exactly. Why each one exists:

* :func:`roughen_water`: wind (Bragg scattering from capillary waves) raises
  the co-polarised VV over open water far more than the cross-polarised VH
  (VV by several dB up to about 10 dB at moderate wind; VH by a small fraction
  of that). A negative ``vv_db`` is the opposite: calm water, darker VV.
* :func:`flood_vegetation`: water under sparse vegetation returns double-bounce
  (trunk/stem and water surface), which raises VV strongly and VH moderately;
  the pixel is still water.
* :func:`offset`: calibration or processor offsets move both bands together.
* :func:`speckle` / :func:`multilook`: fewer looks (stronger speckle) or more
  (smoother) than the training data, applied in linear power.
* :func:`incidence_ramp`: backscatter falls with incidence angle across a swath.
"""
from __future__ import annotations

import numpy as np

VV, VH = 0, 1


def smooth_field(shape, rng, scale: int = 32, low: float = 0.5) -> np.ndarray:
    """A smooth random field in [low, 1] (bilinear upsampling of a coarse grid): wind varies in space."""
    h, w = shape
    gh, gw = max(2, h // scale + 2), max(2, w // scale + 2)
    coarse = rng.uniform(low, 1.0, size=(gh, gw)).astype(np.float32)
    yy = np.linspace(0, gh - 1, h, dtype=np.float32)
    xx = np.linspace(0, gw - 1, w, dtype=np.float32)
    y0 = np.minimum(yy.astype(int), gh - 2)
    x0 = np.minimum(xx.astype(int), gw - 2)
    fy, fx = (yy - y0)[:, None], (xx - x0)[None, :]
    a, b = coarse[y0][:, x0], coarse[y0][:, x0 + 1]
    c, d = coarse[y0 + 1][:, x0], coarse[y0 + 1][:, x0 + 1]
    return (a * (1 - fy) * (1 - fx) + b * (1 - fy) * fx + c * fy * (1 - fx) + d * fy * fx).astype(np.float32)


def roughen_water(s1: np.ndarray, water: np.ndarray, vv_db: float, vh_db: float = 0.0,
                  field: np.ndarray | None = None) -> np.ndarray:
    """Raise VV by ``vv_db`` and VH by ``vh_db`` over ``water`` (times ``field`` when given)."""
    out = s1.astype(np.float32, copy=True)
    gain = np.ones(water.shape, np.float32) if field is None else field.astype(np.float32)
    out[VV][water] += np.float32(vv_db) * gain[water]
    out[VH][water] += np.float32(vh_db) * gain[water]
    return out


def flood_vegetation(s1: np.ndarray, area: np.ndarray, vv_db: float, vh_db: float) -> np.ndarray:
    """Double bounce over flooded vegetation: VV up by ``vv_db``, VH by ``vh_db``, inside ``area``."""
    return roughen_water(s1, area, vv_db, vh_db)


def offset(s1: np.ndarray, valid: np.ndarray, db: float, per_band=(0.0, 0.0)) -> np.ndarray:
    """Add ``db`` (+ ``per_band``) to every valid pixel: a calibration offset."""
    out = s1.astype(np.float32, copy=True)
    for b in range(out.shape[0]):
        out[b][valid] += np.float32(db + per_band[b])
    return out


def speckle(s1: np.ndarray, valid: np.ndarray, looks: float, rng) -> np.ndarray:
    """Multiply linear power by Gamma(looks, 1/looks) noise (mean 1): stronger speckle."""
    out = s1.astype(np.float32, copy=True)
    gamma = rng.gamma(looks, 1.0 / looks, size=out.shape).astype(np.float32)
    noisy = out + 10.0 * np.log10(np.maximum(gamma, 1e-6))
    out[:, valid] = noisy[:, valid]
    return out


def multilook(s1: np.ndarray, valid: np.ndarray, k: int = 3) -> np.ndarray:
    """k x k mean of linear power over valid pixels (smoother products, e.g. RTC or filtered GRD)."""
    from .db_augment import box_mean

    out = s1.astype(np.float32, copy=True)
    power = 10.0 ** (out / 10.0)
    weights = np.broadcast_to(valid, out.shape).astype(np.float32)
    smooth = 10.0 * np.log10(np.maximum(box_mean(power, weights, k), 1e-6))
    out[:, valid] = smooth[:, valid]
    return out


def incidence_ramp(s1: np.ndarray, valid: np.ndarray, db: float, angle: float) -> np.ndarray:
    """A linear ramp of ``db`` from one side of the chip to the other, direction ``angle`` (radians)."""
    out = s1.astype(np.float32, copy=True)
    h, w = valid.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    along = np.cos(angle) * xx / max(w - 1, 1) + np.sin(angle) * yy / max(h - 1, 1)
    ramp = np.float32(db) * (along - along.mean())
    out[:, valid] += ramp[valid]
    return out


def blob(shape, rng, fraction: float = 0.3) -> np.ndarray:
    """A random smooth blob covering about ``fraction`` of the chip (an area of flooded fields)."""
    field = smooth_field(shape, rng, scale=max(8, min(shape) // 4), low=0.0)
    return field >= np.quantile(field, 1.0 - fraction)
