"""Band specifications and the paper's normalisation.

Garg et al. clip VV to [-20, 0] dB, VH to [-30, 0] dB and Sentinel-2 bands to
[0, 3000] (reflectance x 10000), then scale each to [0, 1]. A checkpoint stores
its band specs, so inference normalises exactly as training did.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class BandSpec:
    """One input band: what it is, its units and its clip range."""

    name: str
    sensor: str
    units: str
    low: float
    high: float

    def normalise(self, values: np.ndarray) -> np.ndarray:
        """Clip to [low, high] and scale to [0, 1] (float32; NaN stays NaN)."""
        out = np.clip(values.astype(np.float32, copy=False), self.low, self.high)
        return (out - self.low) / np.float32(self.high - self.low)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "BandSpec":
        return cls(**{k: data[k] for k in ("name", "sensor", "units", "low", "high")})


VV = BandSpec("VV", "S1", "dB", -20.0, 0.0)
VH = BandSpec("VH", "S1", "dB", -30.0, 0.0)
S1_BANDS = (VV, VH)
S2_BANDS = tuple(BandSpec(b, "S2", "reflectance_x10000", 0.0, 3000.0) for b in ("B2", "B3", "B4", "B8"))
S1S2_BANDS = S1_BANDS + S2_BANDS

# Sentinel-2 L1C/L2A 13-band order as stored by Sen1Floods11 and TerraMind.
S2_13_BAND_ORDER = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")


def normalise_stack(data: np.ndarray, specs) -> np.ndarray:
    """Normalise a (bands, H, W) array band by band with ``specs``."""
    if data.shape[0] != len(specs):
        names = ", ".join(s.name for s in specs)
        raise ValueError(f"got {data.shape[0]} bands, the band spec expects {len(specs)} ({names})")
    return np.stack([spec.normalise(band) for spec, band in zip(specs, data)])


def describe(specs) -> str:
    """Human-readable list, e.g. 'VV [dB, -20..0], VH [dB, -30..0]'."""
    return ", ".join(f"{s.name} [{s.units}, {s.low:g}..{s.high:g}]" for s in specs)
