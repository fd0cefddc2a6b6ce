"""What the predictors share (none of them imports another): CPU threads, the bundled model.

A predictor takes raw tiles ``(N, C, H, W)`` float32 in the input's units
(invalid pixels already zeroed) with a valid mask ``(N, H, W)`` and returns the
water probability ``(N, H, W)`` float32 in [0, 1]; ``prepare(source, progress)``
runs once before the first tile and ``describe()`` says what was used.
"""
from __future__ import annotations

import os

import numpy as np

# core/predict/common.py -> the package root, where resources/ lies
RESOURCES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "resources")
DEFAULT_MODEL = os.path.join(RESOURCES, "models", "floodkd_s1_student.pt")


def default_model_path():
    """The bundled student checkpoint, or None when it is absent."""
    return DEFAULT_MODEL if os.path.isfile(DEFAULT_MODEL) else None


def cpu_threads(threads: int = 0) -> int:
    """Threads for CPU inference: ``threads`` if > 0, else the CPUs this process may use."""
    if threads and threads > 0:
        return int(threads)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def below_threshold_probability(vh: np.ndarray, threshold_db: float) -> np.ndarray:
    """Water probability of a VH threshold: a logistic of the dB distance below it (1 dB scale),
    so a probability cut of 0.5 is exactly the dB split (Otsu and the fixed threshold)."""
    z = np.subtract(vh, np.float32(threshold_db), dtype=np.float32)
    np.clip(z, -50, 50, out=z)  # the same float32 operations as 1 / (1 + exp(clip(z))), in place
    np.exp(z, out=z)
    np.add(z, 1.0, out=z)
    return np.divide(1.0, z, out=z)


def check_finite_probabilities(probs: np.ndarray, valid: np.ndarray, model, where: str = "") -> np.ndarray:
    """``probs`` when every valid pixel's water probability is finite, else a CheckpointError naming ``model``
    (a path, or a predictor: its describe()'s model).

    A model with finite weights can still output NaN (a negative BatchNorm
    variance, overflow, a graph that multiplies by NaN); thresholding NaN
    would give a silent all-dry map. Called once per batch of tiles.
    """
    if np.isfinite(probs).all() or np.isfinite(probs[np.broadcast_to(valid, probs.shape)]).all():
        return probs
    from ..errors import CheckpointError

    if not isinstance(model, str):
        model = model.describe().get("model") or model.name
    raise CheckpointError(
        f"the model {model} gave NaN or infinite water probabilities{' for ' + where if where else ''}, so its "
        "map would be wrong; nothing was written. The model is broken (e.g. a negative BatchNorm variance, "
        "overflowing weights, or a graph that produces NaN): use an intact copy, retrain or re-export it, or "
        "use method 'otsu' or 'threshold'.")
