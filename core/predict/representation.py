"""How raw input values become network input (recorded in each checkpoint).

``ckpt["bands"]`` says what the raw input is (and is what inference checks the
input against). ``ckpt["input_transform"]`` names the transform; floodkd reads
only ``clip_scale``, the paper's: clip each band to its range and scale to
[0, 1]; invalid pixels become 0. Checkpoints naming another transform are
refused when they are loaded (core/models/checkpoint.check_input_transform).

Both versions below give the same float32 values, bit for bit, as the
original per-tile ``normalise_stack`` + ``nan_to_num`` + masking: the same
float32 clip, subtraction and division in the same order (NaN, which the
clip kept and ``nan_to_num`` then made 0, is first raised to the band's low
end, which scales to exactly 0), in place and in one pass per step instead of
per-tile copies, an ``np.stack`` and three passes of ``nan_to_num``.
"""
from __future__ import annotations

import numpy as np


def _check(raw, bands):
    if raw.shape[1] != len(bands):
        names = ", ".join(s.name for s in bands)
        raise ValueError(f"got {raw.shape[1]} bands, the band spec expects {len(bands)} ({names})")


def model_input(raw: np.ndarray, valid: np.ndarray, bands, ckpt: dict) -> np.ndarray:
    """(N, C, H, W) raw values in the checkpoint's bands -> (N, C, H, W) float32 network input."""
    _check(raw, bands)
    x = np.array(raw, dtype=np.float32, copy=True)
    for c, spec in enumerate(bands):
        band = x[:, c]
        np.fmax(band, np.float32(spec.low), out=band)  # NaN -> low (scales to 0); nothing else changes
        np.clip(band, spec.low, spec.high, out=band)
        np.subtract(band, np.float32(spec.low), out=band)
        np.divide(band, np.float32(spec.high - spec.low), out=band)
    np.copyto(x, np.float32(0.0), where=~valid[:, None])
    return x


def model_input_torch(raw, valid, bands):
    """``model_input`` on torch tensors where they lie (a GPU: no float32 copy of the input on the host).

    ``raw`` (N, C, H, W) float32, ``valid`` (N, H, W) bool. The range is a
    tensor, not a Python number: CUDA divides by a scalar as a multiplication
    by its reciprocal, which can differ from the division in the last bit.
    """
    import torch

    _check(raw, bands)
    low, high, span = _band_tensors(tuple(bands), raw.device)
    x = torch.fmax(raw, low)
    x = torch.minimum(torch.maximum(x, low), high)  # np.clip, band by band
    x = (x - low) / span
    return x.masked_fill(~valid[:, None], 0.0)


_BAND_TENSORS = {}


def _band_tensors(bands, device):
    """(low, high, high - low) as (1, C, 1, 1) float32 tensors on ``device``, made once (no copy per batch)."""
    key = (bands, str(device))
    if key not in _BAND_TENSORS:
        import torch

        def column(values):
            return torch.tensor(np.array(values, np.float32), device=device).reshape(1, len(bands), 1, 1)

        _BAND_TENSORS[key] = (column([s.low for s in bands]), column([s.high for s in bands]),
                              column([s.high - s.low for s in bands]))
    return _BAND_TENSORS[key]
